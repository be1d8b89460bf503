"""Access scope (issue 13 item 11, issue 15 item 1): API tokens that expire and are revoked, onboarding by
Model admins in the admin, API docs for roles only, and no server paths in answers."""

import json
import re
import shutil
import time
from datetime import timedelta
from io import StringIO
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client
from django.utils import timezone
from knox.models import AuthToken

from nplsite.roles import ANALYST, MODEL_ADMIN, is_analyst, is_model_admin
from nplsite.tokens import issue_api_token
from tests.conftest import make_user
from tests.support import VALID_APPLICANT
from training.services import activate_model_version

PASSWORD = "Correct-Horse-42"
SCORE = "/api/v1/score"
ACTIVE = "/api/v1/models/active"


def api_status(key: str, path: str = ACTIVE) -> int:
    return Client(HTTP_AUTHORIZATION=f"Token {key}").get(path).status_code


@pytest.fixture
def role_groups(db):
    for name in (ANALYST, MODEL_ADMIN):
        Group.objects.get_or_create(name=name)


@pytest.fixture
def admin_browser(client, model_admin):
    client.force_login(model_admin)
    return client


@pytest.fixture
def active_version_for_api(settings, make_version, role_groups):
    """An active version with an artifact file of its own (one test damages it)."""
    version = make_version(activate=False)
    folder = Path(settings.MODEL_ARTIFACT_DIR)
    own = f"access-scope-{version.pk}.joblib"
    shutil.copyfile(folder / version.artifact_path, folder / own)
    version.artifact_path = own
    version.save(update_fields=["artifact_path"])
    return activate_model_version(version)


# --- Tokens -------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_token_is_stored_hashed_and_expires_after_the_configured_lifetime(settings, analyst, role_groups):
    token, key = issue_api_token(analyst)
    assert key not in {token.digest, token.token_key} and not AuthToken.objects.filter(digest=key).exists()
    lifetime = token.expiry - token.created
    assert abs(lifetime - timedelta(days=settings.API_TOKEN_LIFETIME_DAYS)) < timedelta(minutes=1)
    assert api_status(key) in (200, 404)  # known (404: no active model in this test)

    token.expiry = timezone.now() - timedelta(seconds=1)
    token.save(update_fields=["expiry"])  # this process forgets its check of the token at once
    assert api_status(key) == 401


@pytest.mark.django_db
def test_a_token_refused_as_it_expires_even_just_after_it_was_checked(analyst, role_groups, settings):
    settings.API_AUTH_CACHE_SECONDS = 1
    token, key = issue_api_token(analyst, lifetime=timedelta(seconds=2))
    assert api_status(key) in (200, 404)  # checked, and remembered for up to a second
    time.sleep(max(0.0, (token.expiry - timezone.now()).total_seconds()) + 0.05)
    assert api_status(key) == 401  # the expiry is read on every request, remembered or not


@pytest.mark.django_db
def test_a_password_change_revokes_the_users_tokens_and_a_login_does_not(analyst, role_groups):
    _, key = issue_api_token(analyst)
    login = Client().post("/accounts/login/", {"username": analyst.username, "password": PASSWORD})
    assert login.status_code == 302  # a login saves last_login: no revocation
    assert api_status(key) != 401
    analyst.set_password("Another-Horse-43")
    analyst.save()
    assert api_status(key) == 401
    assert not AuthToken.objects.filter(user=analyst).exists()


@pytest.mark.django_db
def test_the_command_issues_a_working_token_and_names_bad_input(analyst, role_groups):
    out, err = StringIO(), StringIO()
    call_command("create_api_token", analyst.username, "--days", "7", stdout=out, stderr=err)
    key = out.getvalue().strip()
    assert api_status(key) != 401 and "expires" in err.getvalue()
    token = AuthToken.objects.get(user=analyst)
    assert timedelta(days=6, hours=23) < token.expiry - token.created <= timedelta(days=7)
    with pytest.raises(CommandError, match="There is no user 'nobody'"):
        call_command("create_api_token", "nobody")
    with pytest.raises(CommandError, match="--days must be at least 1"):
        call_command("create_api_token", analyst.username, "--days", "0")
    analyst.is_active = False
    analyst.save()
    with pytest.raises(CommandError, match="deactivated"):
        call_command("create_api_token", analyst.username)


# --- Onboarding in the admin ----------------------------------------------------------------------


