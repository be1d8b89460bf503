"""Fixtures shared by every test folder: users per role, and a real Celery worker process."""

import contextlib
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import connection
from django.test import override_settings

from nplsite.celery import app as celery_app
from nplsite.roles import ANALYST, MODEL_ADMIN

PROJECT_DIR = Path(__file__).resolve().parent.parent

# Each test session sends its tasks to a queue of its own, so a worker left running by `make run`
# (or another session on the same Redis) never takes a test's task.
TEST_QUEUE = f"npl-test-{uuid.uuid4().hex[:8]}"
celery_app.conf.task_default_queue = TEST_QUEUE


@pytest.fixture(scope="session")
def session_artifact_dir(tmp_path_factory):
    """The one MODEL_ARTIFACT_DIR of the models trained once per session (tests/scoring, tests/web):
    a single folder, so a version made by one folder's fixture still finds its artifact while another
    folder's session fixture is active."""
    folder = tmp_path_factory.mktemp("session-artifacts")
    override = override_settings(MODEL_ARTIFACT_DIR=folder)
    override.enable()
    yield folder
    override.disable()


@pytest.fixture(autouse=True)
def _engine_reads_the_active_version_afresh():
    """Every test starts from its own database: the scoring engine's reading of the active version
    and of the active decision policy from an earlier test (whose rows were rolled back, which no
    signal reports) must not carry over."""
    from scoring.engine import engine
    from scoring.policies import reading

    engine.forget_active_version()
    reading.forget()


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    """Tests create many users; the production hasher's deliberate slowness is not under test."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def make_user(username: str, role: str | None, *, is_staff: bool = False, password: str = "Correct-Horse-42"):
    user = get_user_model().objects.create_user(username=username, password=password, is_staff=is_staff)
    if role:
        # get_or_create: transactional tests flush the database, taking the migration's groups with it.
        user.groups.add(Group.objects.get_or_create(name=role)[0])
    return user


@pytest.fixture
def analyst(db):
    return make_user("ana", ANALYST)


@pytest.fixture
def model_admin(db):
    return make_user("mia", MODEL_ADMIN, is_staff=True)


@pytest.fixture
def analyst_client(client, analyst):
    client.force_login(analyst)
    return client


@pytest.fixture
def model_admin_client(client, model_admin):
    client.force_login(model_admin)
    return client


def _database_url_of_test_database() -> str:
    """DATABASE_URL under which a separate process reaches the database this test run uses."""
    db = connection.settings_dict
    if db["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{db['NAME']}"
    host = db.get("HOST") or "127.0.0.1"
    port = db.get("PORT") or 5432
    user = db.get("USER") or "postgres"
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    return f"postgres://{user}{password}@{host}:{port}/{db['NAME']}"


def start_celery_process(arguments: list[str], name: str, **extra_env) -> subprocess.Popen:
    """A real ``celery -A nplsite <arguments>`` process on the configured broker (Redis or the embedded
    transport), using the test database (``extra_env``: more settings); stop it with
    :func:`stop_celery_worker`."""
    env = dict(os.environ)
    env["DATABASE_URL"] = _database_url_of_test_database()
    env["DATA_DIR"] = str(settings.DATA_DIR)
    env["MODEL_ARTIFACT_DIR"] = str(settings.MODEL_ARTIFACT_DIR)
    env["BATCH_UPLOAD_DIR"] = str(settings.BATCH_UPLOAD_DIR)
    env.update(extra_env)
    log_path = settings.DATA_DIR / f"{TEST_QUEUE}-{name}-{uuid.uuid4().hex[:6]}.log"
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "nplsite", *arguments],
            cwd=PROJECT_DIR,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    process.log_path = log_path
    return process


def start_celery_worker(**extra_env) -> subprocess.Popen:
    """A real `celery worker` process consuming this session's test queue (see :func:`start_celery_process`)."""
    arguments = ["worker", "--pool=solo", "--concurrency=1", "-Q", TEST_QUEUE]
    arguments += ["-n", f"{TEST_QUEUE}-{uuid.uuid4().hex[:6]}@%h", "--without-gossip", "--without-mingle", "-l", "info"]
    return start_celery_process(arguments, "worker", **extra_env)


@contextlib.contextmanager
def celery_process(arguments: list[str], name: str, **environment: str):
    """:func:`start_celery_process` as a context: yields the Popen object, then stops it (printing the
    end of its log if it failed)."""
    process = start_celery_process(arguments, name, **environment)
    try:
        yield process
    finally:
        stop_celery_worker(process)


def stop_celery_worker(process: subprocess.Popen) -> None:
    """Stop a worker started by :func:`start_celery_worker` (if it still runs) and remove its log."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
    if process.returncode not in (0, -15, -9, None):
        sys.stderr.write(process.log_path.read_text(errors="replace")[-4000:])
    process.log_path.unlink(missing_ok=True)


@pytest.fixture
def celery_worker_process(transactional_db):
    """A real worker process (:func:`start_celery_worker`) for the test. Yields the Popen object."""
    process = start_celery_worker()
    try:
        yield process
    finally:
        stop_celery_worker(process)


def wait_until(predicate, timeout: float = 60.0, interval: float = 0.2):
    """Poll ``predicate`` until it returns a truthy value (returned) or ``timeout`` passes (None)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    return None


def pytest_sessionstart(session):
    """CI sets NPL_REQUIRE_REAL_SERVICES: then running on SQLite or the embedded broker is an error."""
    if os.environ.get("NPL_REQUIRE_REAL_SERVICES") != "1":
        return
    engine = settings.DATABASES["default"]["ENGINE"]
    if "postgresql" not in engine or not settings.REDIS_URL.startswith("redis://"):
        pytest.exit(f"CI must test on PostgreSQL and Redis, got {engine} and broker {settings.CELERY_BROKER_URL!r}", 2)
