"""``POST /api/v1/score`` while a large batch is scored in the background, on the SQLite default.

Usage::

    .venv/bin/python benchmarks/batch_under_load.py [--rows 300000] [--concurrency 4]

What it does, self-contained, in a temporary folder (nothing of the checkout's ``data/`` is touched):

1. **The embedded default**: a SQLite file (WAL, busy timeout) and the filesystem broker, as
   ``make run`` without ``DATABASE_URL``/``REDIS_URL``; migrated, a generated loan book imported, a
   model trained (``--profile``, default ``smoke``), an Analyst with an API token, static files
   collected; ``DEBUG=0``.
2. **gunicorn** (``gunicorn.conf.py``, ``--workers``, default 2) and one **Celery worker** (solo pool), as deployed.
3. **Baseline**, in the same run with the same client: ``--concurrency`` threads score for
   ``--baseline-seconds`` while nothing else runs.
4. **Under load**: a ``--rows``-row loan file is submitted as a batch job (the service the upload page
   calls), and the same clients keep scoring until the worker has finished it.
5. **Report**: the job's time and rows/s, and for both phases the requests, p50 / p99 / max latency
   and every answer that was not 200 (a locked database would show as 503 "busy").

Exit status 1 when any scoring request did not answer 200 or the batch job did not succeed.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from benchmark_setup import production_like_environment  # noqa: E402 (a module beside this script)
from load_api import (  # noqa: E402 (a script beside this one)
    BIN,
    HOST,
    PROJECT_DIR,
    LoadResult,
    drive,
    free_port,
    say,
    setup_database,
    start_gunicorn,
    stop_gunicorn,
    varied_applicants,
    wait_until_serving,
)

HEADER = "app_id,monthly_income,housing_type,num_of_dependent,lama_bekerja,otr,status_pernikahan,pekerjaan,tenor,dp"
HOUSING = ("milik sendiri", "kontrak", "kos", "milik orang tua")
JOBS = ("Karyawan Swasta", "Wiraswasta", "PNS", "Buruh")


def write_batch_file(path: Path, rows: int) -> None:
    """One row per application, varied valid values (a fixed pattern)."""
    with open(path, "w", encoding="utf-8") as out:
        out.write(HEADER + "\n")
        for index in range(rows):
            income = 3_000_000 + (index * 7919) % 20_000_000
            otr = 100_000_000 + (index * 104_729) % 400_000_000
            out.write(
                f"{1_000_000 + index},{income},{HOUSING[index % 4]},{index % 5},{index % 15},{otr},"
                f"{'Nikah' if index % 3 else 'Belum Nikah'},{JOBS[index % 4]},{12 * (1 + index % 5)},{otr // 5}\n"
            )


def start_worker(env: dict, log_path: Path) -> subprocess.Popen:
    command = [str(BIN / "celery"), "-A", "nplsite", "worker", "--pool=solo", "-l", "WARNING", "--without-gossip"]
    with open(log_path, "wb") as log:
        return subprocess.Popen(
            command, cwd=PROJECT_DIR, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )


def merge(name: str, parts: list[LoadResult]) -> LoadResult:
    total = LoadResult(name)
    for part in parts:
        total.latencies_ms.extend(part.latencies_ms)
        total.seconds += part.seconds
        for status, count in part.statuses.items():
            total.statuses[status] = total.statuses.get(status, 0) + count
        for kind, count in part.failures.items():
            total.failures[kind] = total.failures.get(kind, 0) + count
        for status, body in part.samples.items():
            total.samples.setdefault(status, body)
    total.sent = len(total.latencies_ms)
    return total


def line(result: LoadResult) -> str:
    others = {status: n for status, n in result.statuses.items() if status != 200}
    return (
        f"{result.name:<34} {result.sent:>6} requests  {result.throughput:7.1f}/s  p50 {result.percentile(0.5):7.1f} ms"
        f"  p99 {result.percentile(0.99):7.1f} ms  max {max(result.latencies_ms, default=float('nan')):7.1f} ms"
        f"  not 200: {others or 0}{'  errors: ' + str(result.failures) if result.failures else ''}"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=300_000, help="rows of the background batch (default 300000)")
    parser.add_argument("--concurrency", type=int, default=4, help="scoring client threads (default 4)")
    parser.add_argument("--baseline-seconds", type=float, default=20, help="baseline phase length (default 20)")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers (default 2)")
    parser.add_argument("--applicants", type=int, default=1500, help="size of the generated training book")
    parser.add_argument("--profile", default="smoke", help="training profile (default smoke)")
    parser.add_argument("--max-seconds", type=float, default=1800, help="give up on the batch after this long")
    args = parser.parse_args()
    args.threads = 0  # load_api.start_gunicorn: gunicorn.conf.py's threads, as deployed

    workdir = Path(tempfile.mkdtemp(prefix="npl-batch-load-"))
    for name in ("DATABASE_URL", "REDIS_URL", "BATCH_UPLOAD_DIR"):
        # The embedded default in this process (which migrates and submits the batch) and in its
        # children alike: a shell's DATABASE_URL left in this one made the two disagree and the wait hang.
        os.environ.pop(name, None)
    env = dict(os.environ)
    env.update(
        production_like_environment(
            workdir,
            MODEL_ARTIFACT_DIR=str(workdir / "artifacts"),
            STATIC_ROOT=str(workdir / "static"),
            ALLOWED_HOSTS=HOST,
            SECURE_SSL_REDIRECT="0",
            API_THROTTLE_RATE="100000000/minute",
        )
    )
    signal.signal(signal.SIGTERM, lambda signum, frame: (_ for _ in ()).throw(KeyboardInterrupt()))
    gunicorn = worker = None
    try:
        say(f"SQLite default and filesystem broker in {workdir}")
        token, _ = setup_database(args, env, workdir)
        from django.conf import settings
        from django.core.files import File

        from scoring.batch_jobs import submit_batch_file
        from scoring.models import BatchScoringJob

        say(f"database {settings.DATABASES['default']['ENGINE']}, broker {settings.CELERY_BROKER_URL}")
        port = free_port()
        gunicorn = start_gunicorn(args, env, port, workdir / "gunicorn.log")
        worker = start_worker(env, workdir / "worker.log")
        wait_until_serving(gunicorn, port, workdir / "gunicorn.log")

        bodies = varied_applicants(2000, seed=2024)
        headers = {"Authorization": f"Token {token}", "Content-Type": "application/json"}

        def score_for(name: str, seconds: float) -> LoadResult:
            return drive(
                name,
                port,
                "POST",
                "/api/v1/score",
                bodies,
                headers,
                total=10**9,
                concurrency=args.concurrency,
                max_seconds=seconds,
            )

        score_for("warm-up", 3)
        say(f"baseline: {args.concurrency} clients scoring for {args.baseline_seconds:g} s …")
        baseline = score_for("baseline (nothing else running)", args.baseline_seconds)

        batch_file = workdir / "batch.csv"
        write_batch_file(batch_file, args.rows)
        with open(batch_file, "rb") as handle:
            job = submit_batch_file(File(handle, name="batch.csv"), user=None)
        say(f"batch job {job.id}: {job.rows} rows, {job.status}, in the worker: {job.in_worker}")
        started = time.monotonic()
        parts = []
        while time.monotonic() - started < args.max_seconds:
            parts.append(score_for("under load", 5))
            job.refresh_from_db()
            if job.finished:
                break
        seconds = time.monotonic() - started
        under_load = merge(f"during the {args.rows:,}-row batch", parts)
        job = BatchScoringJob.objects.get(pk=job.pk)

        print()
        print(
            f"batch job: {job.status}, {job.summary.get('applications_scored', 0):,} applications scored "
            f"({job.summary.get('rejected_rows', 0):,} rows rejected) in "
            f"about {seconds:.0f} s ({args.rows / seconds:,.0f} rows/s, polled every 5 s) {job.error}"
        )
        print(line(baseline))
        print(line(under_load))
        if under_load.sent and baseline.sent:
            print(
                f"p50 under load / baseline: {under_load.percentile(0.5) / baseline.percentile(0.5):.2f}×; "
                f"p99: {under_load.percentile(0.99) / baseline.percentile(0.99):.2f}×"
            )
        for status, body in under_load.samples.items():
            if status != 200:
                print(f"  a {status} answer: {body[:200]!r}")
        bad = sum(n for status, n in under_load.statuses.items() if status != 200) + sum(under_load.failures.values())
        return 0 if job.status == "succeeded" and bad == 0 and under_load.sent else 1
    except KeyboardInterrupt:
        say("interrupted")
        return 130
    finally:
        if gunicorn is not None:
            stop_gunicorn(gunicorn)
        if worker is not None:
            stop_gunicorn(worker)  # the same: SIGTERM, then the process group


if __name__ == "__main__":
    sys.exit(main())