@pytest.mark.django_db
def test_a_model_admin_creates_an_analyst_who_logs_in(admin_browser, role_groups):
    response = admin_browser.post(
        "/admin/auth/user/add/",
        {
            "username": "new.analyst",
            "first_name": "Nur",
            "usable_password": "true",
            "password1": "Fresh-Analyst-Pass-9",
            "password2": "Fresh-Analyst-Pass-9",
            "role": ANALYST,
        },
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    user = get_user_model().objects.get(username="new.analyst")
    assert is_analyst(user) and not is_model_admin(user) and not user.is_staff and user.is_active
    login = Client().post("/accounts/login/", {"username": "new.analyst", "password": "Fresh-Analyst-Pass-9"})
    assert login.status_code == 302 and login["Location"] == "/"


@pytest.mark.django_db
def test_a_model_admin_changes_a_role_and_deactivates_a_user(admin_browser, analyst, role_groups):
    page = admin_browser.get(f"/admin/auth/user/{analyst.pk}/change/")
    assert page.status_code == 200 and b'name="role"' in page.content
    _, key = issue_api_token(analyst)
    data = {"username": analyst.username, "is_active": "on", "role": MODEL_ADMIN, **empty_token_inline()}
    assert admin_browser.post(f"/admin/auth/user/{analyst.pk}/change/", data).status_code == 302
    analyst.refresh_from_db()
    assert is_model_admin(analyst) and analyst.is_staff

    deactivate = {"action": "deactivate", "_selected_action": [analyst.pk]}
    assert admin_browser.post("/admin/auth/user/", deactivate).status_code == 302
    analyst.refresh_from_db()
    assert not analyst.is_active and api_status(key) == 401
    refused = Client().post("/accounts/login/", {"username": analyst.username, "password": PASSWORD})
    assert refused.status_code == 200  # the form again, with an error
    # Users are never deleted (their predictions and runs keep naming them).
    assert admin_browser.get(f"/admin/auth/user/{analyst.pk}/delete/").status_code == 403


def empty_token_inline(total: int = 0) -> dict:
    prefix = "auth_token_set"
    return {f"{prefix}-TOTAL_FORMS": str(total), f"{prefix}-INITIAL_FORMS": str(total), f"{prefix}-MIN_NUM_FORMS": "0"}


@pytest.mark.django_db
def test_a_model_admin_issues_lists_and_revokes_tokens_per_user(admin_browser, analyst, active_version_for_api):
    issued = admin_browser.post("/admin/nplsite/apitoken/add/", {"user": analyst.pk}, follow=True)
    text = issued.content.decode()
    key = re.search(r"API token for ana: (\S+) — copy it now", text)[1]
    assert (
        Client(HTTP_AUTHORIZATION=f"Token {key}")
        .post(SCORE, json.dumps(VALID_APPLICANT), content_type="application/json")
        .status_code
        == 200
    )

    token = AuthToken.objects.get(user=analyst)
    listing = admin_browser.get(f"/admin/nplsite/apitoken/?user__id__exact={analyst.pk}").content.decode()
    assert token.token_key in listing and key not in listing
    user_page = admin_browser.get(f"/admin/auth/user/{analyst.pk}/change/").content.decode()
    assert token.token_key in user_page and key not in user_page

    revoke = {"action": "delete_selected", "_selected_action": [token.pk], "post": "yes"}
    assert admin_browser.post("/admin/nplsite/apitoken/", revoke).status_code == 302
    assert api_status(key) == 401


@pytest.mark.django_db
def test_a_model_admin_never_sees_or_makes_a_superuser(admin_browser, role_groups):
    root = get_user_model().objects.create_superuser("root", password="Root-Password-123")
    assert b"root" not in admin_browser.get("/admin/auth/user/").content
    assert admin_browser.get(f"/admin/auth/user/{root.pk}/change/").status_code in (302, 404)
    form = admin_browser.get("/admin/auth/user/add/").content
    assert b"is_superuser" not in form and b'name="groups"' not in form


@pytest.mark.django_db
def test_an_analyst_cannot_manage_users_or_tokens(client, analyst, role_groups):
    client.force_login(analyst)
    for path in ("/admin/auth/user/", "/admin/nplsite/apitoken/"):
        response = client.get(path)
        assert response.status_code == 302 and response["Location"].startswith("/admin/login/")


# --- API docs and paths -------------------------------------------------------------------------


@pytest.mark.django_db
def test_api_docs_and_schema_need_a_role_and_anonymous_docs_visits_get_the_login_page(client, role_groups):
    docs = client.get("/api/v1/docs/")
    assert docs.status_code == 302 and docs["Location"] == "/accounts/login/?next=/api/v1/docs/"
    roleless = make_user("nobody", None)
    client.force_login(roleless)
    assert client.get("/api/v1/docs/").status_code == 403
    assert client.get("/api/v1/schema/").status_code == 403
    _, key = issue_api_token(roleless)
    assert api_status(key, "/api/v1/schema/") == 403


@pytest.mark.django_db
def test_no_server_path_in_model_answers_or_pages(settings, admin_browser, model_admin, active_version_for_api):
    folder = str(settings.MODEL_ARTIFACT_DIR)
    version = active_version_for_api
    _, key = issue_api_token(model_admin)
    api = Client(HTTP_AUTHORIZATION=f"Token {key}")
    for path in ("/api/v1/models", "/api/v1/models/active"):
        body = api.get(path).content.decode()
        assert folder not in body and f'"artifact_file":"{version.artifact_path}"' in body.replace(" ", "")
    for path in (f"/models/{version.pk}/", f"/admin/training/modelversion/{version.pk}/change/", "/healthz"):
        assert folder not in admin_browser.get(path).content.decode(), path
    # Activating a version whose artifact file is damaged: the error names the file, never the folder.
    version.is_active, version.activated_at = False, None
    version.save(update_fields=["is_active", "activated_at"])
    (settings.MODEL_ARTIFACT_DIR / version.artifact_path).write_bytes(b"damaged")
    page = admin_browser.post(f"/models/{version.pk}/activate/", {"reason": "retry"}, follow=True).content.decode()
    assert f"Model artifact {version.artifact_path} is " in page and folder not in page
