"""Background jobs of the training app: a run's task and, when its search is spread over the workers,
the candidate-fold tasks and the task that ends the run (``training/distributed.py``)."""

import functools

from celery import shared_task
from django.conf import settings

from training.distributed import (
    FINISH_TASK,
    FIT_TASK,
    finish_distributed_training,
    search_fit,
    start_distributed_training,
)
from training.services import RETRAIN_TASK, run_queued_training


@shared_task(name=RETRAIN_TASK, bind=True)
def retrain_model(self, run_id: int) -> dict:
    """Train for the queued ``TrainingRun`` ``run_id`` (queued → running → succeeded/failed).

    With ``TRAINING_DISTRIBUTED`` the search's tasks go to the queue this task came from (so the workers
    that take training runs take them too), and the run ends in the last of them."""
    if settings.TRAINING_DISTRIBUTED and not self.request.is_eager:
        delivery = self.request.delivery_info or {}
        queue = delivery.get("routing_key") or settings.CELERY_TASK_DEFAULT_QUEUE
        return run_queued_training(run_id, start=functools.partial(start_distributed_training, queue=queue))
    return run_queued_training(run_id)


@shared_task(name=FIT_TASK)
def search_candidate_fold(context: dict, algorithm: str, balancing: str, fold: int) -> dict:
    """One candidate's search on one shared fold of a run (JSON: settings, scores, seconds, error)."""
    return search_fit(context, algorithm, balancing, fold)


@shared_task(name=FINISH_TASK)
def finish_search(outcomes: list[dict], context: dict) -> dict:
    """Choose, calibrate, refit, test and register from every candidate-fold outcome of a run."""
    return finish_distributed_training(outcomes, context)
