"""Scale-out of the model search (issue 25): one training run with 1, 2 and 4 worker processes.

Usage::

    .venv/bin/python benchmarks/scale_out.py --part search \\
        [--applicants 20000] [--profile full] [--workers 1,2,4] [--no-in-process] \\
        [--database-url postgres://postgres@127.0.0.1:5432/npl_search] [--redis-url redis://127.0.0.1:6379/6]

What it does (:func:`run_search_part`, run by ``scale_out.py --part search``):

1. A scratch PostgreSQL database (``--database``, dropped and created on the server of
   ``--database-url``), migrated; a generated book of ``--applicants`` applicants (seed 11) imported
   as a lender's export would be. Not timed.
2. For each count in ``--workers``: that many ``celery worker --pool=solo`` processes (each one process,
   as separate machines would be), on Redis (``--redis-url``) and a queue of the run's own, with
   ``TRAINING_DISTRIBUTED=1``; a training run is requested as the retrain page does
   (``request_retraining``, profile ``--profile``, seed 7) and timed from the request until the run has
   succeeded (each run starts with no active version, so none compares with a champion). Then the
   workers are stopped.
3. With ``--in-process`` (default): the same run once more with one worker and ``TRAINING_DISTRIBUTED=0``
   — today's single task, where the ``full`` profile's RandomizedSearchCV uses ``n_jobs=2``.
4. Report: seconds per count, the speed-up against one worker, the time outside the parallel part
   (loading and planning before the fits, choosing/calibrating/registering after), and whether every
   run chose the same model with the same leaderboard (timings aside) — it must.

Exit status 1 when a run failed or the runs disagree.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from benchmark_setup import PROJECT_DIR, import_generated_book, production_like_environment  # noqa: E402 (beside)
from load_api import psql, server_url  # noqa: E402 (a script beside this one)

AS_OF = date(2024, 6, 30)
SPEED_UP_TARGET = 1.7  # with 2 worker processes against 1


def say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def add_search_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--applicants", type=int, default=20_000, help="applicants in the generated book (20000)")
    parser.add_argument("--profile", default="full", help="training profile (full)")
    parser.add_argument("--workers", default="1,2,4", help="worker process counts to time (1,2,4)")
    parser.add_argument(
        "--in-process",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="also time today's single task (TRAINING_DISTRIBUTED=0, one worker)",
    )
    parser.add_argument(
        "--database-url",
        default=os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/npl_search"),
        help="a PostgreSQL server (its database name is replaced by --database)",
    )
    parser.add_argument("--database", default="npl_search_bench", help="scratch database (dropped and created)")
    parser.add_argument("--show-log", action="store_true", help="print each run's log (its steps, timed)")
    parser.add_argument("--redis-url", default=os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/6"))


def start_workers(count: int, env: dict, queue: str, workdir: Path) -> list[subprocess.Popen]:
    workers = []
    for number in range(count):
        log_path = workdir / f"{queue}-{number}.log"
        with open(log_path, "wb") as log:
            process = subprocess.Popen(
                [sys.executable, "-m", "celery", "-A", "nplsite", "worker", "--pool=solo", "-Q", queue]
                + ["-n", f"{queue}-{number}@%h", "--without-gossip", "--without-mingle", "-l", "info"],
                cwd=PROJECT_DIR,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        process.log_path = log_path
        workers.append(process)
    deadline = time.monotonic() + 180
    while not all(" ready." in w.log_path.read_text(errors="replace") for w in workers):
        if time.monotonic() > deadline or any(w.poll() is not None for w in workers):
            stop_workers(workers)
            raise SystemExit("a worker did not start:\n" + workers[0].log_path.read_text(errors="replace")[-3000:])
        time.sleep(0.2)
    return workers


def stop_workers(workers: list[subprocess.Popen]) -> None:
    for worker in workers:
        if worker.poll() is None:
            worker.terminate()
    for worker in workers:
        try:
            worker.wait(timeout=60)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait(timeout=10)


def timed_run(label: str, count: int, env: dict, args, workdir: Path) -> dict:
    """One training run with ``count`` fresh worker processes (``env``); its time and what it chose."""
    from django.contrib.auth import get_user_model
    from django.db import connections

    from nplsite.celery import app
    from training.models import ModelVersion, TrainingRun
    from training.services import request_retraining

    # Every run starts with no active version, as the first did: no champion comparison in any of them.
    ModelVersion.objects.filter(is_active=True).update(is_active=False, status=ModelVersion.Status.RETIRED)
    queue = f"bench-search-{uuid.uuid4().hex[:8]}"
    workers = start_workers(count, {**env, "CELERY_TASK_DEFAULT_QUEUE": queue}, queue, workdir)
    try:
        app.conf.task_default_queue = queue
        admin = get_user_model().objects.get(username="bench-admin")
        started = time.perf_counter()
        run = request_retraining(admin, profile=args.profile, as_of=AS_OF, seed=7, recall_target=0.9)
        while True:
            run.refresh_from_db()
            if run.finished or any(w.poll() is not None for w in workers):
                break
            time.sleep(0.25)
        seconds = time.perf_counter() - started
    finally:
        stop_workers(workers)
    connections.close_all()
    if run.status != TrainingRun.Status.SUCCEEDED:
        raise SystemExit(f"{label}: the run did not succeed: {run.error}\n{run.log[-3000:]}")
    search_seconds = run.model_version.training_data.get("search_seconds")
    board = [{k: v for k, v in row.items() if k != "fit_seconds"} for row in run.leaderboard]
    say(f"{label}: {seconds:.1f} s, chose {run.model_version.name}")
    if args.show_log:
        say(run.log)
    return {
        "label": label,
        "workers": count,
        "seconds": seconds,
        "search_seconds": search_seconds,
        "chosen": run.model_version.name,
        "leaderboard": json.dumps(board, sort_keys=True),
        "log": run.log,
    }


def prepare(args, workdir: Path) -> dict:
    """The scratch database, migrated, with the generated book imported; returns the workers' environment."""
    database_url, libpq = server_url(args.database_url, args.database)
    psql(libpq, f'DROP DATABASE IF EXISTS "{args.database}"', f'CREATE DATABASE "{args.database}"')
    env = production_like_environment(
        workdir,
        DATABASE_URL=database_url,
        REDIS_URL=args.redis_url,
        MODEL_ARTIFACT_DIR=str(workdir / "artifacts"),
        ALLOWED_HOSTS="127.0.0.1",
        # The runs must not fail as stale while one worker process works through many fits.
        JOB_STALE_HEARTBEAT_SECONDS="600",
    )
    os.environ.update(env)
    sys.path.insert(0, str(PROJECT_DIR))
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group
    from django.core.management import call_command
    from django.db import connections

    from nplsite.roles import MODEL_ADMIN

    say(f"migrating, generating {args.applicants} applicants and importing them …")
    started = time.perf_counter()
    call_command("migrate", verbosity=0)
    import_generated_book(workdir, args.applicants, AS_OF)
    admin = get_user_model().objects.create_user("bench-admin", password=None, is_staff=True)
    admin.groups.add(Group.objects.get(name=MODEL_ADMIN))
    connections.close_all()
    say(f"prepared in {time.perf_counter() - started:.0f} s")
    return env


