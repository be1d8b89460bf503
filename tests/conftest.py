"""Fixtures shared by every test folder: users per role, and a real Celery worker process."""

import contextlib
import importlib
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
from django.utils import translation

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
def _api_tokens_are_checked_afresh():
    """A token checked by an earlier test (whose rows were rolled back, which no signal reports) is not
    remembered into this one (nplsite/authentication.py)."""
    from nplsite.authentication import memory

    memory.clear()


@pytest.fixture(autouse=True)
def _each_test_starts_in_the_default_language():
    """A page request activates its language in the thread and leaves it active: an earlier test that
    asked for Indonesian must not turn a later one (in this process, in whatever order) Indonesian."""
    translation.deactivate()
    yield
    translation.deactivate()


@pytest.fixture(autouse=True)
def _role_groups_exist(request):
    """The role groups the first migration creates (and the review desk's reason codes) exist in every
    test that uses the database, as on a migrated database: a transactional test (run before this one
    in this process, in whatever order pytest-xdist hands out the files) flushes every table, the
    migrations' rows too."""
    if "django_db_setup" not in request.fixturenames and request.node.get_closest_marker("django_db") is None:
        return
    request.getfixturevalue("django_db_setup")
    with request.getfixturevalue("django_db_blocker").unblock():
        for name in (ANALYST, MODEL_ADMIN):
            Group.objects.get_or_create(name=name)
        _reason_codes_exist()


def _reason_codes_exist():
    """The review desk's reason codes, as its data migration seeds them (flushed like the groups)."""
    from django.apps import apps

    if not apps.get_model("reviews", "ReasonCode").objects.exists():
        importlib.import_module("reviews.migrations.0002_reason_codes_and_queue_index").seed(apps, None)


@pytest.fixture(autouse=True)
def _a_cache_of_its_own(settings):
    """Each test reads and writes the cache under a prefix of its own: an earlier test's rate-limit
    counts for its user (the same user id in every test's database) must not carry over, whatever
    order pytest-xdist runs the tests in."""
    default = settings.CACHES["default"]
    settings.CACHES = {
        **settings.CACHES,
        "default": {**default, "KEY_PREFIX": f"{default.get('KEY_PREFIX', '')}-{uuid.uuid4().hex[:8]}"},
    }


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


def start_celery_worker(queue: str | None = None, **extra_env) -> subprocess.Popen:
    """A real `celery worker` process consuming ``queue`` (default: this session's test queue, where the
    tests send their tasks) (see :func:`start_celery_process`)."""
    arguments = ["worker", "--pool=solo", "--concurrency=1", "-Q", queue or TEST_QUEUE]
    arguments += ["-n", f"{TEST_QUEUE}-{uuid.uuid4().hex[:6]}@%h", "--without-gossip", "--without-mingle", "-l", "info"]
    return start_celery_process(arguments, "worker", **extra_env)


def chunk_tasks_scored(log: str, job_id: str) -> int:
    """How many chunk tasks of batch job ``job_id`` a worker's log shows scored. The test queue may hold
    tasks that earlier tests of this process queued with no worker running: a worker takes those too
    (and skips them), so its log is read for this job's tasks only."""
    return sum(
        "Task scoring.score_batch_chunk[" in line and f"'job_id': '{job_id}'" in line and "'status': 'scored'" in line
        for line in log.splitlines()
    )


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
def own_celery_worker(transactional_db):
    """A real worker process of the test's own (:func:`start_celery_worker`, on this session's test
    queue), for the tests that kill or restart it. Yields the Popen object."""
    process = start_celery_worker()
    try:
        yield process
    finally:
        stop_celery_worker(process)


# The session's worker consumes a queue of its own: tasks the other tests queue with no worker running
# (and expect to stay queued) go to TEST_QUEUE, which no session worker takes.
SESSION_WORKER_QUEUE = f"{TEST_QUEUE}-worker"


@pytest.fixture(scope="session")
def session_upload_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("session-uploads")


