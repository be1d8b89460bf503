"""Batch-scoring jobs of the web page: an uploaded loan file, scored inline or by the worker.

The scoring itself is :func:`scoring.batch.score_loan_file` (the same service as ``manage.py
score_csv``); this module keeps the upload and the job (``scoring.models.BatchScoringJob``, whose
lifecycle — claim, heartbeat, failing a job whose worker died — is every background job's,
``jobs/lifecycle.py``).

Files of at most ``BATCH_INLINE_MAX_BYTES`` (default 1 MiB) and ``BATCH_INLINE_MAX_ROWS`` rows
(default 2,000; rows as the CSV reader sees them, whatever the line endings:
:func:`applicants.loan_file.count_rows`) are scored during the upload request; all others by the
Celery task ``scoring.score_batch_file``, so a request never does more than that bounded work.
Predictions are committed a chunk at a time (so a large file never holds the database's write
lock for long), each linked to its job. A failed job can be started again
(:func:`retry_batch_job`): a new job on a copy of the same file, which first deletes what its
failed predecessors stored — a retried file is stored once. The results file's reasons are worded in
the language of the person who started the job (``BatchScoringJob.language``); the job page words
each row's reason again in its reader's language.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
from pathlib import Path

from django.conf import settings
from django.utils import timezone, translation

from applicants.loan_file import LoanFileError, count_rows
from applicants.models import Applicant
from jobs.lifecycle import (
    Heartbeat,
    claim,
    enqueue,
    fail_if_stale,
    failure_message,
    is_stale,
    mark_failed,
    worker_lost_message,
)
from nplsite.database import refresh_planner_statistics
from nplsite.roles import is_model_admin
from scoring.batch import score_loan_file
from scoring.engine import ScoringUnavailableError
from scoring.models import BatchScoringJob, Prediction

logger = logging.getLogger(__name__)

JOB_ID = re.compile(r"^[0-9a-f]{32}$")
SCORE_TASK = "scoring.score_batch_file"
JobStatus = BatchScoringJob.Status


def upload_root() -> Path:
    return Path(settings.BATCH_UPLOAD_DIR)


def inline_max_rows() -> int:
    return settings.BATCH_INLINE_MAX_ROWS


def inline_max_bytes() -> int:
    return settings.BATCH_INLINE_MAX_BYTES


def _store_upload(uploaded, target: Path) -> int:
    """Copy the upload to ``target`` (mode 0600); return its size in bytes."""
    size = 0
    descriptor = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as handle:
        for chunk in uploaded.chunks():
            handle.write(chunk)
            size += len(chunk)
    return size


def results_language() -> str:
    """The language a new job's results file is worded in: the one of the request that starts it."""
    language = translation.get_language() or settings.LANGUAGE_CODE
    supported = {code for code, _ in settings.LANGUAGES}
    return language if language in supported else settings.LANGUAGE_CODE


def submit_batch_file(uploaded, *, user) -> BatchScoringJob:
    """Store an uploaded loan file as a new job and score it: inline when it is small, else in the worker.

    Returns the job as it stands afterwards (finished for an inline job; queued, or failed when the
    broker cannot be reached, for a worker job).
    """
    job = BatchScoringJob(
        started_by=user if user is not None and user.is_authenticated else None,
        original_name=os.path.basename(uploaded.name or "upload.csv")[:200],
        language=results_language(),
    )
    job.directory.mkdir(parents=True, mode=0o700)
    job.size = _store_upload(uploaded, job.input_path)
    return _start(job)


def retry_batch_job(job: BatchScoringJob, *, user) -> BatchScoringJob:
    """Start a failed job again: a new job on a copy of its file (``retry_of`` the failed one)."""
    job = fail_if_stale(job)
    if job.status != JobStatus.FAILED:
        raise ValueError(f"Only a failed batch job can be started again; this one is {job.status}.")
    again = BatchScoringJob(
        started_by=user,
        original_name=job.original_name,
        size=job.size,
        rows=job.rows,
        retry_of=job,
        language=results_language(),
    )
    again.directory.mkdir(parents=True, mode=0o700)
    shutil.copyfile(job.input_path, again.input_path)
    os.chmod(again.input_path, 0o600)
    return _start(again)


def _start(job: BatchScoringJob) -> BatchScoringJob:
    # Rows are counted only in a small file: bounded work in the request. A small file the CSV module
    # cannot count is scored inline too, where the reader stops at once with what is wrong.
    small = job.size <= inline_max_bytes()
    rows = count_rows(job.input_path) if small else None
    job.rows = rows or 0
    job.in_worker = not small or (rows is not None and rows > inline_max_rows())
    job.save()
    if not job.in_worker:
        run_batch_job(job.id)
        job.refresh_from_db()
        return job
    if enqueue(job, SCORE_TASK, then="start the job again"):
        job.refresh_from_db()
    return job


