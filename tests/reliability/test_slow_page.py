"""Issue 22, item 2: a page whose query is slow answers in words within the statement timeout
instead of holding the web worker (PostgreSQL cancels it); statistics are refreshed after bulk writes;
the latest-prediction index serves the applicants page."""

import pytest
from django.db import connection

from scoring.models import Prediction

pytestmark = pytest.mark.django_db

needs_postgresql = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="statement_timeout is PostgreSQL's (SQLite has no such setting)"
)


@needs_postgresql
@pytest.mark.django_db(transaction=True)  # autocommit, as a web request runs
def test_a_slow_page_query_is_cancelled_and_answered_in_words(analyst_client, settings):
    settings.ROOT_URLCONF = "tests.reliability.urls_with_a_slow_page"
    settings.PAGE_STATEMENT_TIMEOUT_SECONDS = 0.2

    response = analyst_client.get("/slow-page/")

    assert response.status_code == 503 and response["Retry-After"] == "30"
    text = response.content.decode()
    assert "This page took longer than 0.2 seconds to read from the database" in text
    with connection.cursor() as cursor:  # the kept connection is back to no timeout for what comes next
        cursor.execute("SHOW statement_timeout")
        assert cursor.fetchone()[0] == "0"


@needs_postgresql
def test_the_api_is_not_under_the_page_timeout(analyst_client, settings):
    settings.ROOT_URLCONF = "tests.reliability.urls_with_a_slow_page"
    settings.PAGE_STATEMENT_TIMEOUT_SECONDS = 0.2
    assert analyst_client.get("/api/v1/slow").status_code == 200


def test_the_applicants_page_s_latest_prediction_has_its_index():
    """The page reads each applicant's latest prediction ordered by -created_at, -id: one index serves it."""
    indexes = {index.name: index.fields for index in Prediction._meta.indexes}
    assert indexes["prediction_latest_idx"] == ["applicant", "-created_at", "-id"]


def test_the_answer_to_a_cancelled_page_query_is_in_words(rf, settings):
    """What the middleware answers when PostgreSQL cancelled a page's statement (query_canceled,
    57014), checked on any database: the driver's error as Django wraps it."""
    from django.db import OperationalError

    from nplsite.database import is_statement_timeout
    from nplsite.middleware import database_unavailable_response

    class QueryCanceled(Exception):
        pgcode = "57014"

    settings.PAGE_STATEMENT_TIMEOUT_SECONDS = 20
    error = OperationalError("canceling statement due to statement timeout")
    error.__cause__ = QueryCanceled()
    assert is_statement_timeout(error) and not is_statement_timeout(OperationalError("connection refused"))

    response = database_unavailable_response(rf.get("/applicants/"), error)

    assert response.status_code == 503 and response["Retry-After"] == "30"
    text = response.content.decode()
    assert "This page took longer than 20 seconds to read from the database" in text
    assert "cannot be reached" not in text
