import re
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client

from nplsite.roles import is_analyst, is_auditor, is_model_admin


def _logs_in(username: str, password: str) -> bool:
    """Log in through the real login form (the lockout backend needs the request, as the form gives it)."""
    response = Client().post("/accounts/login/", {"username": username, "password": password})
    return response.status_code == 302 and response["Location"] == "/"


@pytest.fixture(autouse=True)
def _development_mode(settings):
    """Demo users are for development (DEBUG on, as `make run` sets it); pytest-django turns DEBUG off."""
    settings.DEBUG = True


def _run() -> dict[str, str]:
    out = StringIO()
    call_command("create_demo_users", stdout=out)
    return dict(re.findall(r"user: (\S+)\s+password: (\S+)", out.getvalue()))


@pytest.mark.django_db
def test_demo_users_get_random_printed_passwords_that_work():
    first = _run()
    assert set(first) == {"analyst", "modeladmin", "checker", "auditor"}
    for username, password in first.items():
        assert _logs_in(username, password)
    second = _run()
    assert second["analyst"] != first["analyst"]  # a reset gives a fresh random password
    assert not _logs_in("analyst", first["analyst"])


@pytest.mark.django_db
def test_demo_users_have_their_roles():
    from django.contrib.auth import get_user_model

    _run()
    User = get_user_model()
    analyst, admin = User.objects.get(username="analyst"), User.objects.get(username="modeladmin")
    assert is_analyst(analyst) and not is_model_admin(analyst) and not analyst.is_staff
    assert is_model_admin(admin) and admin.is_staff and not admin.is_superuser
    checker = User.objects.get(username="checker")  # the second model admin four eyes need
    assert is_model_admin(checker) and checker.is_staff and not checker.is_superuser
    auditor = User.objects.get(username="auditor")
    assert is_auditor(auditor) and not is_analyst(auditor) and not is_model_admin(auditor) and not auditor.is_staff


@pytest.mark.django_db
def test_with_debug_off_demo_users_are_refused_and_nothing_is_reset(settings):
    from django.contrib.auth import get_user_model

    first = _run()
    settings.DEBUG = False  # a production setup: `make run` with DEBUG=0 against its database
    with pytest.raises(CommandError, match="Refusing to create demo users: DEBUG is off"):
        _run()
    assert _logs_in("analyst", first["analyst"])  # the password was not reset
    assert get_user_model().objects.count() == 4
