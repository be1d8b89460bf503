# ruff: noqa: E402, E731, B023, SIM115 (a script: Django set up first; timed closures called at once)
"""What each suspect of a scoring request costs, piece by piece, in one process (issue 24's profile).

Usage::

    REDIS_URL=redis://127.0.0.1:6379/7 .venv/bin/python benchmarks/serving_suspects.py

A fresh SQLite database in a temporary folder (``BENCHMARK_DATABASE_URL=postgres://…`` for an empty
PostgreSQL one instead, left with the rows it wrote), production settings, a 1,000-applicant book
and a LogisticRegression model. Each line is the median wall and thread-CPU time of one piece
called alone, after a warm-up: knox's token check and the role query against the remembered check;
DRF's throttle on Redis (with one and with 1,000 request times in the period) against the
one-round-trip script; the active model and policy queries against the engine's kept readings;
the request and answer serializers against their quicker readings; the prediction INSERT
(``bulk_create`` and ``save``, SQLite's journal and synchronous modes, a new connection); one
log line; the bare view through the site's middleware and through one. ``benchmarks/serving.py``
measures the whole request over HTTP.
"""

import json
import logging
import os
import statistics
import tempfile
import time
from datetime import date
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
from benchmark_setup import setup_django  # noqa: E402 (a module beside this script)

workdir = Path(tempfile.mkdtemp(prefix="npl-serving-suspects-"))
dburl = os.environ.get("BENCHMARK_DATABASE_URL", f"sqlite:///{workdir / 'db.sqlite3'}")
setup_django(
    workdir, DATABASE_URL=dburl, ALLOWED_HOSTS="testserver", SECURE_SSL_REDIRECT="0", API_THROTTLE_RATE="1000/minute"
)
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.db import connection, connections

from applicants.generator import write_loan_book
from applicants.services import import_loan_file
from credit.model_search import narrowed_profile
from nplsite.roles import ANALYST, roles_of
from nplsite.tokens import issue_api_token
from scoring.engine import engine
from scoring.models import Prediction
from scoring.policies import active_policy, current_policy
from training.models import TrainingRun
from training.selectors import get_active_model_version
from training.services import train_model_version

