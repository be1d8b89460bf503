"""Background jobs of the training app."""

from celery import shared_task

from training.services import RETRAIN_TASK, run_queued_training


@shared_task(name=RETRAIN_TASK)
def retrain_model(run_id: int) -> dict:
    """Train for the queued ``TrainingRun`` ``run_id`` (queued → running → succeeded/failed)."""
    return run_queued_training(run_id)
