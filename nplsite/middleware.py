"""A database outage answers 503 Service Unavailable with a short message, never a traceback or a 500.

A database that is only locked (SQLite's busy timeout ran out while another process wrote) answers
503 too, but says the service is busy, with a shorter ``Retry-After``: it is not down. A page whose
query PostgreSQL cancelled after ``PAGE_STATEMENT_TIMEOUT_SECONDS`` (``nplsite/database.py``; the
middleware sets the timeout around every page request) answers 503 saying the page was too slow.

:class:`DatabaseUnavailableMiddleware` turns ``django.db.OperationalError`` and ``InterfaceError``
(connection refused, server gone, the SQLite file unreadable) into 503 with ``Retry-After``:

- the REST API (``/api/…``): JSON ``{"detail": "…"}``, as its other errors;
- the deprecated ``/predict/``: its own shape, ``{"res": [], "error_msg": "…"}``;
- pages: a minimal HTML page (no template: rendering one may itself need the database).

It sits right after ``AuthenticationMiddleware``, and its ``process_view`` resolves the logged-in
user (the session and user queries; ``LoginRequiredMiddleware`` asks for them next on every
request) so an outage there is caught too. If that fails on a view open without a login other
than the APIs (``/healthz``, the login page), the request goes on as anonymous and the view
answers for itself: ``/healthz`` then reports the database down in its own JSON. Exceptions from
the view (the API's token lookup, any query) reach ``process_exception``. Each outage is logged at
ERROR with the request and the driver's message (no stack: the cause is the database, not the code).
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.db import InterfaceError, OperationalError
from django.http import HttpResponse, JsonResponse
from django.utils.html import escape
from django.utils.translation import gettext

from nplsite.database import is_statement_timeout, page_statement_timeout

logger = logging.getLogger("nplsite.database")

DATABASE_ERRORS = (OperationalError, InterfaceError)
RETRY_AFTER_SECONDS = 30
BUSY_RETRY_AFTER_SECONDS = 5


def _is_api(request) -> bool:
    return request.path.startswith(("/api/", "/predict/"))


# SQLite's "database is locked" (the busy timeout ran out while another process wrote); PostgreSQL's
# lock_not_available (a lock_timeout ran out). The database is up, only busy.
BUSY_SQLITE_MESSAGES = ("database is locked", "database table is locked")
BUSY_POSTGRESQL_CODES = {"55P03"}


def database_is_busy(exc: Exception) -> bool:
    """Whether ``exc`` says the database is locked by other work rather than unreachable."""
    cause = exc.__cause__ or exc
    return str(exc).strip().lower() in BUSY_SQLITE_MESSAGES or getattr(cause, "pgcode", None) in BUSY_POSTGRESQL_CODES


def database_unavailable_response(request, exc: Exception) -> HttpResponse:
    """The 503 answer for ``request`` when the database failed with ``exc`` (locked, too slow for a
    page, or unreachable)."""
    if is_statement_timeout(exc):
        logger.warning(
            "Page query cancelled after its statement timeout for %s %s: %s", request.method, request.path, exc
        )
        message = gettext(
            "This page took longer than %(seconds)s seconds to read from the database, so it was stopped to keep "
            "the service responsive. Narrow the filters or sort by another column and try again; if it keeps "
            "happening, tell the administrator."
        ) % {"seconds": f"{settings.PAGE_STATEMENT_TIMEOUT_SECONDS:g}"}
        retry_after = RETRY_AFTER_SECONDS
    elif database_is_busy(exc):
        logger.warning("Database busy for %s %s: %s", request.method, request.path, exc)
        message = gettext(
            "The service is busy: its database is locked by other work (such as a large batch). "
            "Try again in a few seconds."
        )
        retry_after = BUSY_RETRY_AFTER_SECONDS
    else:
        logger.error("Database unavailable for %s %s: %s: %s", request.method, request.path, type(exc).__name__, exc)
        message = gettext(
            "The service is temporarily unavailable: its database cannot be reached. Try again in a minute; "
            "if this persists, tell the administrator."
        )
        retry_after = RETRY_AFTER_SECONDS
    if request.path.startswith("/api/"):
        response = JsonResponse({"detail": message}, status=503)
    elif request.path.startswith("/predict/"):
        response = JsonResponse({"res": [], "error_msg": message}, status=503)
    else:
        title = gettext("Service temporarily unavailable")
        page = (
            f'<!doctype html><html><head><meta charset="utf-8"><title>{escape(title)}</title></head>'
            f"<body><h1>{escape(title)}</h1><p>{escape(message)}</p></body></html>"
        )
        response = HttpResponse(page, status=503, content_type="text/html; charset=utf-8")
    response["Retry-After"] = str(retry_after)
    response["Cache-Control"] = "no-store"
    return response


class DatabaseUnavailableMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if _is_api(request):
            return self.get_response(request)
        with page_statement_timeout():  # PostgreSQL: a slow page query is cancelled, then answered below
            return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        user = getattr(request, "user", None)
        if user is None:
            return None
        try:
            user.is_authenticated  # noqa: B018 (evaluates the lazy user: session and user queries)
        except DATABASE_ERRORS as exc:
            if getattr(view_func, "login_required", True) or _is_api(request):
                return database_unavailable_response(request, exc)
            request.user = AnonymousUser()  # /healthz, the login page: they answer for themselves
        return None

    def process_exception(self, request, exception):
        if isinstance(exception, DATABASE_ERRORS):
            return database_unavailable_response(request, exception)
        return None
