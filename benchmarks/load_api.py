"""Load test of ``POST /api/v1/score`` through gunicorn and PostgreSQL, on this machine only.

Usage::

    .venv/bin/python benchmarks/load_api.py [--requests 20000] [--concurrency 16]

What it does, self-contained:

1. **A fresh database**: drops and creates ``--database`` (default ``npl_load``) on the PostgreSQL
   server of ``DATABASE_URL`` (default ``postgres://postgres@127.0.0.1:5432/``) with ``psql``,
   migrates it, imports a generated loan book (``--applicants``), trains a model with the project's
   ``train`` command (``--profile``, default ``quick``) and creates an Analyst with an API token.
   Artifacts and logs go to a temporary folder. ``REDIS_URL``, when set, is passed on (the API's
   rate limit then keeps its request times in Redis, as in production).
2. **gunicorn** with the repository's ``gunicorn.conf.py`` (as ``make run``, the image and
   docker-compose run it: ``gthread`` workers keeping connections alive), ``--workers`` (default 2)
   processes of ``--threads`` threads (default: the file's), ``DEBUG=0``, bound to 127.0.0.1 on a
   free port. The per-user API throttle is raised to ``--throttle-rate`` (default
   ``1000000/second``) for the run: this measures scoring, not the rate limit. DRF's throttle keeps
   every request time of its period, so a per-second period keeps that list at about one second of
   requests (a few hundred), no longer than the default ``1000/minute`` keeps it.
3. **Baseline**, measured in the same run with the same client: ``GET /healthz`` (middleware, one
   database round trip, the broker check, the active-version query; no scoring).
4. **Load**: ``--concurrency`` client threads send ``--requests`` POSTs with varied valid applicants
   (a fixed seed), each client on one connection it keeps open, as an internal system scoring at the
   point of sale does (``--new-connections``: a new connection per request, as this script's
   client did while the server closed every connection).
   Bounded in count and by ``--max-seconds``; loopback only.
5. **Report**: throughput, p50 / p99 latency, answers that were not 200 by status, and whether the
   new ``Prediction`` rows of the load user equal the number of 200 answers.

Exit status 1 when any request did not answer 200 or any 200 answer has no stored prediction
(throughput is reported against the 300 requests/s target but never fails the run: it is noisy on a
shared machine). gunicorn is stopped at the end, also on Ctrl+C and on errors; the load database is
dropped unless ``--keep-database``.
"""

from __future__ import annotations

import argparse
import functools
import http.client
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from benchmark_setup import PROJECT_DIR, import_generated_book, production_like_environment  # noqa: E402 (beside)

BIN = Path(sys.executable).parent
HOST = "127.0.0.1"  # the only address this script ever sends to
AS_OF = date(2024, 6, 30)
THROUGHPUT_TARGET = 300.0  # requests per second


def varied_applicants(count: int, seed: int) -> list[bytes]:
    """``count`` JSON bodies of valid applicants drawn as the generated loan books draw them (by seed)."""
    import pandas as pd

    from applicants.generator import generate_applicants

    return [json.dumps(row).encode() for row in pd.DataFrame(generate_applicants(count, seed)).to_dict("records")]


# ---------------------------------------------------------------------------------------------
# The database and the server
# ---------------------------------------------------------------------------------------------


def server_url(database_url: str, name: str) -> tuple[str, dict]:
    """(DATABASE_URL of database ``name`` on the same server, libpq environment for psql)."""
    parts = urlsplit(database_url)
    if not parts.scheme.startswith("postgres"):
        raise SystemExit(f"load_api needs PostgreSQL; DATABASE_URL is {parts.scheme}://…")
    url = urlunsplit((parts.scheme, parts.netloc, f"/{name}", "", ""))
    libpq = {
        "PGHOST": parts.hostname or "127.0.0.1",
        "PGPORT": str(parts.port or 5432),
        "PGUSER": parts.username or "postgres",
    }
    if parts.password:
        libpq["PGPASSWORD"] = parts.password
    return url, libpq


def psql(libpq: dict, *commands: str) -> None:
    args = ["psql", "-d", "postgres", "-v", "ON_ERROR_STOP=1", "-q"]
    for command in commands:
        args += ["-c", command]
    subprocess.run(args, env={**os.environ, **libpq}, check=True)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