def run_batch_job(job_id: str) -> dict:
    """Score a queued job's file (what the Celery task does; also called inline for small files).

    A job that is not queued any more is skipped, so a redelivered task never scores twice; one still
    running with a stale heartbeat lost its worker and is failed.
    """
    if not claim(BatchScoringJob, job_id):
        job = BatchScoringJob.objects.filter(pk=job_id).first()
        if job is None:
            return {"job_id": job_id, "status": "skipped", "reason": "no such job"}
        if is_stale(job):  # the message came back because the worker that ran it died
            mark_failed(job, worker_lost_message(job))
            return {"job_id": job_id, "status": job.status, "error": job.error}
        return {"job_id": job_id, "status": "skipped", "reason": f"job is {job.status}, not queued"}
    job = BatchScoringJob.objects.select_related("started_by").get(pk=job_id)
    BatchScoringJob.objects.filter(pk=job_id).update(progress=10)
    _forget_earlier_attempts(job)

    def link_to_job(predictions) -> None:
        # In the chunk's transaction: a chunk's predictions are stored and linked to the job together.
        Prediction.objects.filter(pk__in=[prediction.pk for prediction in predictions]).update(batch_job=job)

    def show_progress(done: int, total: int) -> None:
        # 10 % for reading and checking the file, 90 % spread over the applications scored.
        progress = min(99, 10 + int(89 * done / max(total, 1)))
        BatchScoringJob.objects.filter(pk=job_id).update(progress=progress, heartbeat_at=timezone.now())

    try:
        with Heartbeat(job), translation.override(job.language):
            summary = score_loan_file(
                job.input_path,
                job.output_path,
                report_path=None,
                user=job.started_by,
                progress=show_progress,
                chunk_stored=link_to_job,
                file_name=job.original_name,
            )
    except (LoanFileError, ScoringUnavailableError) as exc:
        mark_failed(job, str(exc))
    except Exception as exc:
        logger.exception("Batch job %s failed", job_id)
        mark_failed(job, failure_message(exc, "Scoring"))
    else:
        if summary.report_path and Path(summary.report_path) != job.report_path:
            os.replace(summary.report_path, job.report_path)
        refresh_planner_statistics(Prediction, Applicant)  # the pages read the new predictions next
        job.status, job.progress, job.finished_at = JobStatus.SUCCEEDED, 100, timezone.now()
        job.rows = summary.rows_read
        job.summary = {
            "statistics": summary.statistics.as_dict(),
            "rows_read": summary.rows_read,
            "applications_scored": summary.applications_scored,
            "rejected_rows": summary.rejected_rows,
            "rejected_applications": summary.rejected_applications,
            "model_version": summary.model_version,
        }
        job.save(update_fields=["status", "progress", "finished_at", "rows", "summary"])
    return {"job_id": job_id, "status": job.status, "error": job.error}


def _forget_earlier_attempts(job: BatchScoringJob) -> None:
    """A retry scores the whole file again: the chunks its failed predecessors committed (each job
    commits chunk by chunk) are deleted first, so a file is never stored twice however often it is retried."""
    earlier, attempt = [], job.retry_of
    while attempt is not None and attempt.pk not in earlier:
        earlier.append(attempt.pk)
        attempt = attempt.retry_of
    if earlier:
        deleted, _ = Prediction.objects.filter(batch_job_id__in=earlier).delete()
        logger.info("Batch job %s retries %s: deleted their %s stored predictions", job.pk, earlier, deleted)


def get_batch_job(job_id: str, user) -> BatchScoringJob | None:
    """The job if it exists and ``user`` may see it (its owner, or a model admin), failed first if its
    worker died; else ``None``."""
    if not JOB_ID.match(job_id or ""):
        return None
    job = BatchScoringJob.objects.filter(pk=job_id).first()
    if job is None:
        return None
    if job.started_by_id != getattr(user, "pk", None) and not is_model_admin(user):
        return None
    return fail_if_stale(job)


def recent_batch_jobs(user, limit: int = 5) -> list[BatchScoringJob]:
    """``user``'s latest jobs, newest first."""
    return [fail_if_stale(job) for job in BatchScoringJob.objects.filter(started_by=user)[:limit]]


def batch_job_status(job: BatchScoringJob) -> dict:
    """A job's state as the JSON status endpoint answers it."""
    return {
        "id": job.id,
        "status": job.status,
        "progress": job.progress,
        "rows": job.rows,
        "finished": job.finished,
        "error": job.error,
        "summary": job.summary,
    }
