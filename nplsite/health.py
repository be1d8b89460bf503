"""Readiness checks behind ``/healthz``: database, broker, active model.

Each check runs in its own daemon thread and is given ``HEALTHCHECK_TIMEOUT_SECONDS``; a check
that hangs (a firewalled database, a stuck broker) is reported down instead of hanging the answer.
"""

import os
import threading
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings
from django.db import connections


@dataclass
class CheckResult:
    ok: bool
    detail: str


def _run_with_timeout(check, timeout: float) -> CheckResult:
    outcome: list[CheckResult] = []

    def target():
        try:
            outcome.append(check())
        except Exception as exc:  # a health check reports failures, it does not raise them
            outcome.append(CheckResult(False, f"{type(exc).__name__}: {exc}"))

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(timeout)
    if not outcome:
        return CheckResult(False, f"no answer within {timeout:g} s")
    return CheckResult(outcome[0].ok, _without_secrets(outcome[0].detail))


def _without_secrets(text: str) -> str:
    """Error texts may quote a connection URL; never let a password through."""
    for url in (settings.CELERY_BROKER_URL, settings.DATABASE_URL):
        password = urlsplit(url).password
        if password:
            text = text.replace(password, "***")
    return text


def _check_database() -> CheckResult:
    connection = connections["default"]
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    finally:
        connection.close()  # this thread's own connection
    return CheckResult(True, connection.vendor)


def _check_broker() -> CheckResult:
    from kombu import Connection

    timeout = settings.HEALTHCHECK_TIMEOUT_SECONDS
    options = dict(settings.CELERY_BROKER_TRANSPORT_OPTIONS)
    if settings.CELERY_BROKER_URL.startswith("redis"):
        options.update(socket_connect_timeout=timeout, socket_timeout=timeout)
    with Connection(settings.CELERY_BROKER_URL, connect_timeout=timeout, transport_options=options) as conn:
        conn.ensure_connection(max_retries=1, interval_start=0, interval_step=0, timeout=timeout)
        if conn.transport_cls == "filesystem":
            folder = options["data_folder_in"]
            if not os.access(folder, os.W_OK):
                return CheckResult(False, f"queue folder {folder} is not writable")
        elif hasattr(conn.default_channel, "client"):
            conn.default_channel.client.ping()  # a round trip proves the server answers
    return CheckResult(True, "reachable")


def _check_active_model() -> CheckResult:
    from training.selectors import get_active_model_version

    try:
        version = get_active_model_version()
    finally:
        connections["default"].close()
    if version is None:
        return CheckResult(False, "no active model version")
    problem = _artifact_problem(version)
    if problem:
        return CheckResult(False, f"{version.name} #{version.pk}: {problem}")
    return CheckResult(True, version.name)


# (artifact path, SHA-256) → stat signature of the file when its bytes last matched that hash.
_verified_artifacts: dict[tuple[str, str], tuple] = {}


def _artifact_problem(version) -> str:
    """Why the active version's artifact is unusable ("" when it is fine), as scoring would find it.

    The file must exist with the recorded size and SHA-256. Hashing is done again only when the
    file's stat signature (inode, size, mtime, ctime) changed since it last matched, so a probe
    every few seconds costs one ``stat``. Names the file, never the server's folders.
    """
    from training.artifacts import ArtifactIntegrityError, artifact_file_signature, read_verified_bytes

    name = os.path.basename(version.artifact_path)
    signature = artifact_file_signature(version.artifact_path)
    if signature is None:
        return f"artifact file {name} is missing"
    if signature[1] != version.artifact_size:
        return f"artifact file {name} is {signature[1]} bytes, {version.artifact_size} recorded"
    key = (version.artifact_path, version.artifact_sha256)
    if _verified_artifacts.get(key) == signature:
        return ""
    try:
        read_verified_bytes(version.artifact_path, version.artifact_sha256, version.artifact_size)
    except ArtifactIntegrityError:
        return f"artifact file {name} does not match its recorded SHA-256"
    _verified_artifacts[key] = signature
    return ""


def broker_label() -> str:
    return settings.CELERY_BROKER_URL.split(":", 1)[0] or "unknown"


def run_health_checks() -> dict:
    timeout = settings.HEALTHCHECK_TIMEOUT_SECONDS
    database = _run_with_timeout(_check_database, timeout)
    broker = _run_with_timeout(_check_broker, timeout)
    model = _run_with_timeout(_check_active_model, timeout) if database.ok else CheckResult(False, "database down")
    return {
        "status": "ok" if database.ok and broker.ok and model.ok else "degraded",
        "database": {"ok": database.ok, "detail": database.detail if database.ok else "unreachable"},
        "broker": {"ok": broker.ok, "kind": broker_label(), "detail": broker.detail},
        "active_model": {"ok": model.ok, "detail": model.detail},
    }
