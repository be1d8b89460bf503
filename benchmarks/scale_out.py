"""Scale-out: how the heavy work speeds up with more Celery worker processes (issue 25).

Usage::

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/npl_batch REDIS_URL=redis://127.0.0.1:6379/5 \\
        .venv/bin/python benchmarks/scale_out.py --part batch [--rows 1000000] [--workers 1,2,4]

Parts (``--part``, one per run; ``batch`` by default):

- ``batch``: batch scoring of one file (:func:`batch_part`). A ``--rows``-row loan file (one row per
  application, varied valid values) is submitted as a batch job (the service the upload page calls:
  the file goes into PostgreSQL), and scored by N real worker processes for each N of ``--workers``:
  N separate ``celery -A nplsite worker --concurrency=1`` processes (the production prefork pool,
  one working child each: as N machines would run them), on a queue of this run's own. Each job is
  timed from the submission until it has succeeded, split into the reading of the file (one task,
  serial) and the chunk tasks (shared by the workers). Printed: seconds, rows/s, and the speed-up
  of each N over N = 1, overall and for the chunks alone.
- ``search``: the distributed model search (``scale_out_search_part.py``, its own options after
  ``--part search``: ``--applicants`` (20000), ``--profile`` (full), ``--workers`` (1,2,4),
  ``--database-url``, ``--redis-url``; see that module): one training run with 1, 2 and 4 worker
  processes in a scratch database, timed, with the check that every run chose the same model with
  the same fold scores and leaderboard.

    .venv/bin/python benchmarks/scale_out.py --part search [--applicants 20000] [--profile full]

Needs PostgreSQL and Redis (``DATABASE_URL``, ``REDIS_URL``): the embedded SQLite default writes
through one lock, which is exactly what scale-out is not about. The database is migrated; a model is
trained (profile ``smoke``) unless an active one with its artifact is already there (``--workdir``
keeps the artifacts between runs). Predictions of earlier runs of this script are deleted first.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import scale_out_search_part  # noqa: E402
from batch_under_load import write_batch_file  # noqa: E402 (a script beside this one)
from benchmark_setup import import_generated_book, production_like_environment  # noqa: E402
from load_api import AS_OF, BIN, PROJECT_DIR, cpu_seconds  # noqa: E402


def say(text: str) -> None:
    print(f"[scale_out] {text}", file=sys.stderr, flush=True)


# ---------------------------------------------------------------------------------------------
# Shared: the environment, Django, workers.


def environment(workdir: Path, queue: str) -> dict[str, str]:
    for name in ("DATABASE_URL", "REDIS_URL"):
        if not os.environ.get(name):
            sys.exit(f"{name} is not set: this benchmark runs against PostgreSQL and Redis (see --help).")
    env = dict(os.environ)
    env.update(
        production_like_environment(
            workdir,
            MODEL_ARTIFACT_DIR=str(workdir / "artifacts"),
            BATCH_UPLOAD_DIR=str(workdir / "uploads"),
            CELERY_TASK_DEFAULT_QUEUE=queue,
            # Each worker keeps its one connection (its server process) for the whole run, so that the
            # server processes' CPU is all counted (one closed after DB_CONN_MAX_AGE would take its CPU along).
            DB_CONN_MAX_AGE="86400",
            BATCH_UPLOAD_MAX_BYTES=str(2**40),
        )
    )
    return env


def setup_django(env: dict, profile: str) -> None:
    """Django in this process on the run's database; migrated, with an active model."""
    os.environ.update(env)
    sys.path.insert(0, str(PROJECT_DIR))
    import django

    django.setup()
    from django.core.management import call_command

    from training.selectors import get_active_model_version

    call_command("migrate", verbosity=0)
    active = get_active_model_version()
    if active is not None and Path(env["MODEL_ARTIFACT_DIR"], Path(active.artifact_path).name).exists():
        say(f"active model: {active.name} #{active.pk}")
        return
    workdir = Path(env["DATA_DIR"])
    say(f"training a model (profile {profile}) …")
    import_generated_book(workdir, 1500, AS_OF)
    call_command("train", profile=profile, seed=7, verbosity=0, stdout=sys.stderr)


