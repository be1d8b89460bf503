"""Fault: Redis (the Celery broker) is unreachable when a Model admin asks for a retrain.

The admin gets an error message saying the run was not started and what to check, the run is
recorded as failed with that reason (never left "queued" for a task that does not exist), and
scoring, which needs no broker, keeps answering 200. ``/healthz`` reports the broker down.
"""

from contextlib import contextmanager

import pytest
from django.test import override_settings
from django.urls import reverse

from nplsite.celery import app as celery_app
from scoring.models import Prediction
from tests.reliability.conftest import closed_port
from tests.support import VALID_APPLICANT
from training.models import TrainingRun

pytestmark = pytest.mark.django_db(transaction=True)  # the retrain is queued outside any transaction


def _forget_broker_connections() -> None:
    """Make the app look its broker pools up again for the current URL (Celery has no public call for
    this). kombu keeps one pool per URL process-wide, so the real broker's pool is reused, untouched,
    once the URL is restored."""
    celery_app._pool = None
    celery_app.amqp._producer_pool = None


@contextmanager
def broker_at(url: str):
    """Celery (and the settings /healthz reads) pointed at ``url`` for the duration."""
    conf = celery_app.conf
    saved = conf.broker_url, conf.broker_transport_options
    _forget_broker_connections()
    conf.broker_url, conf.broker_transport_options = url, {"socket_connect_timeout": 1, "socket_timeout": 1}
    try:
        with override_settings(
            CELERY_BROKER_URL=url, CELERY_BROKER_TRANSPORT_OPTIONS={}, HEALTHCHECK_TIMEOUT_SECONDS=1
        ):
            yield
    finally:
        _forget_broker_connections()
        conf.broker_url, conf.broker_transport_options = saved


def test_retrain_with_the_broker_down_is_not_started_with_a_clear_message_and_scoring_goes_on(
    client, model_admin, analyst_api, make_version
):
    make_version("reliability-broker-down.joblib")
    client.force_login(model_admin)

    with broker_at(f"redis://127.0.0.1:{closed_port()}/0"):
        response = client.post(
            reverse("admin:training_trainingrun_retrain"), {"profile": "quick", "seed": 7}, follow=True
        )
        score = analyst_api.post("/api/v1/score", VALID_APPLICANT, format="json")
        health = client.get("/healthz")

    run = TrainingRun.objects.get()
    assert run.status == TrainingRun.Status.FAILED
    assert run.error.startswith("Not started: the task broker could not be reached")
    assert "Check that Redis (REDIS_URL) and a Celery worker are running" in run.error
    assert run.started_at is None and run.finished_at is not None and not run.celery_task_id
    assert response.status_code == 200
    shown = [(message.level_tag, str(message)) for message in response.context["messages"]]
    assert any(tag == "error" and "Not started: the task broker could not be reached" in text for tag, text in shown)

    assert score.status_code == 200, score.content
    assert Prediction.objects.count() == 1
    assert health.json()["broker"]["ok"] is False


def test_retrain_queues_again_once_the_broker_is_back(client, model_admin):
    """The failure is per request: with the real broker back, the next retrain is queued."""
    client.force_login(model_admin)
    with broker_at(f"redis://127.0.0.1:{closed_port()}/0"):
        client.post(reverse("admin:training_trainingrun_retrain"), {"profile": "quick", "seed": 7})

    client.post(reverse("admin:training_trainingrun_retrain"), {"profile": "quick", "seed": 7})

    statuses = list(TrainingRun.objects.order_by("pk").values_list("status", flat=True))
    assert statuses == [TrainingRun.Status.FAILED, TrainingRun.Status.QUEUED]
    assert TrainingRun.objects.get(status=TrainingRun.Status.QUEUED).celery_task_id
