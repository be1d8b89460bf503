"""Batch-scoring jobs: an uploaded loan file, or a re-score of the stored applications, split into chunks
that any worker scores.

A job goes through three steps, each reading and writing the database only, so that workers on any
number of machines can share the work (docs/scaling.md):

1. **Upload** (:func:`submit_batch_file`, in the request): the file's bytes are stored in the
   database (``BatchFilePart``, 1 MiB pieces) — never on the web server's disk.
2. **Split** (:func:`run_batch_job`, the Celery task ``scoring.score_batch_file``): one worker reads
   the file with the loan-file reader (every check, every row error: the report is stored as
   parts too), and stores the accepted applications ``BATCH_CHUNK_APPLICATIONS`` at a time as
   ``BatchChunk`` rows; then sends one task per chunk (a Celery ``group``).
3. **Chunks** (:func:`score_chunk`, the task ``scoring.score_batch_chunk``): each chunk is scored and
   stored in one transaction, with its results rows and figures; the last chunk to finish (counted
   in the database) assembles the summary from the chunks' figures and ends the job.

A chunk is idempotent: its row is locked while it is scored and it is skipped once done, and the
database refuses a second prediction for the same job and file line (``prediction_once_per_batch_row``),
so a redelivered or duplicated chunk task never stores anything twice. A chunk that still fails after
``BATCH_CHUNK_RETRIES`` retries fails the job with a message saying which part of the file and why;
the chunks already scored are kept. "Start again" (:func:`retry_batch_job`) makes a new job
(``retry_of`` the failed one) that takes over the file, the chunks and their predictions and scores
only the chunks that are missing.

**A re-score of the stored applications** (:func:`submit_rescore`, a model admin's, after a change of
the policy or of the active model) is the same job with ``source`` "stored": no upload, and its split
step reads the applicants table instead of a file — in ``app_id`` order, ``BATCH_CHUNK_APPLICATIONS``
at a time by keyset pagination (``app_id`` greater than the last one read; never the whole table in
memory) — and stores each page as a chunk in the records :func:`scoring.batch.application_chunks`
gives, the "line" being the applicant's position in the job (1, 2, …). Steps 3, the finishing,
"Start again" and the pages are the same; there is no rejection report (nothing is rejected). Each
prediction is linked to its applicant, so one by a version that scored the applicant before is a
re-score (``Prediction.first_of_version`` false).

Files of at most ``BATCH_INLINE_MAX_BYTES`` (default 1 MiB) and ``BATCH_INLINE_MAX_ROWS`` rows
(default 2,000; rows as the CSV reader sees them, whatever the line endings:
:func:`applicants.loan_file.count_rows`) go through the same steps during the upload request; so does
a re-score of at most ``BATCH_INLINE_MAX_ROWS`` stored applications.
The results file's reasons are worded in the language of the person who started the job
(``BatchScoringJob.language``); the job page words each row's reason again in its reader's language.
The results and report files the pages serve are assembled from the database into the web server's
cache folder (``BATCH_UPLOAD_DIR/<id>/``) on first use (:func:`results_file`, :func:`report_file`).
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
import re
import tempfile
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

from celery import current_app, group
from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Count
from django.utils import timezone, translation
from django.utils.translation import gettext

from applicants.attributes import ATTRIBUTE_FIELDS
from applicants.loan_file import LoanFileError, count_rows, read_loan_file
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
from nplsite.csv_export import write_csv
from nplsite.database import refresh_planner_statistics
from nplsite.roles import is_model_admin
from scoring.batch import OUTPUT_COLUMNS, BatchStatistics, application_chunks, score_applications
from scoring.engine import ScoringUnavailableError, engine
from scoring.models import BatchChunk, BatchFilePart, BatchScoringJob, Prediction

logger = logging.getLogger(__name__)

JOB_ID = re.compile(r"^[0-9a-f]{32}$")
SCORE_TASK = "scoring.score_batch_file"
CHUNK_TASK = "scoring.score_batch_chunk"
JobStatus = BatchScoringJob.Status
ChunkStatus = BatchChunk.Status
Part = BatchFilePart.Kind
Source = BatchScoringJob.Source
CHUNKS_PER_INSERT = 20  # chunk rows stored per transaction while a file is split


def inline_max_rows() -> int:
    return settings.BATCH_INLINE_MAX_ROWS


def inline_max_bytes() -> int:
    return settings.BATCH_INLINE_MAX_BYTES


def results_language() -> str:
    """The language a new job's results file is worded in: the one of the request that starts it."""
    language = translation.get_language() or settings.LANGUAGE_CODE
    supported = {code for code, _ in settings.LANGUAGES}
    return language if language in supported else settings.LANGUAGE_CODE


