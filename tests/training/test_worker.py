"""Retraining through a real Celery worker process: queued → running → succeeded."""

import time

import pytest

from applicants.services import import_loan_file
from tests.training.conftest import AS_OF
from training.artifacts import load_artifact
from training.models import TrainingRun
from training.selectors import get_active_model_version
from training.services import request_retraining


@pytest.mark.trains
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_retrains_and_registers_a_verified_version(celery_worker_process, model_admin, loan_book_file):
    import_loan_file(loan_book_file, as_of=AS_OF)

    run = request_retraining(model_admin, profile="smoke", as_of=AS_OF, seed=2, recall_target=0.9)

    assert run.status == TrainingRun.Status.QUEUED and run.celery_task_id
    statuses = [run.status]
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline and celery_worker_process.poll() is None:
        status = TrainingRun.objects.values_list("status", flat=True).get(pk=run.pk)
        if status != statuses[-1]:
            statuses.append(status)
        if status in (TrainingRun.Status.SUCCEEDED, TrainingRun.Status.FAILED):
            break
        time.sleep(0.05)

    run.refresh_from_db()
    assert statuses == ["queued", "running", "succeeded"], run.error or run.log
    assert run.started_at and run.finished_at and run.progress == 100
    version = run.model_version
    assert version is not None and version == get_active_model_version()
    # Written by the worker, verified here against the hash the worker recorded.
    model = load_artifact(version)
    assert model.name == version.name and model.threshold == version.threshold
    assert model.metadata["training_run_id"] == run.pk
