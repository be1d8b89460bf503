"""CSRF: every form that posts carries a token, and a POST without one is refused.

Forms are found by rendering every page of the site for each role (``pages.site_pages``); the
state-changing URLs are those with a POST row in the permission table (``test_permissions``).
"""

import pytest
from django.test import Client

from tests.security.conftest import ROLES, concrete_path, role_client
from tests.security.pages import site_pages
from tests.security.test_permissions import LOGIN, POST_DATA, api_route, mismatch, state_changing_routes

pytestmark = pytest.mark.django_db


def test_every_post_form_on_every_page_carries_a_csrf_token(site):
    pages = site_pages(site)
    missing, post_forms = [], 0
    for page in pages:
        for form in page.markup.forms:
            if form.method != "post":
                continue
            post_forms += 1
            tokens = [item.get("value") or "" for item in form.inputs if item.get("name") == "csrfmiddlewaretoken"]
            if len(tokens) != 1 or len(tokens[0]) < 32:
                missing.append(f"{page.role} {page.label}: form action={form.action!r} tokens={tokens}")
    assert not missing, "\n".join(missing)
    # The login form, the language switch, log-out, score, batch, activate/rollback/retrain, admin forms.
    assert post_forms > 150, post_forms


@pytest.mark.parametrize("role", ROLES)
def test_a_post_without_a_token_to_any_state_changing_url_is_refused(site, role):
    """Without a token every state-changing URL answers 403 (or, for the API without a session, 401)."""
    accepted, routes = [], state_changing_routes()
    assert len(routes) >= 60  # the POST table and every admin change list, add, change and delete page
    for route in routes:
        path = concrete_path(route, site)
        client = role_client(role, site.users, enforce_csrf_checks=True, raise_request_exception=False)
        data = POST_DATA.get(route, {})
        if api_route(route):
            response = client.post(path, data, content_type="application/json")
            expected = 401 if role == "anonymous" else 403
        else:
            response = client.post(path, data)
            expected = 403
        refused = response.status_code == expected
        if role == "anonymous" and not refused:
            # A login-only view may send an anonymous visitor to log in before any CSRF check (the
            # batch upload checks its token after installing its size limit): nothing was changed.
            refused = mismatch(response, LOGIN, path, site) is None
        if not refused:
            accepted.append(f"{role} POST {path}: {response.status_code}, expected {expected}")
    assert not accepted, "\n".join(accepted)


def test_the_csrf_failure_page_is_the_sites_own(site):
    response = Client(enforce_csrf_checks=True).post("/accounts/login/", {"username": "ana", "password": "x"})
    assert response.status_code == 403
    assert "Form not accepted" in response.content.decode()


def test_an_api_client_with_a_token_needs_no_csrf_token(site):
    """Token authentication is not ambient (no cookie), so it is not subject to CSRF."""
    client = Client(enforce_csrf_checks=True)
    response = client.post(
        "/api/v1/score", {}, content_type="application/json", HTTP_AUTHORIZATION=f"Token {site.token_key}"
    )
    assert response.status_code == 400  # validation errors: it got past authentication and CSRF
