import socket
import threading

import pytest
from django.test import override_settings

from training.models import ModelVersion

pytestmark = pytest.mark.django_db(transaction=True)  # the checks run on their own connections


def _broker_at(url: str):
    return override_settings(CELERY_BROKER_URL=url, CELERY_BROKER_TRANSPORT_OPTIONS={}, HEALTHCHECK_TIMEOUT_SECONDS=1)


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]  # nothing listens once the socket is closed


class SilentServer:
    """Accepts TCP connections on loopback and never answers: a hung dependency."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.port = self.sock.getsockname()[1]
        self.accepted = []
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def _accept(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.accepted.append(conn)

    def close(self):
        for conn in self.accepted:
            conn.close()
        self.sock.close()


def test_healthz_needs_no_login_and_reports_each_dependency(client):
    response = client.get("/healthz")
    body = response.json()
    assert set(body) == {"status", "database", "broker", "active_model"}
    assert body["database"]["ok"] is True
    assert body["broker"]["ok"] is True
    # No model trained in this test database: the truth is "degraded", with 503 for load balancers.
    assert body["active_model"] == {"ok": False, "detail": "no active model version"}
    assert body["status"] == "degraded"
    assert response.status_code == 503
    assert response["Cache-Control"].startswith("max-age=0")


def test_healthz_is_ok_with_an_active_model(client, settings, tmp_path):
    from training.artifacts import write_artifact_bytes

    settings.MODEL_ARTIFACT_DIR = tmp_path  # /healthz checks the active artifact's size and SHA-256
    stored = write_artifact_bytes(b"a stored model", "x.joblib")
    ModelVersion.objects.create(
        name="LogisticRegression-smote",
        algorithm="LogisticRegression",
        balancing="smote",
        threshold=0.3,
        artifact_path=stored.path,
        artifact_sha256=stored.sha256,
        artifact_size=stored.size,
        is_active=True,
    )
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["active_model"] == {"ok": True, "detail": "LogisticRegression-smote"}


def test_healthz_reports_a_closed_broker_port_as_down(client):
    url = f"redis://127.0.0.1:{_closed_port()}/0"
    with _broker_at(url):
        body = client.get("/healthz").json()
    assert body["broker"]["ok"] is False
    assert body["broker"]["kind"] == "redis"
    assert "refused" in body["broker"]["detail"].lower()
    assert body["database"]["ok"] is True


def test_healthz_answers_when_the_broker_hangs(client):
    server = SilentServer()
    try:
        url = f"redis://127.0.0.1:{server.port}/0"
        with override_settings(
            CELERY_BROKER_URL=url, CELERY_BROKER_TRANSPORT_OPTIONS={}, HEALTHCHECK_TIMEOUT_SECONDS=1
        ):
            body = client.get("/healthz").json()
    finally:
        server.close()
    assert body["broker"]["ok"] is False
    assert "timeout" in body["broker"]["detail"].lower() or "no answer within" in body["broker"]["detail"]


def test_healthz_never_shows_a_broker_password(client):
    url = f"redis://:s3cret-pass@127.0.0.1:{_closed_port()}/0"
    with _broker_at(url):
        response = client.get("/healthz")
    assert "s3cret-pass" not in response.content.decode()
