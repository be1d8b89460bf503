"""Readiness checks behind ``/healthz``: database, broker, active model.

The active-model check belongs to the training app; ``settings.HEALTHCHECK_ACTIVE_MODEL`` names it
(``training.health.check_active_model``), so this site-wide module does not import the apps.

The database check sends ``SELECT 1`` on a cursor, the one raw statement here: the cheapest round
trip that proves the connection works, without reading any table.

Each check runs in its own daemon thread and is given ``HEALTHCHECK_TIMEOUT_SECONDS``; a check
that hangs (a firewalled database, a stuck broker) is reported down instead of hanging the answer.
"""

import os
import threading
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings
from django.db import connections
from django.utils.module_loading import import_string


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


def broker_label() -> str:
    return settings.CELERY_BROKER_URL.split(":", 1)[0] or "unknown"


def run_health_checks() -> dict:
    timeout = settings.HEALTHCHECK_TIMEOUT_SECONDS
    database = _run_with_timeout(_check_database, timeout)
    broker = _run_with_timeout(_check_broker, timeout)
    check_active_model = import_string(settings.HEALTHCHECK_ACTIVE_MODEL)
    model = _run_with_timeout(check_active_model, timeout) if database.ok else CheckResult(False, "database down")
    return {
        "status": "ok" if database.ok and broker.ok and model.ok else "degraded",
        "database": {"ok": database.ok, "detail": database.detail if database.ok else "unreachable"},
        "broker": {"ok": broker.ok, "kind": broker_label(), "detail": broker.detail},
        "active_model": {"ok": model.ok, "detail": model.detail},
    }