def setup_database(args, env: dict, workdir: Path) -> tuple[str, int]:
    """Migrate, seed and train in this process (the project's commands); returns (token, user id)."""
    os.environ.update(env)
    sys.path.insert(0, str(PROJECT_DIR))
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group
    from django.core.management import call_command
    from django.db import connections

    from nplsite.roles import ANALYST
    from nplsite.tokens import issue_api_token

    say(f"migrating, generating {args.applicants} applicants, importing, training ({args.profile}) …")
    call_command("migrate", verbosity=0)
    call_command("collectstatic", interactive=False, verbosity=0)  # DEBUG=0: gunicorn refuses to start without
    import_generated_book(workdir, args.applicants, AS_OF)
    call_command("train", profile=args.profile, seed=7, verbosity=0, stdout=sys.stderr)
    user = get_user_model().objects.create_user("load-analyst", password=None)
    user.groups.add(Group.objects.get(name=ANALYST))
    token = issue_api_token(user)[1]
    connections.close_all()
    return token, user.pk


def prediction_count(user_id: int) -> int:
    from django.db import connections

    from scoring.models import Prediction

    count = Prediction.objects.filter(user_id=user_id).count()
    connections.close_all()
    return count


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process and its live children (Linux /proc)."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0.0
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        for each in [pid, *map(int, children)]:
            fields = Path(f"/proc/{each}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / ticks
    except (OSError, ValueError, IndexError):
        return float("nan")
    return total


def start_gunicorn(args, env: dict, port: int, log_path: Path) -> subprocess.Popen:
    """gunicorn as deployed: the repository's gunicorn.conf.py (address, processes and threads from
    the environment variables it reads), the request time limit raised to 60 s for a loaded machine."""
    env = {**env, "HOST": HOST, "PORT": str(port), "WEB_WORKERS": str(args.workers), "WEB_TIMEOUT": "60"}
    if args.threads:
        env["WEB_THREADS"] = str(args.threads)
    command = [str(BIN / "gunicorn"), "--config", str(PROJECT_DIR / "gunicorn.conf.py")]
    with open(log_path, "wb") as log:
        return subprocess.Popen(
            command, cwd=PROJECT_DIR, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )


def stop_gunicorn(process: subprocess.Popen) -> None:
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)  # graceful: the arbiter stops its workers
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)


def wait_until_serving(process: subprocess.Popen, port: int, log_path: Path, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"gunicorn exited with {process.returncode}:\n{log_path.read_text()[-3000:]}")
        try:
            status, _ = request(port, "GET", "/healthz", None, {})
            if status in (200, 503):
                return
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"gunicorn did not answer within {timeout:g} s:\n{log_path.read_text()[-3000:]}")


# ---------------------------------------------------------------------------------------------
# The client
# ---------------------------------------------------------------------------------------------


def request(port: int, method: str, path: str, body: bytes | None, headers: dict) -> tuple[int, bytes]:
    connection = http.client.HTTPConnection(HOST, port, timeout=30)
    try:
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


class KeptConnection:
    """One client's connection, kept open from request to request (opened again if the server closes it)."""

    def __init__(self, port: int):
        self.port = port
        self.connection = None

    def request(self, method: str, path: str, body: bytes | None, headers: dict) -> tuple[int, bytes]:
        if self.connection is None:
            self.connection = http.client.HTTPConnection(HOST, self.port, timeout=30)
        try:
            self.connection.request(method, path, body=body, headers=headers)
            response = self.connection.getresponse()
            content = response.read()
        except OSError:
            self.close()
            raise
        if response.will_close:
            self.close()
        return response.status, content

    def close(self) -> None:
        if self.connection is not None:
            self.connection.close()
            self.connection = None


@dataclass
class LoadResult:
    name: str
    sent: int = 0
    seconds: float = 0.0
    latencies_ms: list[float] = field(default_factory=list)
    statuses: dict[int, int] = field(default_factory=dict)
    failures: dict[str, int] = field(default_factory=dict)  # connection errors by kind
    samples: dict[int, bytes] = field(default_factory=dict)  # first body per unexpected status

    @property
    def throughput(self) -> float:
        return self.sent / self.seconds if self.seconds else 0.0

    def percentile(self, fraction: float) -> float:
        ordered = sorted(self.latencies_ms)
        return ordered[min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))] if ordered else float("nan")

    def count(self, status: int) -> int:
        return self.statuses.get(status, 0)


