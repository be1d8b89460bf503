"""No password, API token, session id, CSRF secret or SECRET_KEY ever reaches the logs.

Everything logged at DEBUG and up (root at DEBUG, as with LOG_LEVEL=DEBUG, each logger at its
configured level; SQL logging switched on for the connection) is captured while a user logs in, fails
to log in until locked out, calls the API with a valid and an invalid token, and hits a 503 and a
500 — both the log records and what the configured console handler wrote to standard error.
"""

import io
import logging
import secrets

import pytest
from django.db import connection
from django.test import Client

from nplsite.tokens import issue_api_token
from tests.conftest import make_user
from tests.support import VALID_APPLICANT
from tests.web.conftest import VALID_FORM

pytestmark = pytest.mark.django_db

PASSWORD = "Rahasia-Sekali-" + secrets.token_hex(8)
WRONG_PASSWORD = "Tebakan-Salah-" + secrets.token_hex(8)
INVALID_TOKEN = secrets.token_hex(20)


@pytest.fixture
def debug_sql_logging():
    """Queries are logged to django.db.backends (as with DEBUG=1); LOGGING keeps that logger at WARNING,
    so queries carrying session keys and token keys never reach a handler."""
    previous = connection.force_debug_cursor
    connection.force_debug_cursor = True
    yield
    connection.force_debug_cursor = previous


def test_secrets_never_appear_in_the_logs(caplog, capfd, settings, debug_sql_logging):
    settings.ROOT_URLCONF = "tests.security.urls_with_a_failing_view"
    caplog.set_level(logging.DEBUG)
    analyst = make_user("ana", "Analyst", password=PASSWORD)
    token_key = issue_api_token(analyst)[1]

    browser = Client()
    assert browser.get("/accounts/login/").status_code == 200
    logged_in = browser.post("/accounts/login/", {"username": "ana", "password": PASSWORD})
    assert logged_in.status_code == 302
    session_id = browser.cookies[settings.SESSION_COOKIE_NAME].value
    csrf_secret = browser.cookies[settings.CSRF_COOKIE_NAME].value
    assert browser.get("/").status_code == 200
    # 503: scoring without an active model, from the page and the API; /healthz too.
    assert browser.post("/score/", VALID_FORM).status_code == 400  # "no active model" on the form
    api = Client(HTTP_AUTHORIZATION=f"Token {token_key}")
    assert api.post("/api/v1/score", VALID_APPLICANT, content_type="application/json").status_code == 503
    assert api.get("/api/v1/predictions").status_code == 200
    assert Client().get("/healthz").status_code == 503
    # 401: an invalid token.
    assert Client(HTTP_AUTHORIZATION=f"Token {INVALID_TOKEN}").get("/api/v1/predictions").status_code == 401
    # 500: a failing view, with the session cookie and a password field in the request.
    failing = Client(raise_request_exception=False)
    failing.cookies[settings.SESSION_COOKIE_NAME] = session_id
    assert (
        failing.post("/failing-view/", {"password": PASSWORD}, HTTP_AUTHORIZATION=f"Token {token_key}").status_code
        == 500
    )
    # Failed logins up to the lockout, on the site and the admin login.
    for _ in range(3):
        Client().post("/accounts/login/", {"username": "ana", "password": WRONG_PASSWORD})
    for _ in range(3):
        Client().post("/admin/login/", {"username": "ana", "password": WRONG_PASSWORD})
    assert Client().post("/accounts/login/", {"username": "ana", "password": PASSWORD}).status_code == 429

    logged = caplog.text + "\n".join(repr(record.args) for record in caplog.records) + capfd.readouterr().err
    # The scenario did log: the checks below look at real output.
    for expected in (
        "Unauthorized: /api/v1/predictions",
        "Internal Server Error: /failing-view/",
        "RuntimeError",
        "Service Unavailable: /api/v1/score",
        "AXES: Locking out",
        'username: "ana"',
    ):
        assert expected in logged, expected
    for name, secret in {
        "password": PASSWORD,
        "wrong password": WRONG_PASSWORD,
        "API token": token_key,
        "invalid API token": INVALID_TOKEN,
        "session id": session_id,
        "CSRF secret": csrf_secret,
        "SECRET_KEY": settings.SECRET_KEY,
    }.items():
        assert secret not in logged, f"the {name} appears in the logs"


@pytest.fixture
def console_output():
    """What the configured console handler (LOGGING's, on the root logger) writes, in a buffer."""
    handlers = [handler for handler in logging.getLogger().handlers if isinstance(handler, logging.StreamHandler)]
    console = next(handler for handler in handlers if handler.filters)  # LOGGING's, with its filter
    buffer = io.StringIO()
    previous = console.setStream(buffer)
    yield buffer
    console.setStream(previous)


def test_a_refused_request_is_logged_as_one_line_without_a_traceback(analyst_client, console_output):
    """A 403 is an expected answer: the configured console handler writes one line for it, once."""
    assert analyst_client.get("/models/retrain/").status_code == 403

    written = console_output.getvalue()
    refusals = [line for line in written.splitlines() if "Forbidden (Permission denied): /models/retrain/" in line]
    assert len(refusals) == 1, written
    assert "WARNING django.request" in refusals[0]
    assert "Traceback" not in written and "PermissionDenied" not in written


def test_an_error_is_still_logged_with_its_traceback_once(analyst, console_output, settings):
    settings.ROOT_URLCONF = "tests.security.urls_with_a_failing_view"
    failing = Client(raise_request_exception=False)
    failing.force_login(analyst)

    assert failing.post("/failing-view/").status_code == 500

    written = console_output.getvalue()
    assert written.count("Internal Server Error: /failing-view/") == 1, written
    assert written.count("Traceback (most recent call last)") == 1
