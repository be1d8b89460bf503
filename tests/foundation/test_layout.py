"""The base layout, login page, placeholder dashboard, error pages and their Indonesian translation.

Everything goes through the Django test client (or Django's own error handlers), against the real
database with the role groups created by the data migration.
"""

import re
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied
from django.test import RequestFactory
from django.views.defaults import permission_denied, server_error

from nplsite.roles import ANALYST, MODEL_ADMIN
from tests.web.pagecheck import assert_every_input_labelled, assert_self_contained_and_csp_ready

pytestmark = pytest.mark.django_db

PASSWORD = "a-long-test-password-1234"
LOGIN_URL = "/accounts/login/"
ADMIN_HREF = 'href="/admin/"'


def make_user(username: str, *roles: str):
    user = get_user_model().objects.create_user(username=username, password=PASSWORD)
    user.groups.set(Group.objects.filter(name__in=roles))
    return user


def log_in(client, username: str):
    response = client.post(LOGIN_URL, {"username": username, "password": PASSWORD})
    assert response.status_code == 302, "login did not redirect: wrong credentials or form"
    return response


def switch_language(client, code: str, next_url: str = "/"):
    response = client.post("/i18n/setlang/", {"language": code, "next": next_url})
    assert response.status_code == 302
    assert response["Location"] == next_url
    return response


def test_login_page_has_labelled_inputs_skip_link_and_language_switch(client):
    response = client.get(LOGIN_URL)

    assert response.status_code == 200
    html = response.content.decode()
    page = assert_self_contained_and_csp_ready(html)
    assert_every_input_labelled(page)
    assert '<label for="id_username">Username</label>' in html
    assert '<label for="id_password">Password</label>' in html
    assert page.all("a")[0] == {"class": "skip-link", "href": "#content"}
    assert {"id": "content", "tabindex": "-1"} in page.all("main")
    language_form = next(form for form in page.all("form") if form.get("action") == "/i18n/setlang/")
    assert language_form["method"] == "post"
    language_buttons = [b for b in page.all("button") if b.get("name") == "language"]
    assert [(b["value"], b["aria-pressed"]) for b in language_buttons] == [("en", "true"), ("id", "false")]
    assert "Bahasa Indonesia" in html  # the ID button's accessible name
    assert ADMIN_HREF not in html
    assert "Log out" not in html


def test_wrong_password_shows_an_error_and_keeps_the_username(client):
    make_user("siti", ANALYST)

    response = client.post(LOGIN_URL, {"username": "siti", "password": "not-the-password"})

    assert response.status_code == 200
    html = response.content.decode()
    assert_self_contained_and_csp_ready(html)
    assert 'class="form-errors" role="alert"' in html
    assert "The username and password did not match. Both are case-sensitive." in html
    assert 'value="siti"' in html


def test_analyst_logs_in_and_sees_name_role_and_no_admin_link(client):
    make_user("budi", ANALYST)

    response = log_in(client, "budi")
    assert response["Location"] == "/"
    html = client.get("/").content.decode()

    page = assert_self_contained_and_csp_ready(html)
    assert '<span class="whoami-name">budi</span>' in html
    assert '<span class="badge badge-role">Analyst</span>' in html
    assert "Welcome, budi." in html
    assert "What you can do as an analyst" in html
    assert "What you can do as a model admin" not in html
    assert ADMIN_HREF not in html
    assert '<a href="/" aria-current="page">Dashboard</a>' in html
    logout_form = next(form for form in page.all("form") if form.get("action") == "/accounts/logout/")
    assert logout_form["method"] == "post"


def test_model_admin_sees_the_admin_link_and_both_task_lists(client):
    make_user("dewi", MODEL_ADMIN)
    log_in(client, "dewi")

    html = client.get("/").content.decode()

    assert_self_contained_and_csp_ready(html)
    assert '<span class="badge badge-role">Model admin</span>' in html
    assert html.count(ADMIN_HREF) == 2  # navigation and the "available now" task
    assert "What you can do as an analyst" in html
    assert "What you can do as a model admin" in html


def test_user_without_a_role_is_told_so(client):
    make_user("tamu")
    log_in(client, "tamu")

    html = client.get("/").content.decode()

    assert '<span class="badge badge-role">No role</span>' in html
    assert "Your account has no role yet" in html
    assert ADMIN_HREF not in html


def test_logout_is_a_post_that_ends_the_session(client):
    make_user("budi", ANALYST)
    log_in(client, "budi")

    response = client.post("/accounts/logout/")

    assert response.status_code == 302
    assert client.get("/")["Location"].startswith(LOGIN_URL)