def drive(
    name: str,
    port: int,
    method: str,
    path: str,
    bodies: list[bytes] | None,
    headers: dict,
    *,
    total: int,
    concurrency: int,
    max_seconds: float,
    keep_alive: bool = False,
) -> LoadResult:
    """``total`` requests from ``concurrency`` threads, each on a connection it keeps open
    (``keep_alive``) or on a new one per request; stops early after ``max_seconds``."""
    result = LoadResult(name)
    lock = threading.Lock()
    next_index = iter(range(total))
    deadline = time.monotonic() + max_seconds

    def worker():
        latencies, statuses, failures, samples = [], {}, {}, {}
        kept = KeptConnection(port) if keep_alive else None
        send = kept.request if kept else functools.partial(request, port)
        while time.monotonic() < deadline:
            with lock:
                index = next(next_index, None)
            if index is None:
                break
            body = bodies[index % len(bodies)] if bodies else None
            started = time.perf_counter()
            try:
                status, content = send(method, path, body, headers)
            except OSError as exc:
                kind = type(exc).__name__
                failures[kind] = failures.get(kind, 0) + 1
                continue
            finally:
                latencies.append((time.perf_counter() - started) * 1000)
            statuses[status] = statuses.get(status, 0) + 1
            samples.setdefault(status, content[:300])
        if kept:
            kept.close()
        with lock:
            result.latencies_ms.extend(latencies)
            for status, n in statuses.items():
                result.statuses[status] = result.statuses.get(status, 0) + n
            for kind, n in failures.items():
                result.failures[kind] = result.failures.get(kind, 0) + n
            for status, content in samples.items():
                result.samples.setdefault(status, content)

    threads = [threading.Thread(target=worker, daemon=True) for _ in range(concurrency)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    result.seconds = time.perf_counter() - started
    result.sent = len(result.latencies_ms)
    return result


def interrupt(signum, frame):
    raise KeyboardInterrupt


def say(text: str) -> None:
    print(f"[load_api] {text}", file=sys.stderr, flush=True)


def describe(result: LoadResult) -> str:
    statuses = ", ".join(f"{status}: {n}" for status, n in sorted(result.statuses.items()))
    failures = ", ".join(f"{kind}: {n}" for kind, n in sorted(result.failures.items()))
    return (
        f"{result.name:<26} {result.sent:>7} requests in {result.seconds:7.2f} s = {result.throughput:7.1f} req/s; "
        f"p50 {result.percentile(0.50):6.1f} ms, p99 {result.percentile(0.99):6.1f} ms; answers {{{statuses}}}"
        + (f"; connection failures {{{failures}}}" if failures else "")
    )


# ---------------------------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=20_000, help="scoring requests to send (default 20000)")
    parser.add_argument("--concurrency", type=int, default=16, help="client threads (default 16)")
    parser.add_argument(
        "--baseline-requests", type=int, default=None, help="GET /healthz requests (default: a quarter)"
    )
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers (default 2)")
    parser.add_argument(
        "--threads", type=int, default=0, help="threads per gunicorn worker (default: gunicorn.conf.py's, as deployed)"
    )
    parser.add_argument(
        "--new-connections",
        action="store_true",
        help="a new connection per request (default: each client keeps its connection open)",
    )
    parser.add_argument("--applicants", type=int, default=1500, help="size of the generated training book")
    parser.add_argument("--profile", default="quick", help="training profile (default quick)")
    parser.add_argument("--database", default="npl_load", help="database created (dropped first) for the run")
    parser.add_argument("--throttle-rate", default="1000000/second", help="API_THROTTLE_RATE for the run")
    parser.add_argument("--max-seconds", type=float, default=900, help="stop sending after this long (default 900)")
    parser.add_argument("--keep-database", action="store_true", help="keep the database and work folder")
    args = parser.parse_args()
    if not 1 <= args.concurrency <= 256 or args.requests < 1:
        parser.error("--concurrency must be 1–256 and --requests at least 1")
    # It is dropped first: only a plain name, and never a database PostgreSQL itself needs.
    if not re.fullmatch(r"[a-z][a-z0-9_]{0,62}", args.database) or args.database in (
        "postgres",
        "template0",
        "template1",
    ):
        parser.error(f"--database must be a plain lower-case name of a scratch database, got {args.database!r}")

    base_url = os.environ.get("DATABASE_URL", "").strip() or "postgres://postgres@127.0.0.1:5432/postgres"
    database_url, libpq = server_url(base_url, args.database)
    workdir = Path(tempfile.mkdtemp(prefix="npl-load-"))
    env = {
        **os.environ,
        **production_like_environment(
            workdir,
            DATABASE_URL=database_url,
            MODEL_ARTIFACT_DIR=str(workdir / "artifacts"),
            STATIC_ROOT=str(workdir / "static"),
            ALLOWED_HOSTS=HOST,
            SECURE_SSL_REDIRECT="0",
            API_THROTTLE_RATE=args.throttle_rate,
        ),
    }
    # SIGTERM (e.g. a CI timeout) unwinds like Ctrl+C, through the finally below.
    signal.signal(signal.SIGTERM, interrupt)
    gunicorn = None
    log_path = workdir / "gunicorn.log"
    server_log = ""
    created = False
    try:
        say(f"fresh database {args.database} on {libpq['PGHOST']}:{libpq['PGPORT']}; work folder {workdir}")
        psql(libpq, f'DROP DATABASE IF EXISTS "{args.database}" WITH (FORCE)', f'CREATE DATABASE "{args.database}"')
        created = True
        token, user_id = setup_database(args, env, workdir)

        port = free_port()
        say(f"gunicorn with gunicorn.conf.py, {args.workers} workers, on {HOST}:{port}")
        gunicorn = start_gunicorn(args, env, port, log_path)
        wait_until_serving(gunicorn, port, log_path)

        bodies = varied_applicants(min(args.requests, 5000), seed=2024)
        headers = {"Authorization": f"Token {token}", "Content-Type": "application/json"}
        warm = drive(
            "warm-up",
            port,
            "POST",
            "/api/v1/score",
            bodies,
            headers,
            total=200,
            concurrency=args.concurrency,
            max_seconds=60,
            keep_alive=not args.new_connections,
        )
        baseline_total = args.baseline_requests or max(500, args.requests // 4)
        say(f"baseline: {baseline_total} × GET /healthz, {args.concurrency} clients …")
        baseline = drive(
            "baseline GET /healthz",
            port,
            "GET",
            "/healthz",
            None,
            {},
            total=baseline_total,
            concurrency=args.concurrency,
            max_seconds=args.max_seconds,
            keep_alive=not args.new_connections,
        )

        before = prediction_count(user_id)
        server_cpu, client_cpu = cpu_seconds(gunicorn.pid), time.process_time()
        say(f"load: {args.requests} × POST /api/v1/score, {args.concurrency} clients …")
        load = drive(
            "POST /api/v1/score",
            port,
            "POST",
            "/api/v1/score",
            bodies,
            headers,
            total=args.requests,
            concurrency=args.concurrency,
            max_seconds=args.max_seconds,
            keep_alive=not args.new_connections,
        )
        server_cpu = cpu_seconds(gunicorn.pid) - server_cpu
        client_cpu = time.process_time() - client_cpu
        stored = prediction_count(user_id) - before
    except KeyboardInterrupt:
        say("interrupted")
        return 130
    finally:
        if gunicorn is not None:
            stop_gunicorn(gunicorn)
        if created and not args.keep_database:
            try:
                from django.db import connections

                connections.close_all()
            except Exception:  # noqa: S110 (Django may not be set up yet; nothing to close then)
                pass
            psql(libpq, f'DROP DATABASE IF EXISTS "{args.database}" WITH (FORCE)')
        server_log = log_path.read_text(errors="replace") if log_path.exists() else ""
        if args.keep_database:
            say(f"kept database {args.database} and its artifacts in {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)

    ok = load.count(200)
    errors = load.sent - ok + sum(load.failures.values())
    missing = ok - stored
    ratio = load.throughput / baseline.throughput if baseline.throughput else float("nan")
    threads = args.threads or "gunicorn.conf.py's"
    connections = "a new connection per request" if args.new_connections else "each client on a kept-alive connection"
    cache = "Redis" if os.environ.get("REDIS_URL") else "the file cache"
    print(
        f"\nLoad test: {args.requests} requests, {args.concurrency} concurrent clients ({connections}); "
        f"gunicorn {args.workers} gthread workers ({threads} threads each); PostgreSQL; rate-limit request times "
        f"in {cache}; API_THROTTLE_RATE {args.throttle_rate} (raised for the run); {os.cpu_count()} CPUs shared by "
        f"client, server and database, load average {os.getloadavg()[0]:.1f} at the end"
    )
    print(describe(warm))
    print(describe(baseline))
    print(describe(load))
    print(f"throughput ratio scoring / healthz baseline: {ratio:.2f}")
    print(
        f"CPU per scoring request: gunicorn workers {1000 * server_cpu / max(load.sent, 1):.2f} ms, "
        f"this client {1000 * client_cpu / max(load.sent, 1):.2f} ms (the rest of the machine: PostgreSQL, Redis, "
        "other processes)"
    )
    print(f"errors (not 200, or no answer): {errors}")
    for status, sample in sorted(load.samples.items()):
        if status != 200:
            print(f"  first {status} body: {sample.decode(errors='replace')}")
    print(f"predictions stored for the load user: {stored} of {ok} answered 200 (missing: {missing})")
    verdict = "meets" if load.throughput >= THROUGHPUT_TARGET else "BELOW"
    print(f"throughput {load.throughput:.1f} req/s {verdict} the {THROUGHPUT_TARGET:.0f} req/s target (not enforced)")
    if errors or missing or load.sent < args.requests:
        print(f"gunicorn log (last 4000 characters):\n{server_log[-4000:]}")
        print(
            "FAILED: "
            + ("errors; " if errors else "")
            + ("missing predictions; " if missing else "")
            + ("not every request was sent (time limit); " if load.sent < args.requests else "")
        )
        return 1
    print("OK: zero errors, every prediction persisted")
    return 0


if __name__ == "__main__":
    sys.exit(main())
