"""Background jobs of the training app."""

from celery import shared_task
from celery.signals import worker_ready

from .services import fail_stale_training_runs, run_queued_training


@shared_task(name="training.retrain_model")
def retrain_model(run_id: int) -> dict:
    """Train for the queued ``TrainingRun`` ``run_id`` (queued → running → succeeded/failed)."""
    return run_queued_training(run_id)


@worker_ready.connect
def fail_runs_of_lost_workers(**kwargs) -> None:
    """A worker starting up marks failed the runs whose worker died (no heartbeat for the stale threshold)."""
    fail_stale_training_runs()
