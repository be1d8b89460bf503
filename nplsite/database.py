"""Keeping PostgreSQL's plans good and page queries bounded (nothing here on SQLite).

- :func:`refresh_planner_statistics`: ``ANALYZE`` the tables a bulk write just filled (an import,
  a batch of predictions). Until autovacuum's own analyze comes round, minutes later, the planner
  would guess from the tables' old sizes — after a 250,000-row batch the applicants page sorted the
  whole predictions table for 30 s. (``ANALYZE`` has no ORM form.)
- :func:`page_statement_timeout`: pages run their queries under ``statement_timeout``
  (``PAGE_STATEMENT_TIMEOUT_SECONDS``), so a slow plan is cancelled by the database and answered in
  words (``nplsite/middleware.py``) instead of holding the web worker until it is killed while the
  query runs on.
"""

from __future__ import annotations

import contextlib

from django.conf import settings
from django.db import DatabaseError, connection

# PostgreSQL's query_canceled: the statement ran longer than statement_timeout.
STATEMENT_TIMEOUT_PGCODE = "57014"


def refresh_planner_statistics(*models) -> None:
    """PostgreSQL: ``ANALYZE`` the tables of ``models`` after a bulk write."""
    if connection.vendor != "postgresql" or not models:
        return
    with connection.cursor() as cursor:
        tables = [connection.ops.quote_name(model._meta.db_table) for model in models]
        cursor.execute(f"ANALYZE {', '.join(tables)}")


@contextlib.contextmanager
def page_statement_timeout():
    """PostgreSQL: every statement inside is cancelled after ``PAGE_STATEMENT_TIMEOUT_SECONDS``
    (the connection's setting is put back afterwards: a kept connection serves the API next)."""
    seconds = settings.PAGE_STATEMENT_TIMEOUT_SECONDS
    if connection.vendor != "postgresql" or not seconds:
        yield
        return
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT set_config('statement_timeout', %s, false)", [f"{int(seconds * 1000)}ms"])
    except DatabaseError:  # the database is down: the page's own queries fail and are answered in words
        yield
        return
    try:
        yield
    finally:
        with contextlib.suppress(Exception), connection.cursor() as cursor:  # a broken connection is closed anyway
            cursor.execute("SELECT set_config('statement_timeout', '0', false)")


def is_statement_timeout(exc: BaseException) -> bool:
    cause = exc.__cause__ or exc
    return getattr(cause, "pgcode", None) == STATEMENT_TIMEOUT_PGCODE