def start_workers(count: int, env: dict, queue: str, workdir: Path) -> list[subprocess.Popen]:
    """``count`` separate worker processes (``--concurrency=1``, prefork) on ``queue``; returns once all answer."""
    from nplsite.celery import app

    workers = []
    for number in range(count):
        name = f"scale-out-bench{number}-{uuid.uuid4().hex[:6]}@%h"
        command = [str(BIN / "celery"), "-A", "nplsite", "worker", "--concurrency=1", "-Q", queue, "-n", name]
        command += ["-l", "WARNING", "--without-mingle"]
        with open(workdir / f"worker-{number}.log", "ab") as log:
            workers.append(
                subprocess.Popen(
                    command, cwd=PROJECT_DIR, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
                )
            )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        replies = app.control.ping(timeout=1.0) or []
        ours = [reply for reply in replies if any(name.startswith("scale-out-bench") for name in reply)]
        if len(ours) >= count:
            return workers
        if any(worker.poll() is not None for worker in workers):
            break
    stop_workers(workers)
    sys.exit(f"the {count} workers did not all start: see {workdir}/worker-*.log")


def stop_workers(workers: list[subprocess.Popen]) -> None:
    for worker in workers:
        if worker.poll() is None:
            os.killpg(worker.pid, signal.SIGTERM)
    for worker in workers:
        try:
            worker.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(worker.pid, signal.SIGKILL)
            worker.wait(timeout=10)


# ---------------------------------------------------------------------------------------------
# Part "batch".


def forget_earlier_runs() -> None:
    """Delete the jobs (chunks, file parts, predictions) of earlier runs of this script, in SQL (fast)."""
    from django.db import connection

    from scoring.models import BatchScoringJob

    jobs = list(BatchScoringJob.objects.filter(original_name__startswith="scale-out-").values_list("pk", flat=True))
    if not jobs:
        return
    with connection.cursor() as cursor:
        for statement in (
            "DELETE FROM scoring_prediction WHERE batch_job_id = ANY(%s)",
            "DELETE FROM scoring_batchchunk WHERE job_id = ANY(%s)",
            "DELETE FROM scoring_batchfilepart WHERE job_id = ANY(%s)",
        ):
            cursor.execute(statement, [jobs])
    BatchScoringJob.objects.filter(pk__in=jobs).delete()


