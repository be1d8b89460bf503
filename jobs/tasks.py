"""What every worker does when it starts: fail the jobs whose worker died (see jobs/lifecycle.py)."""

from celery.signals import worker_ready

from jobs.lifecycle import fail_stale_jobs


@worker_ready.connect
def fail_jobs_of_lost_workers(**kwargs) -> None:
    """A worker starting up marks failed the running jobs of every kind whose heartbeat is stale."""
    fail_stale_jobs()