# ---------------------------------------------------------------------------------------------
# Files kept in the database.


def _store_parts(job: BatchScoringJob, kind: str, blocks) -> int:
    """Store ``blocks`` (bytes) as ``job``'s parts of ``kind``, at most ``PART_BYTES`` each; the total size."""
    size, number, buffer = 0, 0, bytearray()

    def flush():
        nonlocal number
        number += 1
        BatchFilePart.objects.create(job=job, kind=kind, number=number, data=bytes(buffer))
        buffer.clear()

    for block in blocks:
        buffer += block
        size += len(block)
        while len(buffer) >= BatchFilePart.PART_BYTES:
            rest = buffer[BatchFilePart.PART_BYTES :]
            del buffer[BatchFilePart.PART_BYTES :]
            flush()
            buffer += rest
    if buffer:
        flush()
    return size


def _parts(job_id: str, kind: str) -> Iterator[bytes]:
    numbers = BatchFilePart.objects.filter(job_id=job_id, kind=kind).order_by("number")
    for number in numbers.values_list("number", flat=True):
        yield bytes(BatchFilePart.objects.values_list("data", flat=True).get(job_id=job_id, kind=kind, number=number))


@contextlib.contextmanager
def _input_file(job: BatchScoringJob) -> Iterator[Path]:
    """The uploaded file, copied from the database into a temporary file of this process."""
    with tempfile.TemporaryDirectory(prefix="npl-batch-") as directory:
        path = Path(directory) / "input.csv"
        with path.open("wb") as handle:
            for data in _parts(job.pk, Part.INPUT):
                handle.write(data)
        yield path


# ---------------------------------------------------------------------------------------------
# Starting a job.


def submit_batch_file(uploaded, *, user) -> BatchScoringJob:
    """Store an uploaded loan file as a new job and score it: inline when it is small, else in the workers.

    Returns the job as it stands afterwards (finished for an inline job; queued, or failed when the
    broker cannot be reached, for a worker job).
    """
    with transaction.atomic():
        job = BatchScoringJob.objects.create(
            started_by=user if user is not None and user.is_authenticated else None,
            original_name=os.path.basename(uploaded.name or "upload.csv")[:200],
            language=results_language(),
        )
        job.size = _store_parts(job, Part.INPUT, uploaded.chunks())
        # Rows are counted only in a small file: bounded work in the request. A small file the CSV module
        # cannot count is scored inline too, where the reader stops at once with what is wrong.
        small = job.size <= inline_max_bytes()
        rows = None
        if small:
            with _input_file(job) as path:
                rows = count_rows(path)
        job.rows = rows or 0
        job.in_worker = not small or (rows is not None and rows > inline_max_rows())
        job.save(update_fields=["size", "rows", "in_worker"])
    return _start(job)


def retry_batch_job(job: BatchScoringJob, *, user) -> BatchScoringJob:
    """Start a failed job again: a new job (``retry_of`` the failed one) that takes over its file, its
    chunks and the predictions of the chunks already scored, and scores only the missing chunks.

    The results keep the failed job's language, so that its scored chunks and the new ones read alike.
    A re-score of the stored applications is started again by a model admin only, as it is started."""
    job = fail_if_stale(job)
    if job.status != JobStatus.FAILED:
        raise ValueError(f"Only a failed batch job can be started again; this one is {job.status}.")
    if job.from_stored and not is_model_admin(user):
        raise PermissionDenied(gettext("Only a model admin may re-score the stored applications."))
    with transaction.atomic():
        again = BatchScoringJob.objects.create(
            started_by=user,
            original_name=job.original_name,
            size=job.size,
            rows=job.rows,
            in_worker=job.in_worker,
            chunks=job.chunks,
            summary=job.summary,
            retry_of=job,
            language=job.language,
            source=job.source,
        )
        # The chunks first: a chunk of the failed job still being stored holds its row lock until it
        # commits, so its predictions are moved with the others.
        BatchChunk.objects.filter(job=job).update(job=again)
        BatchChunk.objects.filter(job=again, status=ChunkStatus.FAILED).update(status=ChunkStatus.PENDING, error="")
        kept = Prediction.objects.filter(batch_job=job).update(batch_job=again)
        BatchFilePart.objects.filter(job=job).update(job=again)
    logger.info("Batch job %s starts %s again, keeping its %s stored predictions", again.pk, job.pk, kept)
    return _start(again)


