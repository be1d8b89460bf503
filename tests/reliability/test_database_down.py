"""Fault: the database is unreachable (connection refused; for SQLite, the file cannot be opened).

The API, the deprecated ``/predict/`` and the pages answer 503 with a short message and
``Retry-After`` (JSON in each API's own shape, a small HTML page otherwise), never a traceback or
a 500; the outage is logged; ``/healthz`` reports the database down; service resumes by itself
once the database is back.
"""

import logging
import tempfile
from contextlib import contextmanager
from pathlib import Path

import pytest
from django.db import connections

from scoring.models import Prediction
from tests.reliability.conftest import closed_port
from tests.support import VALID_APPLICANT

pytestmark = pytest.mark.django_db(transaction=True)  # the session and token rows must be committed


@contextmanager
def database_unreachable():
    """Every new connection to the default database fails until the block ends (PostgreSQL: a closed
    loopback port; SQLite: a file in a folder that does not exist)."""
    connection = connections["default"]
    settings_dict = connection.settings_dict  # shared by every thread's connection (healthz checks too)
    saved = dict(settings_dict)
    connection.close()
    if connection.vendor == "sqlite":
        settings_dict["NAME"] = str(Path(tempfile.gettempdir()) / "npl-no-such-folder" / "db.sqlite3")
    else:
        settings_dict.update(HOST="127.0.0.1", PORT=str(closed_port()))
    try:
        yield
    finally:
        connection.close()
        settings_dict.clear()
        settings_dict.update(saved)


def _assert_short_503(response, *, json_key: str | None):
    assert response.status_code == 503
    assert response["Retry-After"]
    body = response.content.decode()
    assert "Traceback" not in body and "OperationalError" not in body
    if json_key:
        assert "database cannot be reached" in response.json()[json_key]
    else:
        assert response["Content-Type"].startswith("text/html")
        assert "database cannot be reached" in body and len(body) < 2000


def test_api_predict_and_pages_answer_503_while_the_database_is_down(
    analyst_api, analyst, client, make_version, caplog
):
    make_version("reliability-db-down.joblib")
    client.force_login(analyst)
    assert client.get("/").status_code == 200

    with database_unreachable(), caplog.at_level(logging.ERROR, logger="nplsite.database"):
        score = analyst_api.post("/api/v1/score", VALID_APPLICANT, format="json")
        predictions = analyst_api.get("/api/v1/predictions")
        compat = analyst_api.post("/predict/", VALID_APPLICANT, format="json")
        page = client.get("/")
        applicants_page = client.get("/applicants/")
        health = client.get("/healthz")

    _assert_short_503(score, json_key="detail")
    _assert_short_503(predictions, json_key="detail")
    _assert_short_503(compat, json_key="error_msg")
    assert compat.json()["res"] == []
    _assert_short_503(page, json_key=None)
    _assert_short_503(applicants_page, json_key=None)
    assert health.status_code == 503 and health.json()["database"] == {"ok": False, "detail": "unreachable"}
    logged = [r.getMessage() for r in caplog.records if r.name == "nplsite.database"]
    assert any(message.startswith("Database unavailable for POST /api/v1/score") for message in logged), logged

    # Back by itself once the database is reachable again.
    assert analyst_api.post("/api/v1/score", VALID_APPLICANT, format="json").status_code == 200
    assert client.get("/").status_code == 200
    assert Prediction.objects.count() == 1


def test_an_anonymous_visitor_is_still_sent_to_the_login_page(client):
    """No session, no database needed: the login redirect does not depend on the database."""
    with database_unreachable():
        response = client.get("/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
