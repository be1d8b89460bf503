"""Fault: the Celery worker is killed (SIGKILL) in the middle of a large batch and of a training run.

Nothing tells the broker: the embedded filesystem transport never redelivers the message, Redis
only after its visibility timeout. What does: the job's heartbeat (refreshed while the work lives)
stops. Once it is older than ``JOB_STALE_HEARTBEAT_SECONDS``, reading the job's status (its page,
its status JSON) or a worker starting marks it failed with a message (``jobs/lifecycle.py``), and
"Start again" on the failure page starts a new job that a restarted worker completes. The active
model version is never touched.
"""

import os
import signal
import time
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone

from applicants.services import import_loan_file
from scoring.models import BatchScoringJob, Prediction
from tests.conftest import start_celery_worker, stop_celery_worker, wait_until
from tests.reliability.conftest import AS_OF
from training.models import ModelVersion, TrainingRun
from training.selectors import get_active_model_version

STALE_SECONDS = 2
LARGE_BATCH_ROWS = 200_000
HEADER = "app_id,monthly_income,housing_type,num_of_dependent,lama_bekerja,otr,status_pernikahan,pekerjaan,tenor,dp"
ROW = ",9295094,milik sendiri,3,2,200000000,Nikah,Karyawan Swasta,48,40000000"


def _kill(worker) -> None:
    os.kill(worker.pid, signal.SIGKILL)
    worker.wait(timeout=30)


def _logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _large_loan_file() -> SimpleUploadedFile:
    lines = [HEADER, *(f"{100_000 + index}{ROW}" for index in range(LARGE_BATCH_ROWS))]
    return SimpleUploadedFile("large.csv", ("\n".join(lines) + "\n").encode(), content_type="text/csv")


@pytest.mark.slow
@pytest.mark.process  # starts Celery worker processes of its own
@pytest.mark.django_db(transaction=True)
def test_a_batch_whose_worker_is_killed_reads_as_failed_once_stale_and_starts_again(
    settings, tmp_path, analyst, role_groups, make_version, own_celery_worker
):
    make_version("reliability-batch-killed.joblib")
    settings.BATCH_INLINE_MAX_ROWS = 10
    client = _logged_in(analyst)
    response = client.post("/batch/", {"file": _large_loan_file()})
    assert response.status_code == 302
    job_url = response["Location"]
    job_id = job_url.rstrip("/").rsplit("/", 1)[1]

    def job() -> BatchScoringJob:
        return BatchScoringJob.objects.get(pk=job_id)

    assert wait_until(lambda: job().progress > 10 or job().finished, 180), "the worker never took the job"
    assert job().status == "running", job().error
    _kill(own_celery_worker)
    assert job().status == "running"  # nothing noticed yet: the broker cannot tell
    committed = Prediction.objects.filter(batch_job_id=job_id).count()
    assert 0 < committed < LARGE_BATCH_ROWS  # the chunks stored before the kill

    settings.JOB_STALE_HEARTBEAT_SECONDS = STALE_SECONDS
    worker = start_celery_worker(JOB_STALE_HEARTBEAT_SECONDS=str(STALE_SECONDS))
    try:
        killed_at = timezone.now()
        status = wait_until(
            lambda: (answer := client.get(job_url + "status.json").json())["status"] == "failed" and answer, 60
        )
        # Failed within the stale time of the last heartbeat (plus the polling interval), with a message.
        assert status and status["finished"], job().status
        assert status["error"].startswith("The worker running this batch-scoring job stopped (no heartbeat since ")
        assert job().finished_at - job().heartbeat_at < timedelta(seconds=STALE_SECONDS + 30)
        assert timezone.now() - killed_at < timedelta(seconds=STALE_SECONDS + 60)
        page = client.get(job_url)
        assert (
            b"The worker running this batch-scoring job stopped" in page.content
            and b'data-testid="retry"' in page.content
        )

        again = client.post(job_url + "retry/")
        assert again.status_code == 302 and again["Location"] != job_url
        retried = BatchScoringJob.objects.get(retry_of_id=job_id)
        done = wait_until(lambda: BatchScoringJob.objects.get(pk=retried.pk).finished, 300)
        retried.refresh_from_db()
        assert done and retried.status == "succeeded", retried.error
        assert retried.summary["applications_scored"] == LARGE_BATCH_ROWS
        # Idempotent: the killed job's committed chunks were replaced, not stored a second time.
        assert Prediction.objects.filter(channel="batch").count() == LARGE_BATCH_ROWS
        assert Prediction.objects.filter(batch_job=retried).count() == LARGE_BATCH_ROWS
    finally:
        stop_celery_worker(worker)


