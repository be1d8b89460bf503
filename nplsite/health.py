"""Readiness checks behind ``/healthz``: database, broker, active model.

Each check runs in its own daemon thread and is given ``HEALTHCHECK_TIMEOUT_SECONDS``; a check
that hangs (a firewalled database, a stuck broker) is reported down instead of hanging the answer.
"""

import threading
from dataclasses import dataclass

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
    return outcome[0]


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
    from nplsite.celery import app

    with app.connection_for_write() as conn:
        conn.ensure_connection(max_retries=1, interval_start=0, interval_step=0, timeout=settings.HEALTHCHECK_TIMEOUT_SECONDS)
        return CheckResult(True, conn.transport_cls if isinstance(conn.transport_cls, str) else "connected")


def _check_active_model() -> CheckResult:
    from training.selectors import get_active_model_version

    try:
        version = get_active_model_version()
    finally:
        connections["default"].close()
    if version is None:
        return CheckResult(False, "no active model version")
    return CheckResult(True, version.name)


def broker_label() -> str:
    return "redis" if settings.REDIS_URL else "filesystem (embedded)"


def run_health_checks() -> dict:
    timeout = settings.HEALTHCHECK_TIMEOUT_SECONDS
    database = _run_with_timeout(_check_database, timeout)
    broker = _run_with_timeout(_check_broker, timeout)
    model = _run_with_timeout(_check_active_model, timeout) if database.ok else CheckResult(False, "database down")
    return {
        "status": "ok" if database.ok and broker.ok and model.ok else "degraded",
        "database": {"ok": database.ok, "detail": database.detail if database.ok else "unreachable"},
        "broker": {"ok": broker.ok, "kind": broker_label(), "detail": "reachable" if broker.ok else broker.detail},
        "active_model": {"ok": model.ok, "detail": model.detail},
    }
