"""Issue 22, item 8: a job whose worker was killed reads "failed" everywhere within the heartbeat
limit, without anyone opening it: Celery beat sends the sweep (``jobs.sweep_stale_jobs``)."""

from datetime import timedelta

import pytest
from django.utils import timezone

from jobs.tasks import sweep_stale_jobs
from scoring.models import BatchScoringJob
from training.models import TrainingRun

pytestmark = pytest.mark.django_db


def test_beat_sends_the_sweep_within_the_heartbeat_limit(settings):
    assert settings.CELERY_BEAT_SCHEDULE["sweep-stale-jobs"] == {
        "task": "jobs.sweep_stale_jobs",
        "schedule": float(settings.JOB_SWEEP_SECONDS),
    }
    assert 1 <= settings.JOB_SWEEP_SECONDS <= settings.JOB_STALE_HEARTBEAT_SECONDS / 3


def test_the_sweep_fails_every_job_whose_worker_died_and_leaves_live_ones_alone(settings):
    now = timezone.now()
    stale = now - timedelta(seconds=settings.JOB_STALE_HEARTBEAT_SECONDS + 5)
    dead_run = TrainingRun.objects.create(status=TrainingRun.Status.RUNNING, started_at=stale, heartbeat_at=stale)
    live_run = TrainingRun.objects.create(status=TrainingRun.Status.RUNNING, started_at=stale, heartbeat_at=now)
    queued_run = TrainingRun.objects.create(status=TrainingRun.Status.QUEUED)
    dead_batch = BatchScoringJob.objects.create(
        original_name="loans.csv", status=BatchScoringJob.Status.RUNNING, started_at=stale, heartbeat_at=None
    )

    failed = sweep_stale_jobs.apply().get()  # what a worker runs when beat sends the task

    assert sorted(failed) == sorted(
        [["training.TrainingRun", str(dead_run.pk)], ["scoring.BatchScoringJob", dead_batch.pk]]
    )
    statuses = dict(TrainingRun.objects.values_list("pk", "status"))  # a plain read: nothing re-checks here
    assert statuses == {dead_run.pk: "failed", live_run.pk: "running", queued_run.pk: "queued"}
    assert BatchScoringJob.objects.get(pk=dead_batch.pk).status == "failed"
    assert "worker" in TrainingRun.objects.get(pk=dead_run.pk).error
    assert sweep_stale_jobs.apply().get() == []  # nothing left to fail
