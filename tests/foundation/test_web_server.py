"""Issue 24: one gunicorn.conf.py for `make run`, the image and docker-compose; keep-alive workers with
the request limits; a request past the time limit ends its worker; and, against a real gunicorn of
two processes, an API token's revocation refused within a second by every process."""

import http.client
import importlib.util
import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import pytest
import yaml
from django.conf import settings

from nplsite.roles import ANALYST
from nplsite.tokens import issue_api_token
from tests.conftest import _database_url_of_test_database, make_user

ROOT = Path(__file__).resolve().parents[2]
CONFIG = ROOT / "gunicorn.conf.py"


def load_config(**environment):
    """gunicorn.conf.py read as gunicorn reads it (a Python file), under these environment variables."""
    saved = {name: os.environ.get(name) for name in environment}
    os.environ.update(environment)
    try:
        spec = importlib.util.spec_from_file_location("gunicorn_conf_under_test", CONFIG)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def test_make_run_the_image_and_compose_all_run_gunicorn_with_the_one_file():
    script = (ROOT / "scripts" / "run.sh").read_text()
    assert re.search(r"^\$BIN/gunicorn$", script, re.MULTILINE) and "runserver" not in script
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert 'CMD ["gunicorn"]' in dockerfile and re.search(r"^ENV HOST=0\.0\.0\.0", dockerfile, re.MULTILINE)
    web = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]["web"]
    assert re.search(r'exec gunicorn"?\s*$', web["command"])  # no option: everything is in the file
    assert set(web["environment"]) >= {"WEB_WORKERS", "WEB_THREADS", "DATABASE_URL"}


def test_the_file_keeps_connections_alive_with_the_limits():
    config = load_config(HOST="", PORT="", WEB_WORKERS="", WEB_THREADS="", WEB_KEEPALIVE_SECONDS="", WEB_TIMEOUT="")
    assert config.wsgi_app == "nplsite.wsgi:application" and config.bind == ["127.0.0.1:8000"]
    assert config.worker_class == "gthread" and config.threads == 4 and config.workers == 2
    assert config.keepalive == 75 and config.timeout == 30
    assert (config.limit_request_line, config.limit_request_fields, config.limit_request_field_size) == (
        4094,
        100,
        8190,
    )
    assert config.accesslog == "-" and config.control_socket_disable is True
    other = load_config(HOST="10.1.2.3", PORT="9000", WEB_WORKERS="3", WEB_THREADS="8", WEB_TIMEOUT="12")
    assert other.bind == ["10.1.2.3:9000"] and (other.workers, other.threads, other.timeout) == (3, 8, 12)
    with pytest.raises(SystemExit, match="WEB_THREADS must be a whole number"):
        load_config(WEB_THREADS="many")
    with pytest.raises(SystemExit, match="WEB_WORKERS must be at least 1"):
        load_config(WEB_WORKERS="0")


class FakeWorker:
    def __init__(self):
        self.alive, self.pid, self.errors = True, 123, []
        self.log = SimpleNamespace(error=lambda message, *args: self.errors.append(message % args))


def test_a_request_past_the_time_limit_stops_its_worker_after_the_others_finish():
    config = load_config()
    worker, now, exits = FakeWorker(), [100.0], []
    running = {1: (100.0, "GET /stuck"), 2: (120.0, "POST /api/v1/score")}

    def sleep(seconds):
        now[0] += seconds
        if now[0] >= 131.5:  # the other request finishes 1.5 s after the stuck one passed the limit
            running.pop(2, None)

    def exit(code):
        exits.append((code, now[0]))
        raise SystemExit(code)

    with pytest.raises(SystemExit):
        config.watch_requests(worker, limit=30, running=running, clock=lambda: now[0], sleep=sleep, exit=exit)
    assert exits == [(1, pytest.approx(131.5, abs=0.11))]
    assert worker.alive is False
    assert len(worker.errors) == 1 and all("still running after" in e and "limit is 30 s" in e for e in worker.errors)


def test_requests_within_the_limit_leave_the_worker_alone():
    config = load_config()
    worker, now, checks = FakeWorker(), [0.0], []
    running = {1: (0.0, "GET /")}

    def sleep(seconds):
        now[0] += seconds
        checks.append(now[0])
        if len(checks) > 25:
            raise StopIteration

    with pytest.raises(StopIteration):
        config.watch_requests(worker, limit=30, running=running, clock=lambda: now[0], sleep=sleep, exit=None)
    assert worker.alive and not worker.errors


# ---------------------------------------------------------------------------------------------
# A real gunicorn
# ---------------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def live_gunicorn(transactional_db, tmp_path):
    """gunicorn with the repository's gunicorn.conf.py (two workers) on the test database."""
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": _database_url_of_test_database(),
        "DATA_DIR": str(settings.DATA_DIR),
        "MODEL_ARTIFACT_DIR": str(tmp_path),
        "HOST": "127.0.0.1",
        "PORT": str(port),
        "WEB_WORKERS": "2",
        "API_AUTH_CACHE_SECONDS": "1",  # the most the setting allows: revocation must still be within 1 s
    }
    log_path = tmp_path / "gunicorn.log"
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            [str(Path(sys.executable).parent / "gunicorn")],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + 60
        while True:
            assert process.poll() is None, log_path.read_text()[-3000:]
            try:
                if get(port, "/healthz")[0] in (200, 503):
                    break
            except OSError:
                pass
            assert time.monotonic() < deadline, log_path.read_text()[-3000:]
            time.sleep(0.2)
        yield port
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, 9)
            process.wait(timeout=10)


def get(port: int, path: str, headers: dict | None = None, connection=None) -> tuple[int, http.client.HTTPResponse]:
    own = connection is None
    connection = connection or http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request("GET", path, headers=headers or {})
        response = connection.getresponse()
        response.read()
        return response.status, response
    finally:
        if own:
            connection.close()


def test_the_server_keeps_a_connection_alive_between_requests(live_gunicorn):
    connection = http.client.HTTPConnection("127.0.0.1", live_gunicorn, timeout=10)
    get(live_gunicorn, "/healthz", connection=connection)
    first = connection.sock
    for _ in range(5):
        status, response = get(live_gunicorn, "/healthz", connection=connection)
        assert status in (200, 503) and not response.will_close
    assert connection.sock is first  # the same socket all along
    connection.close()


@pytest.mark.parametrize("revocation", ["deactivated", "password changed", "token revoked"])
def test_a_revocation_is_refused_by_every_server_process_within_a_second(live_gunicorn, revocation):
    user = make_user(f"ana-{revocation.split()[0]}", ANALYST)
    key = issue_api_token(user)[1]
    headers = {"Authorization": f"Token {key}"}
    path = "/api/v1/models/active"  # 404 without an active model: authenticated, with the role
    # Both processes check the token and remember it (new connections go to either).
    for _ in range(20):
        assert get(live_gunicorn, path, headers)[0] == 404
    if revocation == "deactivated":
        user.is_active = False
        user.save()
    elif revocation == "password changed":
        user.set_password("Another-Horse-43")
        user.save()
    else:
        from nplsite.tokens import revoke_api_tokens

        revoke_api_tokens(user)
    revoked_at = time.monotonic()
    last_accepted = None
    while time.monotonic() - revoked_at < 1.5:
        if get(live_gunicorn, path, headers)[0] != 401:
            last_accepted = time.monotonic() - revoked_at
        time.sleep(0.02)
    assert last_accepted is None or last_accepted < 1.0, f"accepted {last_accepted:.2f} s after the revocation"
    assert [get(live_gunicorn, path, headers)[0] for _ in range(10)] == [401] * 10
