"""Fuzzing the REST API against its own OpenAPI schema (schemathesis, property-based).

The schema is the site's own: drf-spectacular's generator, the code behind ``/api/v1/schema/``
(the first test checks that the served document is exactly this one). It is built when this module
is collected, because schemathesis turns each operation into a test of its own then. For every
operation, schemathesis generates requests — valid ones from the schema, and invalid ones (wrong
types, out-of-range numbers, missing or extra fields) — sends them through the site's WSGI
application with an API token, and each answer must be no server error (5xx) and conform to the
schema: a documented status code, the documented content type, and a body that validates against
the documented response schema. Run as an Analyst (model internals then answer the documented
403) and as a Model admin. Examples are bounded and derandomized: the same requests on every run.
"""

import json

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from drf_spectacular.generators import SchemaGenerator
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from nplsite.tokens import issue_api_token
from nplsite.wsgi import application

pytestmark = pytest.mark.django_db

OPENAPI = json.loads(json.dumps(SchemaGenerator().get_schema(request=None, public=True), default=str))
schema = schemathesis.openapi.from_dict(OPENAPI)

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
EXAMPLES = settings(
    max_examples=25,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.filter_too_much],
)


def wsgi_app_in_test_transaction(environ, start_response):
    """The site's WSGI application, without closing the database connection at the start and end of
    each request (as Django's test client does), so requests run in the test's transaction."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        response = application(environ, start_response)
        try:
            return [b"".join(response)]
        finally:
            response.close()
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


@pytest.fixture(autouse=True)
def _no_rate_limit_in_reach(monkeypatch):
    """Hundreds of requests a minute from one user: the fuzzing checks the schema, not the rate limit
    (tests/scoring/test_throttling.py does), and user ids come back from test to test."""
    from nplsite.throttling import UserRateThrottle

    monkeypatch.setattr(UserRateThrottle, "THROTTLE_RATES", {"user": "1000000/second"})


@pytest.fixture
def scoring_ready(make_version):
    """An active model, so scoring answers rather than 503 (no model; tested elsewhere)."""
    return make_version("reliability-fuzz.joblib")


def _token_header(user) -> dict:
    return {"Authorization": f"Token {issue_api_token(user)[1]}"}


def test_the_fuzzed_schema_is_the_one_the_site_serves(role_groups, analyst, client):
    response = client.get("/api/v1/schema/?format=json", headers=_token_header(analyst))
    assert response.status_code == 200
    assert json.loads(response.content) == OPENAPI
    assert len(OPENAPI["paths"]) >= 8


@schema.parametrize()
@EXAMPLES
def test_fuzz_as_an_analyst(case, scoring_ready, role_groups, analyst):
    case.call_and_validate(app=wsgi_app_in_test_transaction, headers=_token_header(analyst), checks=CHECKS)


@schema.parametrize()
@EXAMPLES
def test_fuzz_as_a_model_admin(case, scoring_ready, role_groups, model_admin):
    case.call_and_validate(app=wsgi_app_in_test_transaction, headers=_token_header(model_admin), checks=CHECKS)
