"""The web server's settings, in the one file `make run` (scripts/run.sh), the image (Dockerfile) and
docker-compose all use: gunicorn reads ``gunicorn.conf.py`` from the directory it starts in, the
repository root, so each of them runs plain ``gunicorn``.

**Keep-alive.** ``gthread`` workers keep a client's connection open between requests for
``WEB_KEEPALIVE_SECONDS`` (an internal system scoring at the point of sale sends one request per
application on the same connection; a new TCP connection per request costs about as much as
Django's own handling of a small request). Each worker serves ``WEB_THREADS`` requests at once, so
a request waiting for the database or Redis does not hold the others up; idle kept-alive
connections wait in the worker's poller, not in a thread.

**Limits**, the same wherever it runs: a request line of at most 4,094 bytes, at most 100 header
fields of at most 8,190 bytes each (gunicorn's defaults, written out); Django bounds the body
(``DATA_UPLOAD_MAX_MEMORY_SIZE``, and ``BATCH_UPLOAD_MAX_BYTES`` for batch files). A request may
run for at most ``WEB_TIMEOUT`` seconds (30). A sync worker had that bound from gunicorn itself
(the arbiter killed a worker silent for that long); a ``gthread`` worker stays responsive while a
thread is stuck, so gunicorn's ``timeout`` no longer bounds a request, and the hooks below do:
:func:`pre_request` and :func:`post_request` note when each thread's request started, and a
watchdog thread started in :func:`post_worker_init` stops the worker when one runs longer — it
logs which request, stops accepting, lets the worker's other requests finish for up to
:data:`STOP_GRACE_SECONDS`, then exits; the arbiter starts a new worker, as it did after a sync
worker's timeout.

Variables (the README's table lists them): ``HOST`` and ``PORT`` (the address, ``127.0.0.1:8000``
by default; the image sets ``HOST=0.0.0.0``), ``WEB_WORKERS`` (processes, 2), ``WEB_THREADS``
(requests at once per process, 4), ``WEB_KEEPALIVE_SECONDS`` (how long an idle connection is kept,
75: longer than the 60 s idle timeout of the usual load balancers, so that they close it first),
``WEB_TIMEOUT`` (30). Access log lines go to standard output.
"""

import os
import threading
import time


def _positive_int(name: str, default: int) -> int:
    text = os.environ.get(name, "").strip()
    if not text:
        return default
    try:
        value = int(text)
    except ValueError:
        raise SystemExit(f"{name} must be a whole number, got {text!r}") from None
    if value < 1:
        raise SystemExit(f"{name} must be at least 1, got {value}")
    return value


wsgi_app = "nplsite.wsgi:application"
bind = [f"{os.environ.get('HOST', '').strip() or '127.0.0.1'}:{_positive_int('PORT', 8000)}"]
workers = _positive_int("WEB_WORKERS", 2)
worker_class = "gthread"
threads = _positive_int("WEB_THREADS", 4)
keepalive = _positive_int("WEB_KEEPALIVE_SECONDS", 75)
timeout = _positive_int("WEB_TIMEOUT", 30)
graceful_timeout = 30
limit_request_line = 4094
limit_request_fields = 100
limit_request_field_size = 8190
accesslog = "-"
# No control socket: its default path is one per user, which two servers on a machine (make run, a test's,
# a benchmark's) would fight over; nothing here uses gunicornc.
control_socket_disable = True

# One core per model call: the libraries' OpenMP threads (k-NN's neighbour search; XGBoost) would
# otherwise spread each small call over every core, contending with the other threads and workers —
# on a busy two-core machine k-NN's median call went from 0.9 ms to 7 ms. Workers start after this
# file is read, so they inherit it; set OMP_NUM_THREADS to override.
os.environ.setdefault("OMP_NUM_THREADS", "1")

# ---------------------------------------------------------------------------------------------
# The request time limit (see the module docstring)
# ---------------------------------------------------------------------------------------------

#: How long a worker stopped by the watchdog lets its other requests finish before it exits.
STOP_GRACE_SECONDS = 10.0
#: How often the watchdog looks.
WATCH_INTERVAL_SECONDS = 1.0

# thread id → (monotonic start, "METHOD path") of the request that thread is serving, in this worker
_running: dict[int, tuple[float, str]] = {}


def pre_request(worker, req):
    _running[threading.get_ident()] = (time.monotonic(), f"{req.method} {req.path}")


def post_request(worker, req, environ, resp):
    _running.pop(threading.get_ident(), None)


def overrunning(running: dict[int, tuple[float, str]], now: float, limit: float) -> list[tuple[float, str]]:
    """``(seconds, request)`` of every request running longer than ``limit`` seconds."""
    return [(now - started, what) for started, what in list(running.values()) if now - started > limit]


def watch_requests(worker, *, limit: float, running=_running, clock=time.monotonic, sleep=time.sleep, exit=os._exit):
    """The watchdog's loop: when a request runs longer than ``limit`` seconds, log it, stop the
    worker accepting, let its other requests finish (at most :data:`STOP_GRACE_SECONDS`), exit."""
    while True:
        sleep(WATCH_INTERVAL_SECONDS)
        late = overrunning(running, clock(), limit)
        if not late:
            continue
        for seconds, what in late:
            worker.log.error(
                "Request %s still running after %.0f s (the limit is %s s): stopping worker %s",
                what,
                seconds,
                limit,
                worker.pid,
            )
        worker.alive = False  # no new requests; the worker's loop lets the running ones finish
        deadline = clock() + STOP_GRACE_SECONDS
        while clock() < deadline and len(running) > len(late):
            sleep(0.1)
        exit(1)  # the stuck thread cannot be stopped otherwise; the arbiter starts a new worker


def post_worker_init(worker):
    if worker.cfg.timeout:
        threading.Thread(
            target=watch_requests,
            args=(worker,),
            kwargs={"limit": worker.cfg.timeout},
            name="request-watchdog",
            daemon=True,
        ).start()
