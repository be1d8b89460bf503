"""Production settings: `check --deploy` is clean, nothing starts without a secret key or without its
static files, DEBUG is off unless asked for, and /healthz answers over plain HTTP."""

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

PROJECT_DIR = Path(__file__).resolve().parents[2]
# Left out of a child's environment: the production start-up under test reads its own.
NOT_INHERITED = {"SECRET_KEY", "DEBUG", "ALLOWED_HOSTS", "DJANGO_SETTINGS_MODULE"}
PRODUCTION = {"DEBUG": "0", "ALLOWED_HOSTS": "npl.example.co.id,testserver"}


def _manage(*args, **env_overrides):
    env = {k: v for k, v in os.environ.items() if k not in NOT_INHERITED}
    env.update(env_overrides)
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=PROJECT_DIR, env=env, capture_output=True, text=True, timeout=600
    )


@pytest.fixture(scope="module")
def collected_static(tmp_path_factory) -> str:
    """A STATIC_ROOT filled by `collectstatic`, as the Dockerfile does when building the image."""
    folder = tmp_path_factory.mktemp("staticfiles")
    result = _manage(
        "collectstatic", "--noinput", SECRET_KEY=secrets.token_urlsafe(64), STATIC_ROOT=str(folder), **PRODUCTION
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return str(folder)


@pytest.mark.process
def test_check_deploy_is_clean_in_production_settings(collected_static):
    result = _manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        SECRET_KEY=secrets.token_urlsafe(64),
        STATIC_ROOT=collected_static,
        **PRODUCTION,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues (0 silenced)." in result.stdout
    assert "WARNING" not in result.stderr


@pytest.mark.process
def test_production_refuses_to_start_without_a_secret_key():
    result = _manage("check", DEBUG="0", ALLOWED_HOSTS="npl.example.co.id")
    assert result.returncode != 0
    assert "SECRET_KEY must be set when DEBUG is off" in result.stderr
    assert "DEBUG=1 .venv/bin/python manage.py" in result.stderr  # how to reach the development setup


@pytest.mark.process
def test_a_malformed_boolean_is_an_error_not_a_guess():
    result = _manage("check", DEBUG="maybe")
    assert result.returncode != 0
    assert "DEBUG must be a boolean" in result.stderr


@pytest.mark.process
def test_an_active_version_recheck_outside_seconds_is_refused():
    result = _manage("check", DEBUG="1", SCORING_ACTIVE_VERSION_RECHECK_SECONDS="3600")
    assert result.returncode != 0
    assert "SCORING_ACTIVE_VERSION_RECHECK_SECONDS must be between 0 and 60 seconds, got 3600.0" in result.stderr


@pytest.mark.process
def test_debug_is_off_unless_asked_for(collected_static, tmp_path):
    show = "from django.conf import settings; print('DEBUG', settings.DEBUG)"
    unset = _manage("shell", "-c", show, SECRET_KEY=secrets.token_urlsafe(64), STATIC_ROOT=collected_static)
    assert unset.returncode == 0, unset.stderr
    assert "DEBUG False" in unset.stdout
    asked = _manage("shell", "-c", show, DEBUG="1")
    assert "DEBUG True" in asked.stdout


def _start_wsgi(**env):
    """Load the WSGI application as gunicorn does (`nplsite.wsgi:application`)."""
    environment = {k: v for k, v in os.environ.items() if k not in NOT_INHERITED}
    environment.update(env)
    return subprocess.run(
        [sys.executable, "-c", "import nplsite.wsgi"],
        cwd=PROJECT_DIR,
        env=environment,
        capture_output=True,
        text=True,
        timeout=600,
    )


@pytest.mark.process
def test_without_collected_static_files_the_web_server_refuses_to_start_and_says_why(collected_static, tmp_path):
    key = secrets.token_urlsafe(64)
    missing = _start_wsgi(SECRET_KEY=key, STATIC_ROOT=str(tmp_path / "empty"), **PRODUCTION)
    assert missing.returncode != 0
    assert "DEBUG is off but the static files are not collected" in missing.stderr
    assert "manage.py collectstatic --noinput" in missing.stderr
    check = _manage("check", "--deploy", SECRET_KEY=key, STATIC_ROOT=str(tmp_path / "empty"), **PRODUCTION)
    assert check.returncode != 0 and "nplsite.E001" in check.stderr

    collected = _start_wsgi(SECRET_KEY=key, STATIC_ROOT=collected_static, **PRODUCTION)
    assert collected.returncode == 0, collected.stderr


@pytest.mark.process
def test_healthz_over_plain_http_is_not_redirected_while_pages_are(collected_static, tmp_path):
    probe = (
        "from django.test import Client; c = Client(); "
        "print('healthz', c.get('/healthz').status_code); print('login', c.get('/accounts/login/').status_code)"
    )
    result = _manage(
        "shell",
        "-c",
        probe,
        SECRET_KEY=secrets.token_urlsafe(64),
        STATIC_ROOT=collected_static,
        DATA_DIR=str(tmp_path),
        **PRODUCTION,
    )
    assert result.returncode == 0, result.stderr
    assert "login 301" in result.stdout  # the HTTPS redirect is on ...
    healthz = result.stdout.split("healthz ")[1].split()[0]
    assert healthz in {"200", "503"}  # ... but the probe gets the health answer itself
