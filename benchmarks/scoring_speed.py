"""Speed of scoring: one applicant through the whole API stack, the engine alone, and 100,000 at once.

Usage::

    .venv/bin/python benchmarks/scoring_speed.py [--requests 2000] [--bulk 100000] [--algorithm XGBClassifier]

Self-contained: a fresh SQLite database and artifact folder in a temporary directory (your data
folder is not touched; ``BENCHMARK_DATABASE_URL=postgres://…`` runs it on an empty PostgreSQL
database instead, flushed afterwards), a generated loan book imported, a model trained with the
quick profile (one algorithm, unless ``--algorithm all``) and an Analyst with an API token. All in
this one process, after a warm-up; the targets are those of issue 14 (library APIs instead of
re-implemented internals):

- (a) **POST /api/v1/score** through Django's WSGI handler (test client, no network): middleware,
  token authentication and role, rate limit, validation, engine, one ``Prediction`` INSERT, JSON —
  median and p99 over ``--requests``. Target: median ≤ 5 ms and ≤ 2 × (b).
- (b) **the floor**: the same stack on a trivial endpoint (mounted by this script only, same
  authentication, role check, rate limit and JSON parser: it receives the same body and parses it)
  that inserts one ``Prediction`` row and answers its id: what any scoring endpoint costs before it
  scores. The HTTP paths take turns
  request by request, so a change in the shared machine's speed during the run touches (a) and
  (b) alike.
- (c) **the engine alone** on one applicant: ``engine.score(...).row(0)`` (active-version lookup,
  probability, scorecard, the occlusion reasons chosen and worded), not stored. Target ≤ 1.5 ms.
  Shown beside it: the same without reasons; and the model call the engine makes,
  ``predict_npl_probability`` (the model's own calibrator, a fitted ``LogisticRegression`` or
  ``IsotonicRegression``, on the pipeline's score), on one row and on the ten rows of one
  applicant's occlusion.
- (d) **throughput on ``--bulk`` applicants** (drawn as the loan books draw them, fixed seed): ``engine.score``
  on all at once (target ≥ 30,000 applicants/s with reasons; with and without reasons: every probability,
  label, score, grade, expected loss, recommendation, and which reasons with their effects), then
  the time to word every applicant's reasons (``Reasons`` words them when read; whoever reads
  them all pays it, ``score_csv`` included), and ``manage.py score_csv`` on a file of them
  (applicant columns only) including parsing, validation, storing every ``Prediction`` and
  writing the output (target ≤ 20 s for 100,000).

The API's rate limit is DRF's ``UserRateThrottle``, which keeps each request time of the period in
the cache: the script sets ``API_THROTTLE_RATE`` to ``1000000/second`` so that it measures
scoring, with the throttle's list holding about one second of requests (a few hundred), as it
holds at most 1,000 at the default ``1000/minute``.

Also shown: the deprecated ``POST /predict/``. Each line says whether its target is met; the exit
status is 0 either way (timings on a shared machine are noisy; compare the ratios).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

import numpy as np
from benchmark_setup import setup_django  # noqa: E402 (a module beside this script)

BODY = {
    "monthly_income": 9295094.0,
    "housing_type": "milik sendiri",
    "num_of_dependent": 3.0,
    "lama_bekerja": 2.0,
    "otr": 300000000.0,
    "status_pernikahan": "Belum Nikah",
    "pekerjaan": "Karyawan Swasta",
    "tenor": 36.0,
    "dp": 60000000.0,
}


def timed(function, repeats: int) -> list[tuple[float, float]]:
    return timed_together({"": function}, repeats)[""]


def timed_together(functions: dict, repeats: int) -> dict[str, list[tuple[float, float]]]:
    """(wall ms, CPU ms of this thread) of each call of each function, the functions taking turns
    call by call, so that a change in the machine's speed during the run (it is shared) touches
    all of them alike and their ratios stay meaningful. The CPU time is what the call itself costs;
    the wall time adds any wait for a core, which on a busy shared machine can be most of it."""
    for _ in range(max(10, repeats // 10)):  # warm-up: caches, lazy imports, connection
        for function in functions.values():
            function()
    samples = {name: [] for name in functions}
    for _ in range(repeats):
        for name, function in functions.items():
            started, started_cpu = time.perf_counter(), time.thread_time()
            function()
            samples[name].append(((time.perf_counter() - started) * 1000, (time.thread_time() - started_cpu) * 1000))
    return samples


def verdict(met: bool) -> str:
    return "met" if met else "NOT met"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=2000, help="timed requests per HTTP path (default 2000)")
    parser.add_argument("--calls", type=int, default=2000, help="timed engine calls on one applicant (default 2000)")
    parser.add_argument("--bulk", type=int, default=100_000, help="applicants for the throughput part (default 100000)")
    parser.add_argument("--applicants", type=int, default=1500, help="size of the generated training book")
    parser.add_argument("--algorithm", default="XGBClassifier", help="algorithm to train, or 'all' (quick profile)")
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="npl-scoring-speed-"))
    setup_django(
        workdir,
        DATABASE_URL=os.environ.get("BENCHMARK_DATABASE_URL", f"sqlite:///{workdir / 'bench.sqlite3'}"),
        # The test client's host allowed; no HTTPS redirect.
        ALLOWED_HOSTS="testserver",
        SECURE_SSL_REDIRECT="0",
        # Thousands of requests a minute from one user: measure scoring, not the rate limit (see above).
        API_THROTTLE_RATE="1000000/second",
    )
    import pandas as pd
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.urls import clear_url_caches, path
    from rest_framework.response import Response

    from applicants.generator import generate_applicants, write_loan_book
    from applicants.services import import_loan_file
    from credit.model_search import narrowed_profile
    from nplsite.roles import ANALYST
    from nplsite.tokens import issue_api_token
    from scoring.engine import engine
    from scoring.models import Prediction
    from scoring.reason_wording import worded_reasons
    from training.artifacts import load_artifact
    from training.models import TrainingRun
    from training.services import train_model_version
    from web import urls
    from web.api.scoring import ScoringApiView

    print(f"Setting up in {workdir} …", file=sys.stderr)
    call_command("migrate", verbosity=0)
    as_of = date(2024, 6, 30)
    write_loan_book(workdir / "book.csv", workdir / "truth.csv", args.applicants, seed=1, as_of=as_of)
    import_loan_file(workdir / "book.csv", as_of=as_of)
    profile = "quick" if args.algorithm == "all" else narrowed_profile("quick", algorithms=(args.algorithm,))
    version = train_model_version(TrainingRun.objects.create(parameters={"source": "benchmark"}), profile=profile)
    user = get_user_model().objects.create_user("bench-analyst", password=None)
    user.groups.add(Group.objects.get(name=ANALYST))
    token = issue_api_token(user)[1]

    model = load_artifact(version)
    one_row = pd.DataFrame([BODY])
    ten_rows = pd.DataFrame([BODY] * 10)
    one_applicant = {name: [value] for name, value in BODY.items()}
    template = Prediction(input_attributes=BODY, model_version=version, **engine.score(one_row).row(0), channel="api")

    class Floor(ScoringApiView):
        """(b): the scoring endpoints' authentication, role check, rate limit and parser; one INSERT."""

        def post(self, request):
            if not isinstance(request.data, dict):  # DRF parses the body when it is first read
                raise AssertionError("the floor received no JSON object")
            template.pk, template.user = None, request.user
            Prediction.objects.bulk_create([template])  # how the scoring endpoints store a prediction
            return Response({"id": template.pk})

    urls.urlpatterns.append(path("benchmark/floor", Floor.as_view()))
    clear_url_caches()

    client = Client(HTTP_AUTHORIZATION=f"Token {token}")
    payload = json.dumps(BODY)
    strict_payload = json.dumps({k: int(v) if isinstance(v, float) else v for k, v in BODY.items()})

    def post(url: str, body: str):
        def call():
            response = client.post(url, data=body, content_type="application/json")
            assert response.status_code == 200, response.content[:300]

        return call

    results = timed_together(
        {
            "(b) floor: auth, role, rate limit, 1 INSERT": post("/benchmark/floor", strict_payload),
            "(a) POST /api/v1/score (stored)": post("/api/v1/score", strict_payload),
            "    POST /predict/ (stored)": post("/predict/", payload),
        },
        args.requests,
    )
    results |= {
        "(c) engine.score, 1 applicant, worded": timed(lambda: engine.score(one_applicant).row(0), args.calls),
        "    engine.score, 1 applicant, no reasons": timed(
            lambda: engine.score(one_applicant, with_reasons=False), args.calls
        ),
        "    predict_npl_probability, 1 row": timed(lambda: model.predict_npl_probability(one_row), args.calls),
        "    predict_npl_probability, 10 rows": timed(lambda: model.predict_npl_probability(ten_rows), args.calls),
    }
    database = connection.vendor
    print(f"\nModel {version.name} (version #{version.pk}); database {database}")
    print(f"load average {os.getloadavg()[0]:.1f}")
    print(f"{'path':<46} {'calls':>6} {'median ms':>9} {'p99 ms':>7} {'CPU ms':>7}")
    medians, cpu = {}, {}
    for name, samples in results.items():
        ordered = sorted(wall for wall, _ in samples)
        medians[name] = statistics.median(ordered)
        cpu[name] = statistics.median(used for _, used in samples)
        p99 = ordered[int(0.99 * (len(ordered) - 1))]
        print(f"{name:<46} {len(ordered):>6} {medians[name]:9.3f} {p99:7.2f} {cpu[name]:7.3f}")
    for kind, figures in (("median", medians), ("median CPU time", cpu)):
        api, floor = figures["(a) POST /api/v1/score (stored)"], figures["(b) floor: auth, role, rate limit, 1 INSERT"]
        engine_one = figures["(c) engine.score, 1 applicant, worded"]
        print(
            f"(a) {kind} {api:.2f} ms ≤ 5 ms: {verdict(api <= 5.0)}; "
            f"{api / floor:.2f} × the floor ≤ 2: {verdict(api <= 2 * floor)}; "
            f"(c) engine on one applicant {engine_one:.3f} ms ≤ 1.5 ms: {verdict(engine_one <= 1.5)}"
        )

    # (d) throughput
    bulk = generate_applicants(args.bulk, seed=2024)
    engine.score({name: values[:100] for name, values in bulk.items()})  # warm-up
    for label, with_reasons in (("with reasons", True), ("without reasons", False)):
        started, started_cpu = time.perf_counter(), time.process_time()
        scores = engine.score(bulk, with_reasons=with_reasons)
        seconds, cpu_seconds = time.perf_counter() - started, time.process_time() - started_cpu
        assert len(scores) == args.bulk
        rate = args.bulk / seconds
        print(
            f"(d) engine.score on {args.bulk:,} applicants {label}: {seconds:.2f} s (CPU {cpu_seconds:.2f} s) = "
            f"{rate:,.0f} applicants/s " + (f"(≥ 30,000/s: {verdict(rate >= 30_000)})" if with_reasons else "")
        )
        if with_reasons:
            started = time.perf_counter()
            attributes = pd.DataFrame(bulk).to_dict("records")
            worded = sum(len(worded_reasons(reasons, attributes[i])) for i, reasons in enumerate(scores.reasons))
            seconds = time.perf_counter() - started
            print(f"    then reading and wording all {worded:,} of their reasons: {seconds:.2f} s")
    in_path, out_path = workdir / "bulk.csv", workdir / "bulk-scored.csv"
    frame = pd.DataFrame(bulk)
    frame.insert(0, "app_id", np.arange(1, args.bulk + 1) + 10_000_000)
    frame.to_csv(in_path, index=False)
    before = Prediction.objects.filter(channel="batch").count()
    started, started_cpu = time.perf_counter(), time.process_time()
    call_command("score_csv", str(in_path), str(out_path), stdout=open(os.devnull, "w"))  # noqa: SIM115
    seconds, cpu_seconds = time.perf_counter() - started, time.process_time() - started_cpu
    stored = Prediction.objects.filter(channel="batch").count() - before
    target = 20.0 * args.bulk / 100_000
    print(
        f"(d) manage.py score_csv of {args.bulk:,} rows, {stored:,} predictions stored: {seconds:.2f} s "
        f"(CPU {cpu_seconds:.2f} s) = "
        f"{args.bulk / seconds:,.0f} rows/s (≤ {target:g} s: {verdict(seconds <= target)})"
    )
    print(f"load average {os.getloadavg()[0]:.1f}")
    if database != "sqlite":
        call_command("flush", interactive=False, verbosity=0)  # leave the benchmark database empty


if __name__ == "__main__":
    main()