class RescoreError(Exception):
    """A re-score that cannot start (no job is made); the message says why, in the active language."""


def stored_application_count() -> int:
    """How many applications a re-score would read now."""
    return Applicant.objects.count()


def submit_rescore(user) -> BatchScoringJob:
    """Re-score every stored application with the active model and policy: a batch job of source
    "stored", scored inline when there are at most ``BATCH_INLINE_MAX_ROWS`` applications, else by the
    workers (the same chunks as a file's; see the module docstring).

    Only a model admin may (they change the policy and the active model, after which a book is
    re-scored): raises :class:`~django.core.exceptions.PermissionDenied` for anyone else. Raises
    :class:`RescoreError` (and makes no job) when no model can score or no application is stored.
    Returns the job as :func:`submit_batch_file` does."""
    if user is None or not is_model_admin(user):
        raise PermissionDenied(gettext("Only a model admin may re-score the stored applications."))
    try:
        engine.loaded_model()  # the active version, its artifact checked: refused here rather than in a chunk
    except ScoringUnavailableError as exc:
        raise RescoreError(str(exc)) from exc
    count = stored_application_count()
    if not count:
        raise RescoreError(gettext("There are no stored applications to re-score: import a loan file first."))
    job = BatchScoringJob.objects.create(
        started_by=user,
        source=Source.STORED,
        original_name=BatchScoringJob.STORED_NAME,
        rows=count,
        in_worker=count > inline_max_rows(),
        language=results_language(),
    )
    logger.info("Batch job %s re-scores the %s stored applications (started by %s)", job.pk, count, user)
    return _start(job)


def _start(job: BatchScoringJob) -> BatchScoringJob:
    if not job.in_worker:
        run_batch_job(job.id)
        job.refresh_from_db()
        return job
    if enqueue(job, SCORE_TASK, then="start the job again"):
        job.refresh_from_db()
    return job


# ---------------------------------------------------------------------------------------------
# Step 2: reading the file and splitting it into chunks.


def run_batch_job(job_id: str, *, queue: str | None = None) -> dict:
    """Read a queued job's file into chunks and have them scored (the task ``scoring.score_batch_file``;
    also called inline for small files, which then scores every chunk in this process).

    ``queue``: where the chunk tasks go (the queue this task came from; ``None`` and inline: scored
    here). A job that is not queued any more is skipped, so a redelivered task never splits twice;
    one still running with a stale heartbeat lost its worker and is failed.
    """
    if BatchScoringJob.objects.filter(pk=job_id, chunks__isnull=False, started_at__isnull=False).exists():
        return {"job_id": job_id, "status": "skipped", "reason": "already split into chunks"}
    if not claim(BatchScoringJob, job_id):
        job = BatchScoringJob.objects.filter(pk=job_id).first()
        if job is None:
            return {"job_id": job_id, "status": "skipped", "reason": "no such job"}
        if is_stale(job):  # the message came back because the worker that ran it died
            mark_failed(job, worker_lost_message(job))
            return {"job_id": job_id, "status": job.status, "error": job.error}
        return {"job_id": job_id, "status": "skipped", "reason": f"job is {job.status}, not queued"}
    job = BatchScoringJob.objects.get(pk=job_id)
    try:
        if job.chunks is None:
            with Heartbeat(job), translation.override(job.language):
                _split_stored(job) if job.from_stored else _split(job)
    except LoanFileError as exc:
        mark_failed(job, str(exc))
    except Exception as exc:
        reading = "Reading the stored applications" if job.from_stored else "Reading the file"
        logger.exception("Batch job %s: %s failed", job_id, reading.lower())
        mark_failed(job, failure_message(exc, reading))
    if job.status == JobStatus.FAILED:
        return {"job_id": job_id, "status": job.status, "error": job.error}
    missing = list(
        BatchChunk.objects.filter(job_id=job_id, status=ChunkStatus.PENDING).values_list("number", flat=True)
    )
    # Waiting for the chunk tasks: a queued job is never taken for one whose worker died (its chunks
    # may wait behind another job's); the first chunk to start marks it running again.
    BatchScoringJob.objects.filter(pk=job_id, status=JobStatus.RUNNING).update(status=JobStatus.QUEUED)
    if not missing:
        _finish_if_complete(job_id)
    elif job.in_worker:
        _send_chunks(job, missing, queue)
    else:
        for number in missing:
            score_chunk(job_id, number)
    return {"job_id": job_id, "status": "split", "chunks": job.chunks, "sent": len(missing)}