def run_search_part(args) -> int:
    counts = [int(part) for part in str(args.workers).split(",") if part.strip()]
    with tempfile.TemporaryDirectory(prefix="npl-scale-search-") as folder:
        workdir = Path(folder)
        env = prepare(args, workdir)
        rows = []
        for count in counts:
            rows.append(
                timed_run(f"{count} worker process(es)", count, {**env, "TRAINING_DISTRIBUTED": "1"}, args, workdir)
            )
        if args.in_process:
            rows.append(timed_run("one task, in process", 1, {**env, "TRAINING_DISTRIBUTED": "0"}, args, workdir))
    cores = os.cpu_count()
    one = next((row["seconds"] for row in rows if row["workers"] == 1 and "process(es)" in row["label"]), None)
    print(
        f"\nModel search, profile {args.profile}, {args.applicants} applicants, {cores} cores "
        f"(load average {os.getloadavg()[0]:.1f} at the end)"
    )
    print(f"{'run':<26} {'seconds':>8} {'speed-up':>9} {'search s':>9}  chosen")
    for row in rows:
        speed_up = f"{one / row['seconds']:.2f}x" if one else "-"
        search = f"{row['search_seconds']:.1f}" if row["search_seconds"] is not None else "-"
        print(f"{row['label']:<26} {row['seconds']:>8.1f} {speed_up:>9} {search:>9}  {row['chosen']}")
    identical = len({(row["chosen"], row["leaderboard"]) for row in rows}) == 1
    print(f"same chosen model, fold scores and leaderboard in every run: {'yes' if identical else 'NO'}")
    two = next((row["seconds"] for row in rows if row["workers"] == 2 and "process(es)" in row["label"]), None)
    if one and two:
        verdict = "met" if one / two >= SPEED_UP_TARGET else "NOT met"
        print(f"speed-up with 2 worker processes: {one / two:.2f}x (target >= {SPEED_UP_TARGET}x: {verdict})")
    return 0 if identical else 1
