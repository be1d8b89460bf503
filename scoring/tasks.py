"""Background jobs of the scoring app: a batch file is split by one task, then scored by one task per chunk."""

from celery import shared_task
from django.conf import settings

from scoring.batch_jobs import CHUNK_TASK, SCORE_TASK, run_batch_job, score_chunk


@shared_task(name=SCORE_TASK, bind=True)
def score_batch_file(self, job_id: str) -> dict:
    """Read the uploaded file of batch job ``job_id`` into chunks and send one chunk task each, to the
    queue this task came from."""
    queue = (self.request.delivery_info or {}).get("routing_key") or None
    return run_batch_job(job_id, queue=queue)


@shared_task(name=CHUNK_TASK, bind=True)
def score_batch_chunk(self, job_id: str, number: int) -> dict:
    """Score chunk ``number`` of batch job ``job_id``; retried ``BATCH_CHUNK_RETRIES`` times, then the job fails."""
    retries = settings.BATCH_CHUNK_RETRIES
    attempt = self.request.retries + 1
    try:
        return score_chunk(job_id, number, attempt=attempt, final=attempt > retries)
    except Exception as exc:
        raise self.retry(exc=exc, countdown=settings.BATCH_CHUNK_RETRY_SECONDS * attempt, max_retries=retries) from exc