def _split(job: BatchScoringJob) -> None:
    """Read the file (every check of the loan-file reader) and store its accepted applications as chunks."""
    BatchChunk.objects.filter(job=job).delete()  # what an earlier, interrupted reading left
    BatchFilePart.objects.filter(job=job, kind=Part.REPORT).delete()
    BatchScoringJob.objects.filter(pk=job.pk).update(progress=2)
    with _input_file(job) as path, read_loan_file(path, installments=False, name=job.original_name) as loan_file:
        pages = (records for records, _rows in application_chunks(loan_file, settings.BATCH_CHUNK_APPLICATIONS))
        number, _last_line = _store_chunks(job, pages)
        summary = {
            "rows_read": loan_file.rows_read,
            "rejected_rows": loan_file.rejected_rows,
            "rejected_applications": loan_file.rejected_applications,
        }
        with transaction.atomic():
            if loan_file.rejected_rows:
                with tempfile.TemporaryDirectory(prefix="npl-batch-report-") as directory:
                    report = Path(directory) / "report.csv"
                    loan_file.write_report(report)
                    with report.open("rb") as handle:
                        _store_parts(job, Part.REPORT, iter(lambda: handle.read(BatchFilePart.PART_BYTES), b""))
            job.chunks, job.rows, job.summary, job.progress = number, loan_file.rows_read, summary, 10
            job.save(update_fields=["chunks", "rows", "summary", "progress"])


def _split_stored(job: BatchScoringJob) -> None:
    """Read the stored applications in ``app_id`` order (:func:`_stored_pages`) and store each page as a
    chunk of records as :func:`scoring.batch.application_chunks` gives them, the "line" being the
    applicant's position in the job."""
    BatchChunk.objects.filter(job=job).delete()  # what an earlier, interrupted reading left
    BatchScoringJob.objects.filter(pk=job.pk).update(progress=2)
    number, read = _store_chunks(job, _stored_pages(settings.BATCH_CHUNK_APPLICATIONS))
    job.chunks, job.rows, job.progress = number, read, 10
    job.summary = {"applications_read": read, "rejected_rows": 0, "rejected_applications": 0}
    job.save(update_fields=["chunks", "rows", "summary", "progress"])


def _stored_pages(size: int) -> Iterator[list[list]]:
    """The stored applications as records ``[line, app_id, nine attributes]``, ``size`` at a time, in
    ``app_id`` order by keyset pagination (each page starts after the last ``app_id`` read, through the
    table's unique index: never the whole table in memory)."""
    ordered = Applicant.objects.order_by("app_id").values_list("app_id", *ATTRIBUTE_FIELDS)
    read, last = 0, None
    while True:
        page = ordered if last is None else ordered.filter(app_id__gt=last)
        records = [[read + index, *values] for index, values in enumerate(page[:size], start=1)]
        if not records:
            return
        read, last = read + len(records), records[-1][1]
        yield records


