"""Serving speed over HTTP: one applicant's score against a bare Django view, for every algorithm.

Usage::

    REDIS_URL=redis://127.0.0.1:6379/7 .venv/bin/python benchmarks/serving.py [--algorithms all] [--requests 1000]

Self-contained, on this machine only: a fresh SQLite database in a temporary folder (or
``--database-url postgres://…/name``, an empty scratch database, flushed at the end), production
settings (``DEBUG=0``; ``REDIS_URL`` is passed on, so the rate limit keeps its request times in
Redis as deployed), a generated German-credit-sized book (``--applicants``, 1,000) and, for each
algorithm the model search can choose, a model trained with the ``quick`` profile narrowed to that
algorithm (class weights; the scorecard as the book is), activated in turn. The server is gunicorn
with the repository's ``gunicorn.conf.py`` (``--workers``, default 1, bound to 127.0.0.1), serving
the site plus one bare view (``serving_app.py``); a tree without that file (the code before it) is
served as its image served it, sync workers.

For each algorithm, the requests take turns one by one, so that the machine's changes of speed
touch all of them alike:

- **bare**: ``GET /benchmark/bare``, a Django view answering "ok" through the same middleware;
- **score**: ``POST /api/v1/score`` with one applicant, an Analyst's token: middleware,
  authentication, role, rate limit, validation, engine, the stored prediction, JSON;

each on a **kept-alive** connection (one per kind, opened once) and on a **new** connection per
request; and, in the same turns, **engine srv**: ``POST /benchmark/engine`` with the same applicant,
answering how long ``engine.score(applicant).row(0)`` took in the server (the same call the score
view makes: the active model, the policy's figures, the reasons built; nothing stored) — the
engine's own time for the applicant, in the process, on the thread and at the moments of the
requests it is subtracted from. Before that, **engine**: the same call in this process alone (the
1.5 ms budget). An engine time measured apart from the requests (another process, other minutes)
moved each algorithm's ratio by the machine's changes of speed in between: on a shared machine the
ratios of six algorithms spread by a third with the same request code.

Printed per algorithm: p50 and p99 of each, the engine's p50 (alone and in the server), and the
ratio ``(score p50 − engine srv p50) / bare p50`` — what a scoring request costs beyond the model,
in bare requests (target ≤ 3 on kept-alive connections) — and whether the engine is within 1.5 ms. With
``--concurrency N`` (default 8), also ``--load-requests`` scoring requests from N kept-alive clients
at once (throughput). The run fails (exit 1) when any request did not answer 200 or a 200 answer has
no stored prediction; timings never fail it (this machine is shared: compare ratios within a run).
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import date
from pathlib import Path

from benchmark_setup import PROJECT_DIR, production_like_environment

BENCHMARKS_DIR = Path(__file__).resolve().parent
BIN = Path(sys.executable).parent
HOST = "127.0.0.1"  # the only address this script sends to
AS_OF = date(2024, 6, 30)
ALGORITHMS = (
    "LogisticRegression",
    "CreditScorecard",
    "DecisionTreeClassifier",
    "RandomForestClassifier",
    "XGBClassifier",
    "KNeighborsClassifier",
)
ENGINE_BUDGET_MS = 1.5
ENGINE_IN_SERVER = "engine, in the server"
OVERHEAD_BUDGET = 3.0  # bare requests
APPLICANT = {
    "monthly_income": 9295094,
    "housing_type": "milik sendiri",
    "num_of_dependent": 3,
    "lama_bekerja": 2,
    "otr": 300000000,
    "status_pernikahan": "Belum Nikah",
    "pekerjaan": "Karyawan Swasta",
    "tenor": 36,
    "dp": 60000000,
}


def say(text: str) -> None:
    print(f"[serving] {text}", file=sys.stderr, flush=True)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


def met(condition: bool) -> str:
    return "met" if condition else "NOT met"


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))] if ordered else float("nan")


# ---------------------------------------------------------------------------------------------
# Setup (in this process) and the server
# ---------------------------------------------------------------------------------------------


def set_up(args, env: dict, workdir: Path, algorithms: list[str]):
    """Migrate, import a book, train one version per algorithm; (versions by algorithm, token, user id)."""
    os.environ.update(env)
    sys.path.insert(0, str(PROJECT_DIR))
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group
    from django.core.management import call_command

    from applicants.generator import write_loan_book
    from applicants.services import import_loan_file
    from credit.model_search import narrowed_profile
    from nplsite.roles import ANALYST
    from nplsite.tokens import issue_api_token
    from training.models import TrainingRun
    from training.services import train_model_version

    say(f"migrating, importing {args.applicants} applicants …")
    call_command("migrate", verbosity=0)
    call_command("collectstatic", interactive=False, verbosity=0)  # DEBUG=0: gunicorn refuses to start without
    write_loan_book(workdir / "book.csv", workdir / "truth.csv", args.applicants, seed=1, as_of=AS_OF)
    import_loan_file(workdir / "book.csv", as_of=AS_OF)
    versions = {}
    for algorithm in algorithms:
        balancing = "none" if algorithm == "CreditScorecard" else "class_weight"
        profile = narrowed_profile(args.profile, algorithms=(algorithm,), balancings=(balancing,))
        started = time.perf_counter()
        versions[algorithm] = train_model_version(
            TrainingRun.objects.create(parameters={"source": "serving"}), profile=profile
        )
        say(f"trained {versions[algorithm].name} in {time.perf_counter() - started:.1f} s")
    user = get_user_model().objects.create_user(f"serving-{secrets.token_hex(4)}", password=None)
    user.groups.add(Group.objects.get(name=ANALYST))
    token = issue_api_token(user)[1]
    return versions, token, user.pk


def start_server(args, env: dict, port: int, log_path: Path) -> subprocess.Popen:
    config = PROJECT_DIR / "gunicorn.conf.py"
    command = [str(BIN / "gunicorn"), "--pythonpath", str(BENCHMARKS_DIR)]
    server_env = {**env, "HOST": HOST, "PORT": str(port), "WEB_WORKERS": str(args.workers)}
    if args.threads:
        server_env["WEB_THREADS"] = str(args.threads)
    if config.is_file():
        command += ["--config", str(config)]
    else:  # the code before gunicorn.conf.py: as its Dockerfile ran it (sync workers)
        command += ["--bind", f"{HOST}:{port}", "--workers", str(args.workers), "--access-logfile", "-"]
    command.append("serving_app:application")
    with open(log_path, "wb") as log:
        return subprocess.Popen(
            command, cwd=PROJECT_DIR, env=server_env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )


def stop_server(process: subprocess.Popen) -> None:
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
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
            if Client(port, keep_alive=False).send("GET", "/benchmark/bare")[0] == 200:
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise SystemExit(f"gunicorn did not answer within {timeout:g} s:\n{log_path.read_text()[-3000:]}")


# ---------------------------------------------------------------------------------------------
# The client
# ---------------------------------------------------------------------------------------------


class Client:
    """Sends requests on one kept-alive connection, or on a new connection each time."""

    def __init__(self, port: int, *, keep_alive: bool, headers: dict | None = None):
        self.port, self.keep_alive, self.headers = port, keep_alive, headers or {}
        self.connection = None
        self.opened = False
        self.reconnects = 0  # kept-alive connections the server closed (opened again)

    def send(self, method: str, path: str, body: bytes | None = None) -> tuple[int, bytes, float]:
        """(status, body, milliseconds from sending to the whole answer read)."""
        started = time.perf_counter()
        if self.connection is None:
            self.reconnects += self.keep_alive and self.opened
            self.opened = True
            self.connection = http.client.HTTPConnection(HOST, self.port, timeout=30)
        try:
            self.connection.request(method, path, body=body, headers=self.headers)
            response = self.connection.getresponse()
            content = response.read()
            if not self.keep_alive or response.will_close:  # the server closes it: open another next time
                self.connection.close()
                self.connection = None
        except Exception:
            self.connection.close()
            self.connection = None
            raise
        return response.status, content, (time.perf_counter() - started) * 1000

    def close(self) -> None:
        if self.connection is not None:
            self.connection.close()
            self.connection = None


def measure_http(port: int, token: str, requests: int) -> tuple[dict[str, list[float]], dict[int, int], int]:
    """Latencies (ms) by path name (for ``"engine, in the server"``: the engine's time the server
    measured), statuses of the score requests, and how often a kept-alive connection had to be
    opened again (0 when the server kept every connection)."""
    body = json.dumps(APPLICANT).encode()
    auth = {"Authorization": f"Token {token}", "Content-Type": "application/json"}
    clients = {
        "bare, kept-alive": (Client(port, keep_alive=True), "GET", "/benchmark/bare", None),
        "score, kept-alive": (Client(port, keep_alive=True, headers=auth), "POST", "/api/v1/score", body),
        "bare, new connection": (Client(port, keep_alive=False), "GET", "/benchmark/bare", None),
        "score, new connection": (Client(port, keep_alive=False, headers=auth), "POST", "/api/v1/score", body),
        ENGINE_IN_SERVER: (Client(port, keep_alive=True), "POST", "/benchmark/engine", body),
    }
    latencies = {name: [] for name in clients}
    statuses: dict[int, int] = {}
    for round_number in range(requests + max(20, requests // 10)):  # the first tenth warms up
        for name, (client, method, path, payload) in clients.items():
            status, content, milliseconds = client.send(method, path, payload)
            if round_number >= max(20, requests // 10):
                latencies[name].append(float(content) if name == ENGINE_IN_SERVER else milliseconds)
            if path == "/api/v1/score":
                statuses[status] = statuses.get(status, 0) + 1
                if status != 200:
                    say(f"{status}: {content[:300]!r}")
            elif status != 200:
                raise SystemExit(f"{path} answered {status}: {content[:300]!r}")
    reconnects = sum(client.reconnects for client, *_ in clients.values() if client.keep_alive)
    for client, *_ in clients.values():
        client.close()
    return latencies, statuses, reconnects


def measure_load(port: int, token: str, total: int, concurrency: int) -> tuple[float, dict[int, int]]:
    """Requests per second of ``total`` scoring requests from ``concurrency`` kept-alive clients."""
    body = json.dumps(APPLICANT).encode()
    auth = {"Authorization": f"Token {token}", "Content-Type": "application/json"}
    remaining = iter(range(total))
    lock = threading.Lock()
    statuses: dict[int, int] = {}

    def worker():
        client = Client(port, keep_alive=True, headers=auth)
        while True:
            with lock:
                if next(remaining, None) is None:
                    break
            status = client.send("POST", "/api/v1/score", body)[0]
            with lock:
                statuses[status] = statuses.get(status, 0) + 1
        client.close()

    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return total / (time.perf_counter() - started), statuses


def measure_engine(calls: int) -> list[float]:
    from scoring.engine import engine

    columns = {name: [value] for name, value in APPLICANT.items()}
    for _ in range(max(50, calls // 10)):
        engine.score(columns).row(0)
    samples = []
    for _ in range(calls):
        started = time.perf_counter()
        engine.score(columns).row(0)
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def table_header(concurrency: int) -> str:
    return (
        f"{'model':<38} {'engine':>7} {'engine srv':>10} {'bare KA':>8} {'score KA':>9} {'ratio KA':>9} "
        f"{'bare new':>9} {'score new':>10} {'ratio new':>10} {'p99 KA':>7}"
        + (f" {'req/s ×' + str(concurrency):>10}" if concurrency else "")
    )


def table_line(name: str, engine: list[float], latencies: dict, throughput: float | None) -> tuple[str, float, float]:
    """(the algorithm's line of the table, the engine's p50 alone, the kept-alive ratio)."""
    engine_p50 = statistics.median(engine)
    in_server, bare_ka, score_ka, bare_new, score_new = (
        statistics.median(latencies[kind])
        for kind in (
            ENGINE_IN_SERVER,
            "bare, kept-alive",
            "score, kept-alive",
            "bare, new connection",
            "score, new connection",
        )
    )
    ratio_ka, ratio_new = (score_ka - in_server) / bare_ka, (score_new - in_server) / bare_new
    line = (
        f"{name:<38} {engine_p50:7.3f} {in_server:10.3f} {bare_ka:8.3f} {score_ka:9.3f} {ratio_ka:9.2f} "
        f"{bare_new:9.3f} {score_new:10.3f} {ratio_new:10.2f} {percentile(latencies['score, kept-alive'], 0.99):7.2f}"
        + (f" {throughput:10.1f}" if throughput is not None else "")
    )
    return line, engine_p50, ratio_ka


# ---------------------------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--algorithms", default="all", help="comma-separated, or 'all' (default)")
    parser.add_argument("--requests", type=int, default=1000, help="timed requests of each kind per algorithm")
    parser.add_argument("--engine-calls", type=int, default=2000, help="timed engine calls per algorithm")
    parser.add_argument("--applicants", type=int, default=1000, help="size of the generated book (default 1000)")
    parser.add_argument("--profile", default="quick", help="training profile (default quick)")
    parser.add_argument("--workers", type=int, default=1, help="gunicorn workers (default 1)")
    parser.add_argument("--threads", type=int, default=0, help="threads per worker (default: gunicorn.conf.py's)")
    parser.add_argument("--concurrency", type=int, default=8, help="clients of the throughput part (0: skip it)")
    parser.add_argument("--load-requests", type=int, default=2000, help="requests of the throughput part")
    parser.add_argument("--port", type=int, default=0, help="the server's port (default: a free one)")
    parser.add_argument("--database-url", default="", help="an empty PostgreSQL database instead of SQLite")
    parser.add_argument("--throttle-rate", default="1000000/second", help="API_THROTTLE_RATE for the run")
    args = parser.parse_args()
    algorithms = list(ALGORITHMS) if args.algorithms == "all" else [a.strip() for a in args.algorithms.split(",")]
    unknown = sorted(set(algorithms) - set(ALGORITHMS))
    if unknown:
        parser.error(f"unknown algorithm(s) {', '.join(unknown)}; choose from {', '.join(ALGORITHMS)}")

    workdir = Path(tempfile.mkdtemp(prefix="npl-serving-"))
    env = {
        **os.environ,
        **production_like_environment(
            workdir,
            DATABASE_URL=args.database_url or f"sqlite:///{workdir / 'serving.sqlite3'}",
            MODEL_ARTIFACT_DIR=str(workdir / "artifacts"),
            STATIC_ROOT=str(workdir / "static"),
            ALLOWED_HOSTS=HOST,
            SECURE_SSL_REDIRECT="0",
            API_THROTTLE_RATE=args.throttle_rate,
        ),
    }
    # The engine measured here on one core, as gunicorn.conf.py has the server's (set after the
    # server's environment is copied: a tree without that file serves as it always did).
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    signal.signal(signal.SIGTERM, lambda signum, frame: (_ for _ in ()).throw(KeyboardInterrupt()))
    server = None
    log_path = workdir / "gunicorn.log"
    rows, failures = [], []
    try:
        versions, token, user_id = set_up(args, env, workdir, algorithms)
        from django.db import connections

        from scoring.models import Prediction
        from training.services import activate_model_version

        port = args.port or free_port()
        server = start_server(args, env, port, log_path)
        wait_until_serving(server, port, log_path)
        kind = (
            "gunicorn.conf.py" if (PROJECT_DIR / "gunicorn.conf.py").is_file() else "sync workers (no gunicorn.conf.py)"
        )
        say(f"gunicorn ({kind}), {args.workers} worker(s), on {HOST}:{port}")
        for algorithm in algorithms:
            version = versions[algorithm]
            activate_model_version(version)
            connections.close_all()
            time.sleep(1.2)  # the server follows an activation within SCORING_ACTIVE_VERSION_RECHECK_SECONDS (1 s)
            engine = measure_engine(args.engine_calls)
            before = Prediction.objects.filter(user_id=user_id).count()
            latencies, statuses, reconnects = measure_http(port, token, args.requests)
            throughput, load_statuses = (
                measure_load(port, token, args.load_requests, args.concurrency) if args.concurrency else (None, {})
            )
            for status, count in load_statuses.items():
                statuses[status] = statuses.get(status, 0) + count
            stored = Prediction.objects.filter(user_id=user_id).count() - before
            answered = statuses.get(200, 0)
            if answered != sum(statuses.values()) or stored != answered:
                failures.append(f"{algorithm}: answers {statuses}, predictions stored {stored} of {answered}")
            rows.append((version.name, engine, latencies, throughput, reconnects))
            say(table_line(version.name, engine, latencies, throughput)[0])
            connections.close_all()
    except KeyboardInterrupt:
        say("interrupted")
        return 130
    finally:
        if server is not None:
            stop_server(server)
        if args.database_url and "django" in sys.modules:
            try:
                from django.core.management import call_command

                call_command("flush", interactive=False, verbosity=0)
            except Exception as exc:  # noqa: BLE001 (report, and remove the folder all the same)
                say(f"could not flush the database: {exc}")
        server_log = log_path.read_text(errors="replace") if log_path.exists() else ""
        shutil.rmtree(workdir, ignore_errors=True)

    server_kind = "gunicorn.conf.py" if (PROJECT_DIR / "gunicorn.conf.py").is_file() else "sync"
    database = "PostgreSQL" if args.database_url else "SQLite"
    store = "Redis" if os.environ.get("REDIS_URL") else "the file cache"
    print(
        f"\nServing: gunicorn {args.workers} worker(s) ({server_kind}), {database}, rate limit in {store}, DEBUG=0; "
        f"{args.applicants}-applicant book, {args.profile} profile; {args.requests} requests of each kind per "
        f"algorithm, taking turns; {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f} at the end"
    )
    print(
        "p50 in ms; engine: alone in this process (budget 1.5 ms); engine srv: the same call timed in the server "
        "between the requests; ratio = (score p50 − engine srv p50) / bare p50, target ≤ 3 on kept-alive (KA) "
        "connections"
    )
    print(table_header(args.concurrency))
    verdicts = []
    for name, engine, latencies, throughput, reconnects in rows:
        line, engine_p50, ratio_ka = table_line(name, engine, latencies, throughput)
        print(line)
        kept = "connections kept alive" if reconnects == 0 else f"kept-alive connections closed {reconnects} times"
        verdicts.append(
            f"{name}: engine {engine_p50:.3f} ms ≤ {ENGINE_BUDGET_MS} ms: {met(engine_p50 <= ENGINE_BUDGET_MS)}; "
            f"overhead {ratio_ka:.2f} × the bare view ≤ {OVERHEAD_BUDGET:g}: {met(ratio_ka <= OVERHEAD_BUDGET)}; {kept}"
        )
    print()
    print("\n".join(verdicts))
    if failures:
        print(f"gunicorn log (last 3000 characters):\n{server_log[-3000:]}")
        print("FAILED: " + "; ".join(failures))
        return 1
    print("OK: every score answered 200 and was stored")
    return 0


if __name__ == "__main__":
    sys.exit(main())
