"""Batch-scoring jobs of the web page: an uploaded loan file, scored inline or by the worker.

The scoring itself is :func:`scoring.batch.score_loan_file` (the same service as ``manage.py
score_csv``); this module only keeps the upload and the job's state. A job is a folder
``BATCH_UPLOAD_DIR/<32 hex digits>/`` (default ``DATA_DIR/uploads``: outside every static root; web
and worker processes must share it) holding:

- ``input.csv`` — the upload, copied chunk by chunk under a fixed name with mode 0600; it is only
  ever read as CSV, never executed or served;
- ``scored.csv`` and, when rows were rejected, ``scored-errors.csv`` — the results;
- ``job.json`` — owner, status (queued → running → succeeded/failed), progress, times, summary;
  replaced atomically, so a reader never sees half a file.

Files of at most ``BATCH_INLINE_MAX_BYTES`` (default 1 MiB) and ``BATCH_INLINE_MAX_ROWS`` rows
(default 2,000; rows as the CSV reader sees them, whatever the line endings:
:func:`applicants.loan_file.count_rows`) are scored during the upload request; all others by the
Celery task ``scoring.score_batch_file``, so a request never does more than that bounded work.
"""

from __future__ import annotations

import json
import logging
import os
import re
import uuid
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.utils import timezone

from applicants.loan_file import LoanFileError, count_rows
from nplsite.roles import is_model_admin

from .batch import score_loan_file
from .engine import ScoringUnavailableError

logger = logging.getLogger(__name__)

JOB_ID = re.compile(r"^[0-9a-f]{32}$")
INPUT_NAME = "input.csv"
OUTPUT_NAME = "scored.csv"
REPORT_NAME = "scored-errors.csv"
STATE_NAME = "job.json"
RECENT_SCAN_LIMIT = 200


class JobStatus:
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    FINISHED = (SUCCEEDED, FAILED)


def upload_root() -> Path:
    return Path(settings.BATCH_UPLOAD_DIR)


def inline_max_rows() -> int:
    return settings.BATCH_INLINE_MAX_ROWS


@dataclass
class BatchJob:
    id: str
    user_id: int | None
    original_name: str
    size: int = 0
    rows: int = 0
    status: str = JobStatus.QUEUED
    progress: int = 0
    in_worker: bool = False
    created_at: str = ""
    started_at: str = ""
    finished_at: str = ""
    error: str = ""
    summary: dict = field(default_factory=dict)

    @property
    def directory(self) -> Path:
        return upload_root() / self.id

    @property
    def input_path(self) -> Path:
        return self.directory / INPUT_NAME

    @property
    def output_path(self) -> Path:
        return self.directory / OUTPUT_NAME

    @property
    def report_path(self) -> Path:
        return self.directory / REPORT_NAME

    @property
    def finished(self) -> bool:
        return self.status in JobStatus.FINISHED

    @property
    def has_output(self) -> bool:
        return self.status == JobStatus.SUCCEEDED and self.output_path.is_file()

    @property
    def has_report(self) -> bool:
        return self.status == JobStatus.SUCCEEDED and self.report_path.is_file()

    def created(self) -> datetime | None:
        return datetime.fromisoformat(self.created_at) if self.created_at else None

    def finished_time(self) -> datetime | None:
        return datetime.fromisoformat(self.finished_at) if self.finished_at else None


def _now() -> str:
    return timezone.now().isoformat()


def _save(job: BatchJob) -> None:
    temporary = job.directory / f".{STATE_NAME}.{os.getpid()}.tmp"
    temporary.write_text(json.dumps(asdict(job)), encoding="utf-8")
    os.replace(temporary, job.directory / STATE_NAME)


def _load(job_id: str) -> BatchJob | None:
    if not JOB_ID.match(job_id or ""):
        return None
    try:
        data = json.loads((upload_root() / job_id / STATE_NAME).read_text(encoding="utf-8"))
    except (FileNotFoundError, ValueError):
        return None
    return BatchJob(**data)


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