def database_cpu() -> dict[int, float]:
    """CPU seconds so far of each PostgreSQL server process of this database (the server runs here)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pid FROM pg_stat_activity WHERE datname = current_database()")
        return {pid: cpu_seconds(pid) for (pid,) in cursor.fetchall()}


def time_one_batch(batch_file: Path, rows: int, workers: list[subprocess.Popen], max_seconds: float) -> dict:
    """Submit the file and wait for its job; the times of its steps and the CPU the workers and the
    database's server processes spent on it (a process's CPU does not depend on what else the shared
    machine runs, its elapsed time does)."""
    from django.core.files import File

    from scoring.batch_jobs import submit_batch_file
    from scoring.models import BatchScoringJob

    count = len(workers)
    workers_before = sum(cpu_seconds(worker.pid) for worker in workers)
    database_before = database_cpu()
    started = time.monotonic()
    with open(batch_file, "rb") as handle:
        job = submit_batch_file(File(handle, name=f"scale-out-{count}.csv"), user=None)
    submitted = time.monotonic()
    split_at = None
    while time.monotonic() - started < max_seconds:
        time.sleep(0.25)
        state = BatchScoringJob.objects.filter(pk=job.pk).values("status", "chunks", "progress").get()
        if split_at is None and state["chunks"] is not None:
            split_at = time.monotonic()
        if state["status"] in ("succeeded", "failed"):
            break
    ended = time.monotonic()
    workers_cpu = sum(cpu_seconds(worker.pid) for worker in workers) - workers_before
    # Server processes that ended meanwhile are not counted (the workers keep theirs: DB_CONN_MAX_AGE above).
    database_cpu_seconds = sum(seconds - database_before.get(pid, 0.0) for pid, seconds in database_cpu().items())
    job = BatchScoringJob.objects.get(pk=job.pk)
    if job.status != "succeeded":
        sys.exit(f"the job with {count} worker(s) did not succeed: {job.status} {job.error}")
    scored = job.summary["applications_scored"]
    assert scored == rows, (scored, rows)
    split_at = split_at or ended
    return {
        "workers": count,
        "worker_cpu": workers_cpu,
        "database_cpu": database_cpu_seconds,
        "chunks": job.chunks,
        "upload": submitted - started,
        "split": split_at - submitted,
        "chunk_phase": ended - split_at,
        "total": ended - started,
    }


def batch_part(args, env: dict, workdir: Path, queue: str) -> None:
    from django.conf import settings

    batch_file = workdir / f"batch-{args.rows}.csv"
    if not batch_file.exists():
        say(f"writing a {args.rows:,}-row loan file …")
        write_batch_file(batch_file, args.rows)
    say(
        f"file {batch_file.stat().st_size / 1e6:.0f} MB; chunks of {settings.BATCH_CHUNK_APPLICATIONS:,} applications; "
        f"{os.cpu_count()} CPU cores"
    )
    results = []
    for count in args.workers:
        forget_earlier_runs()
        workers = start_workers(count, env, queue, workdir)
        try:
            say(f"{count} worker process(es): scoring …")
            result = time_one_batch(batch_file, args.rows, workers, args.max_seconds)
        finally:
            stop_workers(workers)
        results.append(result)
        say(
            f"  {result['total']:.1f} s (upload {result['upload']:.1f} s, reading {result['split']:.1f} s, "
            f"chunks {result['chunk_phase']:.1f} s); CPU: workers {result['worker_cpu']:.1f} s, "
            f"PostgreSQL {result['database_cpu']:.1f} s; load average {os.getloadavg()[0]:.1f}"
        )
    forget_earlier_runs()

    base = results[0]
    print()
    print(f"Batch scoring, {args.rows:,} rows, {base['chunks']} chunks, {os.cpu_count()} cores")
    print(
        f"{'workers':>7} {'total s':>8} {'rows/s':>8} {'speed-up':>8} │ "
        f"{'read s':>7} {'chunks s':>8} {'chunk rows/s':>12} {'speed-up':>8}"
    )
    for result in results:
        print(
            f"{result['workers']:>7} {result['total']:>8.1f} {args.rows / result['total']:>8,.0f} "
            f"{base['total'] / result['total']:>7.2f}× │ {result['split']:>7.1f} {result['chunk_phase']:>8.1f} "
            f"{args.rows / result['chunk_phase']:>12,.0f} {base['chunk_phase'] / result['chunk_phase']:>7.2f}×"
        )
    print("CPU per 1,000 rows (whatever else the machine runs): workers, PostgreSQL")
    for result in results:
        print(
            f"{result['workers']:>7} {1000 * result['worker_cpu'] / args.rows:>8.3f} s "
            f"{1000 * result['database_cpu'] / args.rows:>8.3f} s"
        )


# ---------------------------------------------------------------------------------------------


PARTS = {"batch": batch_part}


def main() -> int:
    part = argparse.ArgumentParser(add_help=False)
    part.add_argument("--part", choices=[*PARTS, "search"], default="batch")
    chosen, rest = part.parse_known_args()
    if chosen.part == "search":  # its own options (a scratch database, its own workers)
        search = argparse.ArgumentParser(description=scale_out_search_part.__doc__.split("\n\n")[0])
        scale_out_search_part.add_search_arguments(search)
        return scale_out_search_part.run_search_part(search.parse_args(rest))
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--part", choices=[*PARTS, "search"], default="batch")
    parser.add_argument("--rows", type=int, default=1_000_000, help="rows of the batch file (default 1000000)")
    parser.add_argument(
        "--workers", default="1,2,4", type=lambda text: [int(n) for n in text.split(",")], help="default 1,2,4"
    )
    parser.add_argument("--profile", default="smoke", help="training profile when a model is needed (default smoke)")
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/npl-scale-out"), help="files of the run")
    parser.add_argument("--max-seconds", type=float, default=7200, help="give up on one job after this long")
    args = parser.parse_args()
    args.workdir.mkdir(parents=True, exist_ok=True)
    queue = f"scale-out-{uuid.uuid4().hex[:8]}"
    env = environment(args.workdir, queue)
    setup_django(env, args.profile)
    PARTS[args.part](args, env, args.workdir, queue)
    return 0


if __name__ == "__main__":
    sys.exit(main())
