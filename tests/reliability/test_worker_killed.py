"""Fault: the Celery worker is killed (SIGKILL) in the middle of a training run.

Nothing tells the broker: the embedded filesystem transport never redelivers the message, Redis
only after its visibility timeout. What does: the run's heartbeat (refreshed by the training while
it lives) stops; once it is older than ``TRAINING_STALE_HEARTBEAT_SECONDS``, the next retrain
request (or the next worker to start) marks the run failed — ``fail_stale_training_runs``. The
active model version is never touched.
"""

import os
import signal
import time
from datetime import timedelta

import pytest
from django.utils import timezone

from applicants.services import import_loan_file
from tests.conftest import wait_until
from training.models import ModelVersion, TrainingRun
from training.selectors import get_active_model_version
from training.services import request_retraining

from .conftest import AS_OF

STALE_SECONDS = 2


def _run(pk: int) -> TrainingRun:
    return TrainingRun.objects.get(pk=pk)


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_killed_worker_leaves_a_run_that_is_marked_failed_once_its_heartbeat_is_stale(
    settings, model_admin, make_version, loan_book, celery_worker_process
):
    active = make_version("reliability-worker-killed.joblib")
    import_loan_file(loan_book, as_of=AS_OF)
    # The quick profile searches 20 candidates: many seconds, time to kill the worker mid-way.
    run = request_retraining(model_admin, profile="quick", as_of=AS_OF, seed=3)

    started = wait_until(lambda: _run(run.pk).progress >= 5 or _run(run.pk).status not in ("queued", "running"), 180)
    assert started and _run(run.pk).status == TrainingRun.Status.RUNNING, _run(run.pk).log or _run(run.pk).error
    os.kill(celery_worker_process.pid, signal.SIGKILL)
    celery_worker_process.wait(timeout=30)
    killed_at = _run(run.pk)
    assert killed_at.status == TrainingRun.Status.RUNNING  # nothing noticed yet: the broker cannot tell

    settings.TRAINING_STALE_HEARTBEAT_SECONDS = STALE_SECONDS
    stale = wait_until(lambda: timezone.now() - _run(run.pk).heartbeat_at > timedelta(seconds=STALE_SECONDS + 0.5), 30)
    assert stale and _run(run.pk).status == TrainingRun.Status.RUNNING  # no heartbeat since the kill
    # The Model admin, seeing no progress, asks for a retrain: the lost run is closed first.
    again = request_retraining(model_admin, profile="smoke", as_of=AS_OF, seed=4)

    lost = _run(run.pk)
    assert lost.status == TrainingRun.Status.FAILED
    assert lost.error.startswith("The worker running this training stopped (last heartbeat ")
    assert lost.finished_at is not None and lost.model_version is None
    assert again.status == TrainingRun.Status.QUEUED
    assert get_active_model_version() == active
    assert list(ModelVersion.objects.values_list("pk", flat=True)) == [active.pk]


@pytest.mark.django_db(transaction=True)
def test_a_live_run_keeps_beating_between_progress_reports_and_is_never_marked_stale(settings):
    """The other side: a training busy in one long step (no progress report) is alive, not stale."""
    from training.services import RunHeartbeat, fail_stale_training_runs

    settings.TRAINING_STALE_HEARTBEAT_SECONDS = 1
    long_ago = timezone.now() - timedelta(minutes=5)
    run = TrainingRun.objects.create(status=TrainingRun.Status.RUNNING, started_at=long_ago, heartbeat_at=long_ago)

    with RunHeartbeat(run.pk, interval=0.2):
        assert wait_until(lambda: _run(run.pk).heartbeat_at > long_ago, 10)
        marked = []
        for _ in range(4):  # 2 s in all: twice the stale threshold
            time.sleep(0.5)
            marked += fail_stale_training_runs()

    assert marked == []
    assert _run(run.pk).status == TrainingRun.Status.RUNNING