@pytest.mark.slow
@pytest.mark.process  # starts Celery worker processes of its own
@pytest.mark.django_db(transaction=True)
def test_a_training_run_whose_worker_is_killed_reads_as_failed_once_stale_and_starts_again(
    settings, model_admin, role_groups, make_version, loan_book, own_celery_worker
):
    active = make_version("reliability-worker-killed.joblib")
    import_loan_file(loan_book, as_of=AS_OF)
    client = _logged_in(model_admin)
    # The quick profile searches 20 candidates: many seconds, time to kill the worker mid-way.
    response = client.post("/models/retrain/", {"profile": "quick", "as_of": AS_OF.isoformat(), "seed": 3})
    assert response.status_code == 302
    run = TrainingRun.objects.get()

    def current() -> TrainingRun:
        return TrainingRun.objects.get(pk=run.pk)

    assert wait_until(lambda: current().progress >= 5 or current().finished, 180)
    assert current().status == TrainingRun.Status.RUNNING, current().log or current().error
    _kill(own_celery_worker)
    assert current().status == TrainingRun.Status.RUNNING

    settings.JOB_STALE_HEARTBEAT_SECONDS = STALE_SECONDS
    worker = start_celery_worker(JOB_STALE_HEARTBEAT_SECONDS=str(STALE_SECONDS))
    try:
        status_url = f"/models/runs/{run.pk}/status.json"
        assert wait_until(lambda: client.get(status_url).json()["status"] == "failed", 60)
        lost = current()
        assert lost.error.startswith("The worker running this training run stopped (no heartbeat since ")
        assert lost.finished_at is not None and lost.model_version is None
        assert get_active_model_version() == active
        page = client.get(f"/models/runs/{run.pk}/")
        assert b'data-testid="retry"' in page.content

        again = client.post(f"/models/runs/{run.pk}/retry/")
        retried = TrainingRun.objects.get(retry_of=run)
        assert again.status_code == 302 and again["Location"] == f"/models/runs/{retried.pk}/"
        assert retried.parameters == run.parameters and retried.started_by == model_admin
        assert wait_until(lambda: TrainingRun.objects.get(pk=retried.pk).finished, 600)
        retried.refresh_from_db()
        assert retried.status == TrainingRun.Status.SUCCEEDED, retried.error or retried.log
        assert ModelVersion.objects.filter(training_runs=retried).exists()
    finally:
        stop_celery_worker(worker)


@pytest.mark.django_db(transaction=True)
def test_a_live_job_keeps_beating_between_progress_reports_and_is_never_marked_stale(settings):
    """The other side: a job busy in one long step (no progress report) is alive, not stale."""
    from jobs.lifecycle import Heartbeat, fail_stale_jobs

    settings.JOB_STALE_HEARTBEAT_SECONDS = 1
    long_ago = timezone.now() - timedelta(minutes=5)
    run = TrainingRun.objects.create(status=TrainingRun.Status.RUNNING, started_at=long_ago, heartbeat_at=long_ago)

    with Heartbeat(run, interval=0.2):
        assert wait_until(lambda: TrainingRun.objects.get(pk=run.pk).heartbeat_at > long_ago, 10)
        marked = []
        for _ in range(4):  # 2 s in all: twice the stale threshold
            time.sleep(0.5)
            marked += fail_stale_jobs()

    assert marked == []
    assert TrainingRun.objects.get(pk=run.pk).status == TrainingRun.Status.RUNNING