call_command("migrate", verbosity=0)
as_of = date(2024, 6, 30)
write_loan_book(workdir / "book.csv", workdir / "truth.csv", 1000, seed=1, as_of=as_of)
import_loan_file(workdir / "book.csv", as_of=as_of)
version = train_model_version(
    TrainingRun.objects.create(parameters={}),
    profile=narrowed_profile("quick", algorithms=("LogisticRegression",), balancings=("class_weight",)),
)
user = get_user_model().objects.create_user("bench", password=None)
user.groups.add(Group.objects.get(name=ANALYST))
token, key = issue_api_token(user)
BODY = {
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


def measure(f, n=1000, warm=100):
    for _ in range(warm):
        f()
    walls, cpus = [], []
    for _ in range(n):
        s, c = time.perf_counter(), time.thread_time()
        f()
        walls.append((time.perf_counter() - s) * 1e3)
        cpus.append((time.thread_time() - c) * 1e3)
    return statistics.median(walls), statistics.median(cpus)


rows = []


def row(name, f, n=1000):
    w, c = measure(f, n)
    rows.append((name, w, c))
    print(f"{name:<70} wall {w:7.3f} ms  CPU {c:7.3f} ms", flush=True)


from knox.auth import TokenAuthentication

from nplsite.authentication import CachedTokenAuthentication, memory

raw = key.encode()
row(
    "knox TokenAuthentication.authenticate_credentials (2 queries + digest)",
    lambda: TokenAuthentication().authenticate_credentials(raw),
)
from knox.crypto import hash_token

row("  of which knox's digest (SHA-512 of the key)", lambda: hash_token(key), 5000)
row("role lookup (one query)", lambda: roles_of(user))
memory.clear()
CachedTokenAuthentication().authenticate_credentials(raw)
row(
    "CachedTokenAuthentication, remembered (digest + copy of the user)",
    lambda: CachedTokenAuthentication().authenticate_credentials(raw),
)

from django.core.cache import cache
from rest_framework import throttling as drf_throttling

from nplsite.throttling import UserRateThrottle


class Req:
    pass


req = Req()
req.user = user


class DRFThrottle(drf_throttling.UserRateThrottle):
    THROTTLE_RATES = {"user": "100000/minute"}


class LuaThrottle(UserRateThrottle):
    THROTTLE_RATES = {"user": "100000/minute"}


from nplsite.throttling import _redis_store

for fill in (1, 1000) if _redis_store() else ():  # the comparison needs Redis (REDIS_URL)
    key_name = DRFThrottle.cache_format % {"scope": "user", "ident": user.pk}
    cache.delete(key_name)
    now = time.time()
    cache.set(key_name, [now - i * 0.01 for i in range(fill)], 60)

    def drf():
        t = DRFThrottle()
        t.allow_request(req, None)
        cache.set(key_name, t.history[:fill], 60)  # keep the history at this size

    row(f"DRF UserRateThrottle on Redis, {fill} time(s) in the period (GET + SET)", drf)
    cache.delete(key_name)
    client = _redis_store()[0]
    zkey = cache.make_key(key_name)
    client.zadd(zkey, {f"m{i}": now - i * 0.01 for i in range(fill)})

    def lua():
        LuaThrottle().allow_request(req, None)
        client.zremrangebyrank(zkey, 0, -(fill + 1))  # keep it at this size

    row(f"one-round-trip throttle (Lua), {fill} time(s) in the period (+ trim for the benchmark)", lua)
    cache.delete(key_name)
if _redis_store():
    row("  a bare Redis PING round trip", lambda: _redis_store()[0].ping(), 2000)

row("active model version query (get_active_model_version)", get_active_model_version)
row("active policy query (active_policy)", active_policy)
one = {k: [v] for k, v in BODY.items()}
engine.score(one)
row("engine's kept readings (loaded_model + current_policy)", lambda: (engine.loaded_model(), current_policy()), 5000)

from rest_framework import serializers as drf_serializers

from web.api.serializers import PredictionSerializer, ScoreRequestSerializer, _accepted_as_sent


def drf_request():
    s = ScoreRequestSerializer(data=BODY, context={"lenient": False})
    assert s.is_valid()


row("ScoreRequestSerializer: construction + is_valid (10 fields built per request)", drf_request)
row(
    "  the same rules without building the serializer (_accepted_as_sent)",
    lambda: _accepted_as_sent(BODY, allow_app_id=True, require_app_id=False),
    5000,
)
scores = engine.score(one)
template = Prediction(input_attributes=BODY, model_version=version, user=user, channel="api", **scores.row(0))
template.save()
row(
    "PredictionSerializer(p).data, DRF's generic to_representation (deep copy of 17 fields)",
    lambda: drf_serializers.Serializer.to_representation(PredictionSerializer(template), template),
)
row("  PredictionSerializer(p).data, to_representation written out", lambda: PredictionSerializer(template).data, 3000)
from rest_framework.renderers import JSONRenderer

data = PredictionSerializer(template).data
row("  JSONRenderer of the answer", lambda: JSONRenderer().render(data), 3000)


def fresh():
    p = Prediction(input_attributes=BODY, model_version=version, user=user, channel="api", **scores.row(0))
    return p


row(f"Prediction bulk_create([one]) ({connection.vendor})", lambda: Prediction.objects.bulk_create([fresh()]), 500)
row(
    f"Prediction save(force_insert=True), autocommit ({connection.vendor})",
    lambda: fresh().save(force_insert=True),
    500,
)
if connection.vendor == "sqlite":
    with connection.cursor() as c:
        c.execute("PRAGMA journal_mode")
        jm = c.fetchone()[0]
        c.execute("PRAGMA synchronous")
        sy = c.fetchone()[0]
    print(f"  (this connection: journal_mode={jm}, synchronous={sy})")
    with connection.cursor() as c:
        c.execute("PRAGMA synchronous=FULL")
    row("  save() with synchronous=FULL (WAL)", lambda: fresh().save(force_insert=True), 300)
    connections.close_all()
    with connection.cursor() as c:
        c.execute("PRAGMA journal_mode=DELETE")
        c.execute("PRAGMA synchronous=FULL")
    row(
        "  save() with journal_mode=DELETE, synchronous=FULL (SQLite's defaults)",
        lambda: fresh().save(force_insert=True),
        300,
    )
    with connection.cursor() as c:
        c.execute("PRAGMA journal_mode=WAL")
    connections.close_all()

    def reconnect():
        connection.close()
        connection.ensure_connection()

    row("a new SQLite connection with the WAL/NORMAL init command (CONN_MAX_AGE=0: every request)", reconnect, 300)
    connections.close_all()

log = logging.getLogger("srv.bench")
log.propagate = False
h = logging.StreamHandler(open(os.devnull, "w"))
h.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
log.addHandler(h)
log.setLevel(logging.INFO)
row(
    "one application log line (logging to a stream)",
    lambda: log.info('127.0.0.1 - - "POST /api/v1/score HTTP/1.1" 200 1530 "-" "python"'),
    5000,
)

# middleware: the WSGI handler on a bare view, with and without the site's middleware
from django.contrib.auth.decorators import login_not_required
from django.http import HttpResponse
from django.test import Client
from django.urls import clear_url_caches, path

from web import urls


@login_not_required
def bare(request):
    return HttpResponse("ok")


urls.urlpatterns.append(path("bare", bare))
clear_url_caches()
c = Client()
row("bare view through the test client, the site's 13 middleware", lambda: c.get("/bare"), 2000)
from django.test import override_settings

with override_settings(MIDDLEWARE=["django.middleware.common.CommonMiddleware"]):
    c2 = Client()
    row("bare view through the test client, CommonMiddleware only", lambda: c2.get("/bare"), 2000)
UserRateThrottle.THROTTLE_RATES = {"user": "1000000/second"}
ka = Client(HTTP_AUTHORIZATION=f"Token {key}")


def api():
    r = ka.post("/api/v1/score", data=json.dumps(BODY), content_type="application/json")
    assert r.status_code == 200, r.content


row("POST /api/v1/score through the test client (LogisticRegression)", api, 1000)
row("engine.score(one applicant).row(0) (LogisticRegression)", lambda: engine.score(one).row(0), 2000)
