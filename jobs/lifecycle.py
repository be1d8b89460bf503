"""The one lifecycle of background jobs (training runs, batch-scoring jobs): claim, heartbeat, fail.

A job is ``queued`` when asked for, ``running`` once a worker claims it (:func:`claim`), and ends
``succeeded`` or ``failed``. While it runs, a :class:`Heartbeat` thread refreshes ``heartbeat_at``
every :func:`heartbeat_interval_seconds`. A worker killed outright (SIGKILL, out of memory, machine
lost) tells nobody — the embedded filesystem broker never redelivers its message, Redis only after
its visibility timeout — so a running job whose heartbeat is older than
``settings.JOB_STALE_HEARTBEAT_SECONDS`` is failed with a message saying so:

- whenever its status is read (:func:`fail_if_stale`: the job pages and their status JSON);
- whenever a worker starts (``jobs/tasks.py``: :func:`fail_stale_jobs` over every kind of job);
- when a message comes back for it (the task finds it running but stale).

Each Celery task also has soft and hard time limits (``JOB_SOFT_TIME_LIMIT_SECONDS``,
``JOB_HARD_TIME_LIMIT_SECONDS``; enforced by the prefork pool of production workers): a job
that hangs is stopped and failed (:func:`failure_message`). A failed job can be started again as a
new job (each kind's ``retry_…`` service records ``retry_of``).
"""

from __future__ import annotations

import logging
import threading
from datetime import timedelta

from celery import current_app
from celery.exceptions import SoftTimeLimitExceeded
from django.apps import apps
from django.conf import settings
from django.db import DatabaseError, connection, transaction
from django.db.models import Q
from django.utils import timezone

from jobs.models import BackgroundJob

logger = logging.getLogger(__name__)

Status = BackgroundJob.Status


def stale_after_seconds() -> float:
    """A running job whose heartbeat is older than this lost its worker."""
    return float(settings.JOB_STALE_HEARTBEAT_SECONDS)


def heartbeat_interval_seconds() -> float:
    """How often a running job refreshes its heartbeat: well inside the stale time."""
    return max(0.2, min(30.0, stale_after_seconds() / 5))


def job_models() -> list[type[BackgroundJob]]:
    """Every kind of background job (the concrete models built on :class:`BackgroundJob`)."""
    return [model for model in apps.get_models() if issubclass(model, BackgroundJob)]


def claim(model: type[BackgroundJob], pk) -> bool:
    """Mark the queued job ``pk`` running; ``False`` when it is not queued (taken, finished, gone)."""
    now = timezone.now()
    return bool(
        model.objects.filter(pk=pk, status=Status.QUEUED).update(
            status=Status.RUNNING, started_at=now, heartbeat_at=now
        )
    )


def mark_failed(job: BackgroundJob, message: str) -> None:
    now = timezone.now()
    job.status = Status.FAILED
    job.error = message
    job.finished_at = now
    job.heartbeat_at = now
    extra = job.failure_fields(message, now)
    job.save(update_fields=["status", "error", "finished_at", "heartbeat_at", *extra])


def enqueue(job: BackgroundJob, task_name: str, *, then: str) -> bool:
    """Queue the Celery task ``task_name`` for ``job`` and store its task id; whether it was queued.

    The task is sent by its name: the task modules call back into the services that enqueue, so
    importing them here would make an import cycle. If the broker cannot take the task, the job is
    marked failed with a message saying so and what to do (``then``, e.g. "start the job again")
    instead of raising: the caller shows the job either way.
    """
    try:
        result = current_app.send_task(task_name, args=[job.pk], retry=False)
    except Exception as exc:  # any broker failure: record it on the job instead of raising
        logger.warning("Could not queue %s %s: %s", job._meta.verbose_name, job.pk, exc)
        mark_failed(
            job,
            f"Not started: the task broker could not be reached ({type(exc).__name__}: {exc}). Check that Redis "
            f"(REDIS_URL) and a Celery worker are running, then {then}.",
        )
        return False
    type(job).objects.filter(pk=job.pk).update(celery_task_id=result.id or "")
    return True