def submit_batch_file(uploaded, *, user) -> BatchJob:
    """Store an uploaded loan file as a new job and score it: inline when it is small, else in the worker.

    Returns the job as it stands afterwards (finished for an inline job; queued, or failed when the
    broker cannot be reached, for a worker job).
    """
    job = BatchJob(
        id=uuid.uuid4().hex,
        user_id=user.pk if user is not None and user.is_authenticated else None,
        original_name=os.path.basename(uploaded.name or "upload.csv")[:200],
        created_at=_now(),
    )
    job.directory.mkdir(parents=True, mode=0o700)
    job.size = _store_upload(uploaded, job.input_path)
    # Rows are counted only in a small file: bounded work in the request. A small file the CSV module
    # cannot count is scored inline too, where the reader stops at once with what is wrong.
    small = job.size <= inline_max_bytes()
    rows = count_rows(job.input_path) if small else None
    job.rows = rows or 0
    job.in_worker = not small or (rows is not None and rows > inline_max_rows())
    _save(job)
    if not job.in_worker:
        run_batch_job(job.id)
        return _load(job.id)
    from .tasks import score_batch_file

    try:
        score_batch_file.apply_async(args=[job.id], retry=False)
    except Exception as exc:  # any broker failure: record it on the job instead of raising
        logger.warning("Could not queue batch job %s: %s", job.id, exc)
        job.status, job.finished_at = JobStatus.FAILED, _now()
        job.error = (
            f"Not started: the task broker could not be reached ({type(exc).__name__}). Check that Redis "
            "(REDIS_URL) and a Celery worker are running, then upload the file again."
        )
        _save(job)
    return job


def run_batch_job(job_id: str) -> dict:
    """Score a queued job's file (what the Celery task does; also called inline for small files).

    A job that is not queued any more is skipped, so a redelivered task never scores twice.
    """
    job = _load(job_id)
    if job is None:
        return {"job_id": job_id, "status": "skipped", "reason": "no such job"}
    if job.status != JobStatus.QUEUED:
        return {"job_id": job_id, "status": "skipped", "reason": f"job is {job.status}, not queued"}
    job.status, job.started_at, job.progress = JobStatus.RUNNING, _now(), 10
    _save(job)
    user = get_user_model().objects.filter(pk=job.user_id).first() if job.user_id else None

    def show_progress(done: int, total: int) -> None:
        # 10 % for reading and checking the file, 90 % spread over the applications scored.
        job.progress = min(99, 10 + int(89 * done / max(total, 1)))
        _save(job)

    try:
        summary = score_loan_file(
            job.input_path, job.output_path, user=user, progress=show_progress, file_name=job.original_name
        )
    except (LoanFileError, ScoringUnavailableError) as exc:
        job.status, job.error = JobStatus.FAILED, str(exc)
    except Exception as exc:
        logger.exception("Batch job %s failed", job_id)
        job.status, job.error = JobStatus.FAILED, f"Scoring failed unexpectedly: {type(exc).__name__}: {exc}"
    else:
        if summary.report_path and Path(summary.report_path) != job.report_path:
            os.replace(summary.report_path, job.report_path)
        job.status, job.progress, job.rows = JobStatus.SUCCEEDED, 100, summary.rows_read
        job.summary = {
            "statistics": summary.statistics.as_dict(),
            "rows_read": summary.rows_read,
            "applications_scored": summary.applications_scored,
            "rejected_rows": summary.rejected_rows,
            "rejected_applications": summary.rejected_applications,
            "model_version": summary.model_version,
        }
    job.finished_at = _now()
    _save(job)
    return {"job_id": job_id, "status": job.status, "error": job.error}


def get_batch_job(job_id: str, user) -> BatchJob | None:
    """The job if it exists and ``user`` may see it (its owner, or a model admin); else ``None``."""
    job = _load(job_id)
    if job is None:
        return None
    if job.user_id != getattr(user, "pk", None) and not is_model_admin(user):
        return None
    return job


def recent_batch_jobs(user, limit: int = 5) -> list[BatchJob]:
    """``user``'s latest jobs, newest first (looks at the most recent job folders only)."""
    root = upload_root()
    if not root.is_dir():
        return []
    folders = sorted(
        (entry for entry in os.scandir(root) if entry.is_dir() and JOB_ID.match(entry.name)),
        key=lambda entry: entry.stat().st_mtime,
        reverse=True,
    )[:RECENT_SCAN_LIMIT]
    jobs = []
    for entry in folders:
        job = _load(entry.name)
        if job is not None and job.user_id == user.pk:
            jobs.append(job)
            if len(jobs) == limit:
                break
    return jobs


def batch_job_status(job: BatchJob) -> dict:
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