def _store_chunks(job: BatchScoringJob, pages) -> tuple[int, int]:
    """Store each page of records as the job's next chunk, ``CHUNKS_PER_INSERT`` chunks per insert:
    (chunks stored, the last record's line)."""
    number, last_line, pending = 0, 0, []
    for records in pages:
        last_line = records[-1][0]
        number += 1
        pending.append(
            BatchChunk(job=job, number=number, first_line=records[0][0], last_line=records[-1][0], rows=records)
        )
        if len(pending) == CHUNKS_PER_INSERT:
            BatchChunk.objects.bulk_create(pending)
            pending = []
    BatchChunk.objects.bulk_create(pending)
    return number, last_line


def _send_chunks(job: BatchScoringJob, numbers: list[int], queue: str | None) -> None:
    """One Celery task per chunk, as a group: any worker on any machine takes them."""
    options = {"queue": queue} if queue else {}
    try:
        group(current_app.signature(CHUNK_TASK, args=(job.pk, number), **options) for number in numbers).apply_async()
    except Exception as exc:  # any broker failure: recorded on the job
        logger.warning("Could not queue the chunks of batch job %s: %s", job.pk, exc)
        mark_failed(
            job,
            f"Not started: the task broker could not be reached ({type(exc).__name__}: {exc}). Check that Redis "
            "(REDIS_URL) and a Celery worker are running, then start the job again.",
        )


# ---------------------------------------------------------------------------------------------
# Step 3: a chunk.


def score_chunk(job_id: str, number: int, *, attempt: int = 1, final: bool = True) -> dict:
    """Score chunk ``number`` of job ``job_id`` and store it, once (see the module docstring).

    Raises what went wrong unless this is the ``final`` attempt (the task then retries); a final
    attempt that fails records the failure on the chunk and fails the job in words.
    """
    BatchScoringJob.objects.filter(pk=job_id, status=JobStatus.QUEUED).update(
        status=JobStatus.RUNNING, heartbeat_at=timezone.now()
    )
    try:
        with transaction.atomic():
            # The chunk's row only (of=self, no ordering): the model's default order joins the job, and
            # FOR UPDATE would then lock the job's row too, for the whole chunk — one chunk at a time.
            chunk = (
                BatchChunk.objects.select_for_update(of=("self",))
                .filter(job_id=job_id, number=number)
                .order_by("pk")
                .first()
            )
            if chunk is None:
                return {"job_id": job_id, "chunk": number, "status": "skipped", "reason": "no such chunk"}
            if chunk.status == ChunkStatus.DONE:
                return {"job_id": job_id, "chunk": number, "status": "skipped", "reason": "already scored"}
            job = BatchScoringJob.objects.select_related("started_by").get(pk=job_id)
            if job.status != JobStatus.RUNNING:
                return {"job_id": job_id, "chunk": number, "status": "skipped", "reason": f"job is {job.status}"}
            with translation.override(job.language):
                scored = score_applications(chunk.rows, user=job.started_by, batch_job=job)
            output = io.StringIO()
            write_csv(output, scored.rows)
            chunk.status, chunk.attempts, chunk.error = ChunkStatus.DONE, attempt, ""
            chunk.scored, chunk.statistics = len(scored.rows), scored.statistics.as_dict()
            chunk.model_version, chunk.output = scored.model_version, output.getvalue()
            chunk.finished_at = timezone.now()
            chunk.rows = []  # scored: the results rows stand for it now
            chunk.save()
    except Exception as exc:
        if not final:
            logger.warning("Batch job %s, chunk %s, attempt %s failed: %s", job_id, number, attempt, exc)
            raise
        logger.exception("Batch job %s, chunk %s failed after %s attempts", job_id, number, attempt)
        _fail_chunk(job_id, number, attempt, exc)
        return {"job_id": job_id, "chunk": number, "status": "failed"}
    _finish_if_complete(job_id)
    return {"job_id": job_id, "chunk": number, "status": "scored", "applications": chunk.scored}


