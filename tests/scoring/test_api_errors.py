"""API clients get JSON for every error, including those no API view answers (issue 13, items 7 and 8):
dates at the ends of the calendar, unknown addresses, oversized bodies and server errors."""

import json

import pytest
from django.test import Client

from nplsite.tokens import issue_api_token

TEN_MB = 10 * 1024 * 1024


@pytest.fixture
def token(analyst):
    return issue_api_token(analyst)[1]


@pytest.fixture
def api(token):
    # raise_request_exception=False: the client answers as the server would instead of re-raising.
    return Client(HTTP_AUTHORIZATION=f"Token {token}", raise_request_exception=False)


@pytest.mark.parametrize(
    "params",
    [
        {"date_from": "0001-01-01"},
        {"date_from": "0001-01-01T00:00:00"},
        {"date_to": "9999-12-31"},
        {"date_to": "9999-12-31T23:59:59-12:00"},
        {"date_from": "0001-01-01T00:00:00+14:00"},
    ],
)
def test_dates_at_the_ends_of_the_calendar_are_a_400_naming_the_parameter(api, params):
    response = api.get("/api/v1/predictions", params)
    assert response.status_code == 400
    body = response.json()
    (name,) = params
    assert list(body["errors"]) == [name]
    assert "must be between 1900-01-01 and 9000-12-31" in body["errors"][name][0]


def test_ordinary_date_bounds_still_filter(api):
    response = api.get("/api/v1/predictions", {"date_from": "1900-01-01", "date_to": "9000-12-31"})
    assert response.status_code == 200 and response.json()["count"] == 0


def test_an_unknown_api_address_is_a_json_404(api):
    response = api.get("/api/v1/x")
    assert response.status_code == 404 and response["Content-Type"] == "application/json"
    assert "no API endpoint" in response.json()["detail"]


def test_an_unknown_page_is_still_the_html_404_page(analyst_client):
    response = analyst_client.get("/no-such-page/")
    assert response.status_code == 404 and response["Content-Type"].startswith("text/html")


@pytest.mark.parametrize("path", ["/api/v1/score", "/predict/"])
def test_a_ten_megabyte_body_is_a_json_413(api, path):
    body = json.dumps({"monthly_income": "1" * TEN_MB})
    response = api.post(path, data=body, content_type="application/json")
    assert response.status_code == 413 and response["Content-Type"] == "application/json"
    answer = response.json()
    if path == "/predict/":
        assert answer["res"] == [] and "too large" in answer["error_msg"]
    else:
        assert "too large" in answer["detail"]


@pytest.mark.urls("tests.scoring.urls_with_failing_views")
def test_a_server_error_under_the_api_is_json_and_a_page_error_is_html(api):
    response = api.get("/api/v1/failing")
    assert response.status_code == 500 and response["Content-Type"] == "application/json"
    assert "error is logged" in response.json()["detail"]
    page = api.get("/failing-page/")
    assert page.status_code == 500 and page["Content-Type"].startswith("text/html")


@pytest.mark.parametrize("path", ["/api/v1/score", "/api/v1/applicants", "/predict/"])
@pytest.mark.parametrize("body", ['{"otr": "\\ud800"}', '{"\\ud800": 1}', '[{"pekerjaan": ["\\udfff"]}]'])
def test_a_lone_surrogate_in_the_body_is_a_400_in_words(api, path, body):
    """JSON may spell a lone surrogate, which no answer can encode: refused before anything echoes it."""
    response = api.post(path, body, content_type="application/json")
    assert response.status_code == 400
    text = response.content.decode("utf-8")
    assert "not valid Unicode" in text and "\\ud800" in text
