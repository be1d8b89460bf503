"""Failing the jobs whose worker died (see jobs/lifecycle.py), whether or not anyone reads them:

- every worker, when it starts, fails the running jobs of every kind whose heartbeat is stale;
- Celery beat sends :func:`sweep_stale_jobs` every ``JOB_SWEEP_SECONDS`` (a third of the heartbeat
  limit by default), so a job whose worker was killed reads "failed" everywhere — the dashboard, a
  monitoring report, an API client polling another endpoint — within the limit plus one sweep,
  even while no worker restarts and nobody opens the job.
"""

from celery import shared_task
from celery.signals import worker_ready

from jobs.lifecycle import fail_stale_jobs


@worker_ready.connect
def fail_jobs_of_lost_workers(**kwargs) -> None:
    """A worker starting up marks failed the running jobs of every kind whose heartbeat is stale."""
    fail_stale_jobs()


@shared_task(name="jobs.sweep_stale_jobs")
def sweep_stale_jobs() -> list[list]:
    """Mark failed every running job whose heartbeat is stale; returns ``[model label, pk]`` of each."""
    return [[label, str(pk)] for label, pk in fail_stale_jobs()]