def _fail_chunk(job_id: str, number: int, attempts: int, exc: Exception) -> None:
    error = str(exc) if isinstance(exc, ScoringUnavailableError) else f"{type(exc).__name__}: {exc}"
    BatchChunk.objects.filter(job_id=job_id, number=number).update(
        status=ChunkStatus.FAILED, attempts=attempts, error=error, finished_at=timezone.now()
    )
    job = BatchScoringJob.objects.get(pk=job_id)
    if job.finished:
        return
    chunk = BatchChunk.objects.only("first_line", "last_line").get(job_id=job_id, number=number)
    done = BatchChunk.objects.filter(job_id=job_id, status=ChunkStatus.DONE).count()
    if isinstance(exc, ScoringUnavailableError) and not done:
        mark_failed(job, error)  # nothing was scored: the reason alone says it
        return
    with translation.override(job.language):
        if job.from_stored:
            text = gettext(
                "Scoring stopped at part %(number)s of %(total)s (stored applications %(first)s to %(last)s in "
                "app_id order): it still failed after %(attempts)s attempts (%(error)s). The %(done)s parts "
                "already scored are kept; Start again scores only the parts that are missing."
            )
        else:
            text = gettext(
                "Scoring stopped at part %(number)s of %(total)s (file lines %(first)s to %(last)s): it still "
                "failed after %(attempts)s attempts (%(error)s). The %(done)s parts already scored are kept; "
                "Start again scores only the parts that are missing."
            )
        message = text % {
            "number": number,
            "total": job.chunks,
            "first": chunk.first_line,
            "last": chunk.last_line,
            "attempts": attempts,
            "error": error,
            "done": done,
        }
    mark_failed(job, message)


def _finish_if_complete(job_id: str) -> None:
    """Show the progress; once every chunk is scored, assemble the summary and end the job (whichever
    chunk gets here last: the conditional update lets exactly one of them end it)."""
    counts = Counter(
        dict(BatchChunk.objects.filter(job_id=job_id).values_list("status").annotate(count=Count("id")).order_by())
    )
    job = BatchScoringJob.objects.get(pk=job_id)
    total = job.chunks or 0
    BatchScoringJob.objects.filter(pk=job_id, status=JobStatus.RUNNING).update(
        progress=min(99, 10 + int(89 * counts[ChunkStatus.DONE] / max(total, 1))), heartbeat_at=timezone.now()
    )
    if counts[ChunkStatus.PENDING] or counts[ChunkStatus.FAILED] or job.finished:
        return
    statistics, scored, model_version = BatchStatistics(), 0, ""
    for figures, count, version in (
        BatchChunk.objects.filter(job_id=job_id).order_by("number").values_list("statistics", "scored", "model_version")
    ):
        statistics.merge(BatchStatistics.from_dict(figures))
        scored += count
        model_version = model_version or version
    summary = {
        **job.summary,
        "statistics": statistics.as_dict(),
        "applications_scored": scored,
        "model_version": model_version,
    }
    ended = BatchScoringJob.objects.filter(pk=job_id, status__in=[JobStatus.QUEUED, JobStatus.RUNNING]).update(
        status=JobStatus.SUCCEEDED, progress=100, finished_at=timezone.now(), summary=summary
    )
    if ended:
        refresh_planner_statistics(Prediction, Applicant)  # the pages read the new predictions next


# ---------------------------------------------------------------------------------------------
# Reading jobs (the pages).


def _cached(path: Path, write) -> Path:
    """``path`` in the web server's cache folder, written by ``write(handle)`` the first time."""
    if not path.is_file():
        path.parent.mkdir(parents=True, mode=0o700, exist_ok=True)
        descriptor, partial = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
        try:
            with os.fdopen(descriptor, "wb") as handle:
                write(handle)
            os.replace(partial, path)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(partial)
            raise
    return path


def results_file(job: BatchScoringJob) -> Path:
    """A succeeded job's results file (header, then every chunk's rows in file order), from the cache."""

    def write(handle):
        header = io.StringIO()
        write_csv(header, [], OUTPUT_COLUMNS)
        handle.write(header.getvalue().encode("utf-8"))
        chunks = BatchChunk.objects.filter(job=job).order_by("number")
        for number in chunks.values_list("number", flat=True):
            handle.write(BatchChunk.objects.values_list("output", flat=True).get(job=job, number=number).encode())

    return _cached(job.output_path, write)


def report_file(job: BatchScoringJob) -> Path:
    """A succeeded job's report of the rows that could not be scored, from the cache."""

    def write(handle):
        for data in _parts(job.pk, Part.REPORT):
            handle.write(data)

    return _cached(job.report_path, write)


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