def failure_message(exc: BaseException, doing: str) -> str:
    """The error recorded when ``doing`` (e.g. "Scoring") raised ``exc`` unexpectedly."""
    if isinstance(exc, SoftTimeLimitExceeded):
        return (
            f"{doing} was stopped: it ran longer than the time limit of {settings.JOB_SOFT_TIME_LIMIT_SECONDS} s "
            "(JOB_SOFT_TIME_LIMIT_SECONDS)."
        )
    return f"{doing} failed unexpectedly: {type(exc).__name__}: {exc}"


def last_sign_of_life(job: BackgroundJob):
    return job.heartbeat_at or job.started_at or job.created_at


def is_stale(job: BackgroundJob) -> bool:
    return (
        job.status == Status.RUNNING
        and (timezone.now() - last_sign_of_life(job)).total_seconds() > stale_after_seconds()
    )


def worker_lost_message(job: BackgroundJob) -> str:
    last = timezone.localtime(last_sign_of_life(job))
    return (
        f"The worker running this {job.kind} stopped (no heartbeat since {last:%Y-%m-%d %H:%M:%S %Z}, "
        f"more than {stale_after_seconds():g} s ago): start it again."
    )


def _stale_filter() -> Q:
    cutoff = timezone.now() - timedelta(seconds=stale_after_seconds())
    return Q(status=Status.RUNNING) & (Q(heartbeat_at__lt=cutoff) | Q(heartbeat_at__isnull=True, started_at__lt=cutoff))


def fail_stale_jobs(model: type[BackgroundJob] | None = None, pk=None) -> list[tuple[str, object]]:
    """Mark failed every running job (of ``model``, or of every kind; only ``pk`` if given) whose
    heartbeat is stale. Returns ``(model label, pk)`` of each job it failed."""
    failed = []
    for job_model in [model] if model is not None else job_models():
        queryset = job_model.objects.filter(_stale_filter())
        if pk is not None:
            queryset = queryset.filter(pk=pk)
        with transaction.atomic():
            # Locked and re-checked, so a job that beat in the meantime is left alone.
            for job in queryset.select_for_update():
                logger.warning(
                    "%s %s lost its worker (last heartbeat %s): marking it failed", job.kind, job.pk, job.heartbeat_at
                )
                mark_failed(job, worker_lost_message(job))
                failed.append((job_model._meta.label, job.pk))
    return failed


def fail_if_stale(job: BackgroundJob) -> BackgroundJob:
    """``job`` as it stands, failed first if it is running with a stale heartbeat (called on every read)."""
    if is_stale(job) and fail_stale_jobs(type(job), job.pk):
        job.refresh_from_db()
    return job


class Heartbeat:
    """Refreshes a running job's ``heartbeat_at`` from a daemon thread every few seconds.

    Progress is reported between steps, and one step (a candidate model's search, reading a large
    file) can take longer than the stale time; this beat shows the job is alive in between, so only
    a job whose process is gone ever looks stale. A context manager around the work; the thread uses
    (and closes) a database connection of its own.
    """

    def __init__(self, job: BackgroundJob, interval: float | None = None):
        self.model, self.pk = type(job), job.pk
        self.interval = interval if interval is not None else heartbeat_interval_seconds()
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self._beat, name=f"{self.model.__name__}-{self.pk}-heartbeat", daemon=True
        )

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc_info):
        self._stop.set()
        self._thread.join(timeout=5)  # a beat stuck on a database lock must not hold up the result

    def _beat(self) -> None:
        try:
            while not self._stop.wait(self.interval):
                try:
                    self.model.objects.filter(pk=self.pk, status=Status.RUNNING).update(heartbeat_at=timezone.now())
                except DatabaseError as exc:
                    logger.warning("%s %s: heartbeat not recorded: %s", self.model.__name__, self.pk, exc)
        finally:
            connection.close()  # this thread's own connection
