"""Benchmark: the review queue's pages over a large book of stored predictions.

    .venv/bin/python benchmarks/review_queue.py                          # 100,000 and 1,000,000 predictions
    .venv/bin/python benchmarks/review_queue.py --sizes 100000 --database-url postgres://postgres@127.0.0.1:5432/npl_reviews

For each size, in a temporary folder (SQLite) or the given PostgreSQL database (emptied first):

1. **setup** (not timed): ``size`` predictions of one model version made over 2026 — half of them for
   stored applications (two predictions each, so half of those are superseded by a re-score), half ad
   hoc — 30 % recommended review, grades A–E; 1,000 of the review ones decided, 200 approve/decline ones
   sent to review, 500 cases claimed; then ``ANALYZE`` (the planner's statistics, as autovacuum keeps them).
2. **measure**, each the median of 5 runs:
   - baseline: the first page of ``GET /api/v1/predictions`` as its selector reads it (the count and 25
     rows, newest first) — the cheapest paged list of predictions the product already serves;
   - the queue's first page (the count, 25 case ids, then their predictions and cases), its last page,
     and a filtered first page (grade C, past the target).

Prints seconds and the ratio to the baseline for each.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from datetime import date, datetime, timedelta

from benchmark_setup import setup_django  # noqa: E402 (a module beside this script)

PAGE = 25
RUNS = 5
CHUNK = 20_000


def _median_seconds(function) -> float:
    timings = []
    for _ in range(RUNS):
        start = time.perf_counter()
        function()
        timings.append(time.perf_counter() - start)
    return statistics.median(timings)


def setup_book(size: int) -> None:
    import json

    import numpy as np
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.db import connection, transaction
    from django.utils import timezone

    from applicants.models import Applicant
    from reviews.models import ReviewCase
    from reviews.services import record_decision
    from scoring.models import Prediction
    from training.models import ModelVersion

    call_command("flush", interactive=False, verbosity=0)
    call_command("migrate", verbosity=0)
    rng = np.random.default_rng(7)
    version = ModelVersion.objects.create(
        name="bench", algorithm="LogisticRegression", balancing="none", threshold=0.1,
        artifact_path="none", artifact_sha256="0" * 64, artifact_size=1,
    )  # fmt: skip
    attributes = json.dumps(
        {"monthly_income": 9_500_000, "housing_type": "milik sendiri", "num_of_dependent": 1, "lama_bekerja": 6,
         "otr": 150_000_000, "status_pernikahan": "Nikah", "pekerjaan": "Karyawan Swasta", "tenor": 36,
         "dp": 45_000_000}
    )  # fmt: skip
    applicants = size // 4
    Applicant.objects.bulk_create(
        [
            Applicant(app_id=index + 1, monthly_income=9_500_000, housing_type="milik sendiri", num_of_dependent=1,
                      lama_bekerja=6, otr=150_000_000, status_pernikahan="Nikah", pekerjaan="Karyawan Swasta",
                      tenor=36, dp=45_000_000, source="bench")
            for index in range(applicants)
        ],
        batch_size=5_000,
    )  # fmt: skip
    first_applicant = Applicant.objects.order_by("id").values_list("id", flat=True).first()
    start = timezone.make_aware(datetime(2026, 1, 1))
    seconds = int(timedelta(days=360).total_seconds())
    table = Prediction._meta.db_table
    columns = (
        "applicant_id, input_attributes, model_version_id, npl_probability, is_npl, threshold, credit_score, "
        "risk_grade, expected_loss, recommendation, reasons, outside_training, channel, created_at, knockout_rule"
    )
    placeholders = ", ".join(["%s"] * 15)
    grades = np.array(list("ABCDE"))
    recommendations = np.array(["approve", "review", "decline"])
    with transaction.atomic(), connection.cursor() as cursor:
        for low in range(0, size, CHUNK):
            count = min(CHUNK, size - low)
            index = np.arange(low, low + count)
            linked = index < size // 2
            applicant_ids = np.where(linked, first_applicant + index % applicants, -1)
            moments = np.sort(rng.integers(0, seconds, count))
            recommendation = recommendations[rng.choice(3, count, p=[0.5, 0.3, 0.2])]
            grade = grades[rng.integers(0, 5, count)]
            rows = [
                (
                    int(applicant_ids[i]) if applicant_ids[i] >= 0 else None, attributes, version.pk, 0.12, False,
                    0.1, 520, str(grade[i]), 5_000_000, str(recommendation[i]), "[]", "[]", "batch",
                    start + timedelta(seconds=int(moments[i]) + low), "",
                )
                for i in range(count)
            ]  # fmt: skip
            cursor.executemany(f"INSERT INTO {table} ({columns}) VALUES ({placeholders})", rows)  # noqa: S608
    analyst = get_user_model().objects.create_superuser("bench", password=None)
    review = list(Prediction.objects.filter(recommendation="review", applicant__isnull=True)[:1500])
    for prediction in review[:1000]:
        record_decision(prediction, user=analyst, outcome="decline")
    for prediction in review[1000:]:
        ReviewCase.objects.create(prediction=prediction, assignee=analyst, assigned_at=timezone.now())
    for prediction in Prediction.objects.filter(recommendation="approve", applicant__isnull=True)[:200]:
        ReviewCase.objects.create(prediction=prediction, sent_at=timezone.now(), sent_by=analyst)
    with connection.cursor() as cursor:  # the statistics autovacuum (or a DBA) keeps in production
        cursor.execute("ANALYZE")


def measure() -> dict:
    from django.core.paginator import Paginator

    from reviews import selectors
    from scoring import selectors as scoring_selectors

    def baseline():
        page = Paginator(scoring_selectors.predictions(), PAGE).get_page(1)
        list(page.object_list)

    def queue_page(number, **filters):
        def run():
            page = Paginator(selectors.queue(on=date(2026, 12, 31), **filters), PAGE).get_page(number)
            selectors.queue_entries(page.object_list, on=date(2026, 12, 31))

        return run

    queue_size = selectors.queue().count()
    results = {"queue size": queue_size, "baseline (predictions page 1)": _median_seconds(baseline)}
    results["queue page 1"] = _median_seconds(queue_page(1))
    results["queue last page"] = _median_seconds(queue_page((queue_size + PAGE - 1) // PAGE))
    results["queue grade C, overdue, page 1"] = _median_seconds(queue_page(1, grade="C", age="overdue"))
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100000,1000000")
    parser.add_argument("--database-url", default="")
    arguments = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        url = arguments.database_url or f"sqlite:///{folder}/bench.sqlite3"
        setup_django(folder, DATABASE_URL=url)
        for size in (int(value) for value in arguments.sizes.split(",")):
            setup_book(size)
            results = measure()
            baseline = results["baseline (predictions page 1)"]
            print(f"{size:,} predictions ({url.split(':')[0]}), {results.pop('queue size'):,} cases in the queue")
            for name, seconds in results.items():
                print(f"  {name:<34} {seconds * 1000:9.1f} ms   {seconds / baseline:6.2f} × baseline")
            sys.stdout.flush()


if __name__ == "__main__":
    main()
