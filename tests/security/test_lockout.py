"""Lockout after repeated failed logins (django-axes), on the site's login and the admin's.

AXES_FAILURE_LIMIT (5) failures for one username from one address lock that pair out for
AXES_COOLOFF_MINUTES (15); the locked-out page says so, the password is not checked meanwhile, and
the count lives in the database (shared by every web process).
"""

import os
import subprocess
import sys
from datetime import timedelta
from io import StringIO
from pathlib import Path

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from tests.conftest import make_user

PASSWORD = "Correct-Horse-42"
PROJECT_DIR = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.django_db


@pytest.fixture
def ana(db):
    return make_user("ana", "Analyst")


@pytest.fixture
def mia(db):
    return make_user("mia", "Model admin", is_staff=True)


def site_login(client, username, password, **extra):
    return client.post("/accounts/login/", {"username": username, "password": password}, **extra)


def admin_login(client, username, password, **extra):
    return client.post(
        "/admin/login/?next=/admin/", {"username": username, "password": password, "next": "/admin/"}, **extra
    )


def fail(times, login=site_login, username="ana", **extra):
    for _ in range(times):
        response = login(Client(), username, "wrong-password", **extra)
        assert response.status_code in (200, 429), response.status_code


def logged_in(response) -> bool:
    return response.status_code == 302 and "_auth_user_id" in response.wsgi_request.session


def test_the_defaults_are_five_failures_and_fifteen_minutes():
    assert settings.AXES_FAILURE_LIMIT == 5
    assert settings.AXES_COOLOFF_TIME.total_seconds() == 15 * 60
    assert settings.AXES_LOCKOUT_PARAMETERS == [["username", "ip_address"]]
    assert settings.AXES_HANDLER == "axes.handlers.database.AxesDatabaseHandler"


def test_four_failures_still_let_the_right_password_in(ana):
    fail(4)
    assert logged_in(site_login(Client(), "ana", PASSWORD))


def test_the_fifth_failure_locks_the_username_out_even_with_the_right_password(ana):
    fail(4)
    fifth = site_login(Client(), "ana", "wrong-password")
    assert fifth.status_code == 429
    client = Client()
    response = site_login(client, "ana", PASSWORD)
    assert response.status_code == 429 and not logged_in(response)
    assert client.get("/").status_code == 302  # still anonymous
    assert response["Retry-After"] == "900"
    assert "registration/locked_out.html" in [template.name for template in response.templates]
    text = response.content.decode()
    assert "Login temporarily locked" in text
    assert "After 5 failed attempts" in text and "blocked for 15 minutes" in text
    assert 'href="/accounts/login/"' in text
    assert response["Content-Security-Policy"].startswith("default-src 'self'")
    attempt = AccessAttempt.objects.get(username="ana", ip_address="127.0.0.1")
    assert attempt.failures_since_start >= 5
    assert "wrong-password" not in attempt.post_data and PASSWORD not in attempt.post_data


def test_the_locked_out_page_is_translated(ana):
    fail(5)
    response = site_login(Client(HTTP_ACCEPT_LANGUAGE="id"), "ana", PASSWORD)
    assert response.status_code == 429
    text = response.content.decode()
    assert "Masuk dikunci sementara" in text
    assert "Setelah 5 kali gagal" in text and "selama 15 menit" in text


def test_the_admin_login_locks_out_too(mia):
    fail(5, login=admin_login, username="mia")
    response = admin_login(Client(), "mia", PASSWORD)
    assert response.status_code == 429 and not logged_in(response)
    assert "Login temporarily locked" in response.content.decode()


def test_failures_on_the_site_and_the_admin_login_add_up(mia):
    fail(3, username="mia")
    fail(2, login=admin_login, username="mia")
    assert site_login(Client(), "mia", PASSWORD).status_code == 429
    assert admin_login(Client(), "mia", PASSWORD).status_code == 429


def test_the_lockout_is_per_username_and_address(ana, mia):
    fail(5)
    # Another user from the same address, and the same user from another address, are not locked.
    assert logged_in(site_login(Client(), "mia", PASSWORD))
    assert logged_in(site_login(Client(), "ana", PASSWORD, REMOTE_ADDR="10.0.0.9"))


def test_the_lockout_ends_after_the_cool_off(ana):
    fail(5)
    assert site_login(Client(), "ana", PASSWORD).status_code == 429
    AccessAttempt.objects.update(attempt_time=timezone.now() - timedelta(minutes=15, seconds=1))
    assert logged_in(site_login(Client(), "ana", PASSWORD))


def test_a_successful_login_clears_the_count(ana):
    fail(4)
    assert logged_in(site_login(Client(), "ana", PASSWORD))
    fail(4)
    assert logged_in(site_login(Client(), "ana", PASSWORD))


def test_an_operator_can_lift_a_lockout(ana):
    fail(5)
    call_command("axes_reset_username", "ana", stdout=StringIO())
    assert logged_in(site_login(Client(), "ana", PASSWORD))


def test_a_forwarded_for_header_is_ignored_without_a_trusted_proxy(ana):
    """A client cannot escape the lockout by claiming another address."""
    fail(5, HTTP_X_FORWARDED_FOR="1.1.1.1")
    response = site_login(Client(), "ana", PASSWORD, HTTP_X_FORWARDED_FOR="2.2.2.2")
    assert response.status_code == 429


def test_behind_a_trusted_proxy_the_address_the_proxy_saw_counts(ana, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    proxy = {"REMOTE_ADDR": "10.0.0.2"}
    # The attacker at 203.0.113.7 rotates what it writes into X-Forwarded-For; the proxy appends the truth.
    for fake in ("1.1.1.1", "2.2.2.2", "3.3.3.3", "4.4.4.4", "5.5.5.5"):
        site_login(Client(), "ana", "wrong-password", HTTP_X_FORWARDED_FOR=f"{fake}, 203.0.113.7", **proxy)
    locked = site_login(Client(), "ana", PASSWORD, HTTP_X_FORWARDED_FOR="9.9.9.9, 203.0.113.7", **proxy)
    assert locked.status_code == 429
    assert AccessAttempt.objects.get().ip_address == "203.0.113.7"
    # The real user behind the same proxy, at another address, is not locked out.
    assert logged_in(site_login(Client(), "ana", PASSWORD, HTTP_X_FORWARDED_FOR="198.51.100.4", **proxy))


def _settings_in_a_new_process(**env):
    environment = {**os.environ, **env}
    code = "from django.conf import settings; print(settings.AXES_FAILURE_LIMIT, settings.AXES_COOLOFF_TIME)"
    return subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", code],
        cwd=PROJECT_DIR,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.process
def test_limit_and_cool_off_come_from_the_environment():
    result = _settings_in_a_new_process(AXES_FAILURE_LIMIT="3", AXES_COOLOFF_MINUTES="60")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "3 1:00:00"
    refused = _settings_in_a_new_process(AXES_COOLOFF_MINUTES="0")
    assert refused.returncode != 0 and "AXES_COOLOFF_MINUTES must be at least 1" in refused.stderr
