"""Every page needs a login; the Django admin is for Model admins only."""

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

# Pages that must answer without a login, and why.
PUBLIC_PATHS = {
    "/healthz": "health probe for load balancers",
    "/accounts/login/": "the login page itself",
    "/admin/login/": "the admin's login page (admits Model admins only)",
    "/i18n/setlang/": "language switch (POST, redirects back)",
}
SAMPLE_ARGUMENT = "1"
# The REST API (and the deprecated /predict/) authenticate per request with a token or the session:
# without credentials they answer 401 with a WWW-Authenticate header instead of redirecting to a page.
API_PREFIXES = ("/api/", "/predict/")
# ... except the Swagger UI page, which is for people: an anonymous visit goes to the login page.
API_PAGES_FOR_PEOPLE = {"/api/v1/docs/"}


def _walk(patterns, prefix=""):
    for entry in patterns:
        if isinstance(entry, URLResolver):
            yield from _walk(entry.url_patterns, prefix + str(entry.pattern))
        elif isinstance(entry, URLPattern):
            yield prefix + str(entry.pattern)


def _concrete_path(route: str) -> str:
    """Turn a route (path() syntax or admin's regexes) into a requestable path."""
    import re

    path = re.sub(r"<(?:\w+:)?\w+>", SAMPLE_ARGUMENT, route)
    path = re.sub(r"\(\?P<\w+>[^)]*\)", SAMPLE_ARGUMENT, path)
    path = path.replace("^", "").replace("$", "").replace("\\Z", "")
    return "/" + path


def all_paths():
    return sorted({_concrete_path(route) for route in _walk(get_resolver().url_patterns)})


@pytest.mark.django_db
@pytest.mark.parametrize("path", all_paths())
def test_anonymous_user_is_sent_to_login_from_every_page(client, path):
    response = client.get(path)
    if path in PUBLIC_PATHS:
        # Public on purpose (see PUBLIC_PATHS): it answers, and does not bounce to the login page.
        assert not response.get("Location", "").startswith("/accounts/login/"), PUBLIC_PATHS[path]
        return
    if path.startswith(API_PREFIXES) and path not in API_PAGES_FOR_PEOPLE:
        assert response.status_code == 401, f"{path} answered {response.status_code} to an anonymous API request"
        assert response.get("WWW-Authenticate", "").startswith("Token")
        return
    assert response.status_code == 302, f"{path} answered {response.status_code} to an anonymous user"
    location = response["Location"]
    assert location.startswith("/accounts/login/") or location.startswith("/admin/login/"), location


def test_url_walk_sees_the_site():
    paths = all_paths()
    assert "/" in paths and "/admin/" in paths and "/healthz" in paths


@pytest.mark.django_db
def test_analyst_gets_no_django_admin(analyst_client):
    response = analyst_client.get("/admin/")
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


@pytest.mark.django_db
def test_analyst_even_with_staff_flag_gets_no_django_admin(client, analyst):
    analyst.is_staff = True
    analyst.save()
    client.force_login(analyst)
    assert client.get("/admin/").status_code == 302


@pytest.mark.django_db
def test_model_admin_gets_the_django_admin(model_admin_client):
    response = model_admin_client.get("/admin/")
    assert response.status_code == 200


@pytest.mark.django_db
def test_login_and_logout(client, analyst):
    response = client.post("/accounts/login/", {"username": "ana", "password": "Correct-Horse-42"})
    assert response.status_code == 302 and response["Location"] == "/"
    assert client.get("/").status_code == 200
    assert client.post("/accounts/logout/").status_code == 302
    assert client.get("/").status_code == 302


@pytest.mark.django_db
def test_wrong_password_is_refused(client, analyst):
    response = client.post("/accounts/login/", {"username": "ana", "password": "nope"})
    assert response.status_code == 200
    assert client.get("/").status_code == 302
