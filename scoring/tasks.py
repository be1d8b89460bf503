"""Background jobs of the scoring app."""

from celery import shared_task

from scoring.batch_jobs import SCORE_TASK, run_batch_job


@shared_task(name=SCORE_TASK)
def score_batch_file(job_id: str) -> dict:
    """Score the uploaded loan file of batch job ``job_id`` (queued → running → succeeded/failed)."""
    return run_batch_job(job_id)