@pytest.fixture(scope="session")
def session_celery_worker(django_db_setup, session_artifact_dir, session_upload_dir):
    """One real worker process for the session (each xdist worker has its own, and its own database):
    on the test database, with the session's MODEL_ARTIFACT_DIR and BATCH_UPLOAD_DIR. Stopped before
    the test database is dropped."""
    process = start_celery_worker(
        SESSION_WORKER_QUEUE, MODEL_ARTIFACT_DIR=str(session_artifact_dir), BATCH_UPLOAD_DIR=str(session_upload_dir)
    )
    yield process
    stop_celery_worker(process)


def _worker_answers(queue: str, timeout: float = 120) -> int:
    """Send a health ping through ``queue`` and wait for the answer: the tasks queued before it are
    done by then (one solo worker takes them in order). Returns the worker's pid."""
    from nplsite.tasks import health_ping

    token = uuid.uuid4().hex
    answer = health_ping.apply_async((token,), queue=queue).get(timeout=timeout)
    assert answer["token"] == token
    return answer["worker_pid"]


@pytest.fixture
def celery_worker_process(transactional_db, session_celery_worker, settings, session_artifact_dir, session_upload_dir):
    """The session's real worker process (:func:`session_celery_worker`), for this test: the tasks the
    test (or its live server) queues go to the worker's queue, the test's settings agree with the
    worker's folders, and readings of an earlier test's active version or policy have expired in the
    worker. Afterwards the test's tasks left in the queue are dropped and the one running finishes
    before the database is flushed. Yields the Popen object."""
    assert session_celery_worker.poll() is None, session_celery_worker.log_path.read_text(errors="replace")[-4000:]
    settings.MODEL_ARTIFACT_DIR = session_artifact_dir
    settings.BATCH_UPLOAD_DIR = session_upload_dir
    time.sleep(settings.SCORING_ACTIVE_VERSION_RECHECK_SECONDS + 0.2)
    previous = celery_app.conf.task_default_queue
    celery_app.conf.task_default_queue = SESSION_WORKER_QUEUE
    try:
        yield session_celery_worker
    finally:
        celery_app.conf.task_default_queue = previous
        if session_celery_worker.poll() is None:
            with celery_app.connection_for_write() as connection:
                connection.default_channel.queue_purge(SESSION_WORKER_QUEUE)
            _worker_answers(SESSION_WORKER_QUEUE)


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


# Fixtures that run a real process: a test using one is marked `process` (`-m "not process"` leaves them out).
PROCESS_FIXTURES = {"celery_worker_process", "own_celery_worker", "session_celery_worker"}


# Started first: the long tests that wait for a state rather than count what happens meanwhile (a
# killed worker's job going stale). Left where they are: the busy-database test, which counts answers
# while a batch runs and so wants the machine no busier than usual (not beside a session's training).
STARTED_FIRST = ("tests/reliability/test_worker_killed.py",)


def pytest_collection_modifyitems(config, items):
    for item in items:
        if PROCESS_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.process)
    # pytest-xdist hands tests out in this order: a minute-long test handed out last leaves one worker
    # alone at the end.
    items.sort(key=lambda item: not item.nodeid.startswith(STARTED_FIRST))


_SESSION_STARTED = time.monotonic()


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    """The run's own duration, just above pytest's closing line: from NPL_TEST_STARTED (seconds since
    the epoch, set by scripts/test.sh before its lint step) when given, else from this session's start."""
    if hasattr(config, "workerinput"):  # an xdist worker: the controller reports
        return
    started = os.environ.get("NPL_TEST_STARTED")
    try:
        seconds = time.time() - float(started) if started else time.monotonic() - _SESSION_STARTED
    except ValueError:
        seconds = time.monotonic() - _SESSION_STARTED
    what = "make test (lint and pytest)" if started else "pytest"
    terminalreporter.write_line(f"{what} took {int(seconds // 60)} min {seconds % 60:04.1f} s")
