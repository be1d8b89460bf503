"""Latency of scoring one applicant: /predict/ and /api/v1/score against the bare model call.

Usage::

    .venv/bin/python benchmarks/score_latency.py [--requests 300] [--applicants 1500] [--algorithm XGBClassifier]

Self-contained: a fresh SQLite database and artifact folder in a temporary directory (your data
folder is not touched; ``BENCHMARK_DATABASE_URL=postgres://…`` runs it on an empty PostgreSQL
database instead, flushed afterwards), a generated loan book imported, a model trained with the
quick profile (one algorithm, unless ``--algorithm all``) and an Analyst with an API token. Then,
in this one process and after a warm-up, it times per request:

- **baseline**: ``TrainedNplModel.predict_npl_probability`` on a one-row DataFrame — the model
  alone, what any serving code must at least pay;
- **engine**: ``scoring.engine.engine.score`` — active-version lookup, probability, scorecard and
  the occlusion reasons (the applicant and its 9 variants go through the model in one call on
  10 rows), without storing;
- **storing**: one ``Prediction`` INSERT and its COMMIT — on SQLite an fsync, which varies with
  the disk's load from other processes;
- **/predict/** and **/api/v1/score**: full HTTP handling through Django's WSGI handler (test
  client, no network): middleware, token authentication, role check, throttling, validation,
  engine, one ``Prediction`` INSERT, JSON.

It prints median / mean / p95 milliseconds per request and each one's ratio to the baseline.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import statistics
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parent.parent
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


def timed(function, repeats: int) -> list[float]:
    for _ in range(max(10, repeats // 10)):  # warm-up: caches, lazy imports, connection
        function()
    samples = []
    for _ in range(repeats):
        started = time.perf_counter()
        function()
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=300, help="timed requests per path")
    parser.add_argument("--applicants", type=int, default=1500, help="size of the generated training book")
    parser.add_argument("--algorithm", default="XGBClassifier", help="algorithm to train, or 'all' (quick profile)")
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="npl-latency-"))
    os.environ.update(
        {
            "DATA_DIR": str(workdir),
            "DATABASE_URL": os.environ.get("BENCHMARK_DATABASE_URL", f"sqlite:///{workdir / 'bench.sqlite3'}"),
            "LOG_LEVEL": "WARNING",
            # Production-like: no debug query log; the test client's host allowed; no HTTPS redirect.
            "DEBUG": "0",
            "SECRET_KEY": secrets.token_urlsafe(50),
            "ALLOWED_HOSTS": "testserver",
            "SECURE_SSL_REDIRECT": "0",
            "DJANGO_SETTINGS_MODULE": "nplsite.settings",
        }
    )
    sys.path.insert(0, str(PROJECT_DIR))
    import django

    django.setup()
    import pandas as pd
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group
    from django.core.management import call_command
    from django.test import Client
    from rest_framework.authtoken.models import Token

    from applicants.generator import write_loan_book
    from applicants.services import import_loan_file
    from nplsite.roles import ANALYST
    from scoring.engine import engine
    from scoring.models import Prediction
    from training.artifacts import load_artifact
    from training.models import TrainingRun
    from training.pipeline import narrowed_profile
    from training.services import train_model_version

    print(f"Setting up in {workdir} …", file=sys.stderr)
    call_command("migrate", verbosity=0)
    as_of = date(2024, 6, 30)
    write_loan_book(workdir / "book.csv", workdir / "truth.csv", args.applicants, seed=1, as_of=as_of)
    import_loan_file(workdir / "book.csv", as_of=as_of)
    profile = "quick" if args.algorithm == "all" else narrowed_profile("quick", algorithms=(args.algorithm,))
    version = train_model_version(TrainingRun.objects.create(parameters={"source": "benchmark"}), profile=profile)
    user = get_user_model().objects.create_user("bench-analyst", password=None)
    user.groups.add(Group.objects.get(name=ANALYST))
    token = Token.objects.create(user=user).key

    model = load_artifact(version)
    one_row = pd.DataFrame([BODY])
    client = Client(HTTP_AUTHORIZATION=f"Token {token}")
    payload = json.dumps(BODY)
    strict_payload = json.dumps({k: int(v) if isinstance(v, float) else v for k, v in BODY.items()})

    def predict():
        response = client.post("/predict/", data=payload, content_type="application/json")
        assert response.status_code == 200, response.content[:300]

    stored = Prediction.objects.create(
        input_attributes=BODY, model_version=version, **engine.score(one_row).row(0), channel="api"
    )

    def store():  # what persisting costs: one INSERT and its COMMIT (an fsync on SQLite's default journal)
        stored.pk = None
        Prediction.objects.bulk_create([stored])

    def score():
        response = client.post("/api/v1/score", data=strict_payload, content_type="application/json")
        assert response.status_code == 200, response.content[:300]

    results = {
        "baseline: model.predict_npl_probability (1 row)": timed(
            lambda: model.predict_npl_probability(one_row), args.requests
        ),
        "engine.score (probability, scorecard, reasons)": timed(lambda: engine.score(one_row), args.requests),
        "storing one Prediction (INSERT + COMMIT)": timed(store, args.requests),
        "POST /predict/ (HTTP, stored)": timed(predict, args.requests),
        "POST /api/v1/score (HTTP, stored)": timed(score, args.requests),
    }
    baseline = statistics.median(next(iter(results.values())))
    database = django.db.connection.vendor
    print(f"\nModel {version.name} (version #{version.pk}); {args.requests} timed calls each; database {database}")
    print(f"{'path':<52} {'median ms':>9} {'mean ms':>8} {'p95 ms':>7} {'× baseline':>10}")
    for name, samples in results.items():
        median = statistics.median(samples)
        p95 = sorted(samples)[int(0.95 * (len(samples) - 1))]
        print(f"{name:<52} {median:9.2f} {statistics.fmean(samples):8.2f} {p95:7.2f} {median / baseline:10.2f}")
    print(f"Predictions stored: {Prediction.objects.count()}")
    if database != "sqlite":
        call_command("flush", interactive=False, verbosity=0)  # leave the benchmark database empty


if __name__ == "__main__":
    main()