def test_signed_in_user_switches_to_indonesian(client):
    make_user("budi", ANALYST)
    log_in(client, "budi")

    switch_language(client, "id", "/")
    html = client.get("/").content.decode()

    page = assert_self_contained_and_csp_ready(html)
    assert '<html lang="id">' in html
    assert "<h1>Dasbor</h1>" in html
    assert '<span class="badge badge-role">Analis</span>' in html
    assert "Selamat datang, budi." in html
    assert "Yang dapat Anda lakukan sebagai analis" in html
    assert "Lewati ke konten utama" in html
    assert ">Keluar</button>" in html
    pressed = {b["value"]: b["aria-pressed"] for b in page.all("button") if b.get("name") == "language"}
    assert pressed == {"en": "false", "id": "true"}

    switch_language(client, "en", "/")
    assert "<h1>Dashboard</h1>" in client.get("/").content.decode()


def test_language_chosen_while_signed_in_stays_for_the_login_page(client):
    make_user("budi", ANALYST)
    log_in(client, "budi")
    switch_language(client, "id", "/")
    client.post("/accounts/logout/")

    html = client.get(LOGIN_URL).content.decode()

    page = assert_self_contained_and_csp_ready(html)
    assert_every_input_labelled(page)
    assert '<html lang="id">' in html
    assert '<label for="id_username">Nama pengguna</label>' in html
    assert '<label for="id_password">Kata sandi</label>' in html
    assert "<title>Masuk · Platform risiko NPL</title>" in html


def test_visitor_switches_the_login_page_to_indonesian_before_signing_in(client):
    switch_language(client, "id", LOGIN_URL)

    html = client.get(LOGIN_URL).content.decode()

    assert '<html lang="id">' in html
    assert '<label for="id_username">Nama pengguna</label>' in html
    assert '<h1 id="login-title">Masuk</h1>' in html
    failed = client.post(LOGIN_URL, {"username": "nobody", "password": "wrong"}).content.decode()
    assert "Nama pengguna dan kata sandi tidak cocok." in failed


def test_unknown_address_shows_the_404_page(client):
    make_user("budi", ANALYST)
    log_in(client, "budi")

    response = client.get("/no-such-page/")

    assert response.status_code == 404
    html = response.content.decode()
    assert_self_contained_and_csp_ready(html)
    assert "Page not found" in html
    assert "<code>/no-such-page/</code>" in html
    assert '<span class="whoami-name">budi</span>' in html


def test_403_page_explains_the_missing_role(client):
    user = make_user("budi", ANALYST)
    request = RequestFactory().get("/somewhere/")
    request.user = user

    response = permission_denied(request, PermissionDenied())

    assert response.status_code == 403
    html = response.content.decode()
    assert_self_contained_and_csp_ready(html)
    assert "Access denied" in html
    assert "budi" in html


def test_500_page_renders_without_request_context():
    response = server_error(RequestFactory().get("/"))

    assert response.status_code == 500
    html = response.content.decode()
    assert_self_contained_and_csp_ready(html)
    assert "Something went wrong on our side" in html
    assert "/static/css/app.css" in html
    assert "/i18n/setlang/" not in html  # no forms that would need a CSRF token
    assert re.search(r'<a class="btn btn-primary" href="/">', html)


@pytest.mark.parametrize(
    "html",
    [
        '<img src="https://cdn.example.com/x.png">',
        '<link href="//fonts.example.com/a.css">',
        '<div style="color:red"></div>',
        '<button onclick="go()">x</button>',
        "<script>alert(1)</script>",
        "<style>p{color:red}</style>",
    ],
)
def test_the_page_checker_catches_each_kind_of_violation(html):
    with pytest.raises(AssertionError):
        assert_self_contained_and_csp_ready(f"<html><body>{html}</body></html>")


def test_the_page_checker_catches_an_unlabelled_input():
    page = assert_self_contained_and_csp_ready('<form><input name="x" id="x"></form>')
    with pytest.raises(AssertionError):
        assert_every_input_labelled(page)


@pytest.mark.parametrize("stylesheet", sorted(Path(__file__).resolve().parents[2].glob("static/css/*.css")), ids=str)
def test_every_stylesheet_closes_each_block_it_opens(stylesheet):
    """An unclosed ``{`` does not fail in a browser: every rule after it is silently dropped (the
    monitoring charts lost their colours and legend swatches that way)."""
    text = re.sub(r"/\*.*?\*/", "", stylesheet.read_text(encoding="utf-8"), flags=re.S)
    text = re.sub(r"\"(?:\\.|[^\"\\])*\"|'(?:\\.|[^'\\])*'", "", text)  # strings may hold braces
    depth = 0
    for line_number, line in enumerate(text.splitlines(), start=1):
        depth += line.count("{") - line.count("}")
        assert depth >= 0, f"{stylesheet.name}: a '}}' without its '{{' by line {line_number}"
    assert depth == 0, f"{stylesheet.name}: {depth} block(s) never closed"
