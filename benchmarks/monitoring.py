"""Benchmark: one monitoring report over a period of 1,000,000 predictions, and its memory.

    .venv/bin/python benchmarks/monitoring.py                       # 100,000 and 1,000,000 predictions
    .venv/bin/python benchmarks/monitoring.py --sizes 20000,200000

For each size, in a temporary folder with its own SQLite database:

1. **setup** (a child process, not timed as monitoring): that many applicants drawn as the generator
   draws them (``applicants.generator.generate_applicants``), labelled (NPL drawn from their true
   probability, labels as of 2025-12-31), each with one stored prediction of a model version whose
   probability is the true one, made on a day spread over 2023–2024 (24 application months, all past
   the 12-month outcome window), channel batch; and the version's reference distribution, binned
   from 20,000 other applicants drawn the same way.
2. **measure** (a fresh child process, so its peak memory is the measurement's alone):
   - baseline: one pass over the period's predictions reading what monitoring must read at least
     (id, probability and the stored JSON attributes), 50,000 rows per fetch, nothing computed;
   - ``monitoring.services.write_monitoring_report`` over the whole period: population stability of
     every attribute, ratio and the score over all the predictions, and the back-test of all of them.

Prints seconds, predictions per second, the ratio to the baseline and the peak RSS of the measuring
process, per size; memory independent of the count shows as the same peak at both sizes. The target
(issue 16): ≤ 60 s for 1,000,000 predictions.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from datetime import date, datetime, timedelta

from benchmark_setup import PROJECT_DIR as ROOT  # noqa: E402 (a module beside this script)
from benchmark_setup import peak_rss_mb, setup_django  # noqa: E402

PERIOD_START, PERIOD_END = date(2023, 1, 1), date(2024, 12, 31)
LABELLED_AS_OF = date(2025, 12, 31)
INSERT_ROWS = 50_000


def child_setup(size: int, data_dir: str) -> dict:
    setup_django(data_dir, DATABASE_URL=f"sqlite:///{data_dir}/bench.sqlite3")
    import numpy as np
    import pandas as pd
    from django.core.management import call_command
    from django.db import connection, transaction
    from django.utils import timezone

    from applicants.attributes import ATTRIBUTE_FIELDS
    from applicants.generator import generate_applicants, true_npl_probability
    from credit import scorecard
    from credit.stability import feature_columns, number_reference, reference_of
    from monitoring.services import store_reference_distribution
    from scoring.policies import current_policy
    from training.models import ModelVersion

    started = time.perf_counter()
    call_command("migrate", verbosity=0)
    version = ModelVersion.objects.create(
        name="benchmark",
        algorithm="true probability",
        balancing="none",
        threshold=0.10,
        artifact_path="none",
        artifact_sha256="0" * 64,
        artifact_size=0,
        is_active=True,
        status=ModelVersion.Status.ACTIVE,
    )
    development = pd.DataFrame(generate_applicants(20_000, seed=1))
    columns = feature_columns(development)
    store_reference_distribution(
        version,
        {
            "applicants": len(development),
            "attributes": {name: reference_of(values, values.dtype == object) for name, values in columns.items()},
            "score": number_reference(true_npl_probability(development)),
        },
        "training",
    )

    rng = np.random.default_rng(2)
    applicants = pd.DataFrame(generate_applicants(size, seed=3))
    probability = true_npl_probability(applicants)
    outcome = rng.random(size) < probability
    parameters = current_policy().parameters
    score = scorecard.credit_score(probability, parameters)
    grade = scorecard.risk_grade(score, parameters)
    days = (PERIOD_END - PERIOD_START).days + 1
    scored_at = [
        timezone.make_aware(datetime.combine(PERIOD_START + timedelta(days=int(day)), datetime.min.time()))
        + timedelta(hours=10)
        for day in rng.integers(0, days, size)
    ]
    now = timezone.now()
    records = applicants[list(ATTRIBUTE_FIELDS)].to_dict("records")
    with connection.cursor() as cursor:
        for low in range(0, size, INSERT_ROWS):
            high = min(size, low + INSERT_ROWS)
            with transaction.atomic():
                cursor.executemany(
                    "INSERT INTO applicants_applicant (id, app_id, monthly_income, housing_type, num_of_dependent,"
                    " lama_bekerja, otr, status_pernikahan, pekerjaan, tenor, dp, source, created_at, updated_at,"
                    " max_dpd, kolektibilitas, is_npl, labelled_as_of)"
                    " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
                    [
                        (
                            i + 1,
                            i + 1,
                            *[records[i][name] for name in ATTRIBUTE_FIELDS],
                            "benchmark",
                            now,
                            now,
                            200 if outcome[i] else 0,
                            5 if outcome[i] else 1,
                            bool(outcome[i]),
                            LABELLED_AS_OF,
                        )
                        for i in range(low, high)
                    ],
                )
                cursor.executemany(
                    "INSERT INTO scoring_prediction (applicant_id, input_attributes, model_version_id,"
                    " npl_probability, is_npl, threshold, credit_score, risk_grade, expected_loss, recommendation,"
                    " reasons, user_id, channel, created_at)"
                    " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
                    [
                        (
                            i + 1,
                            json.dumps({name: _plain(records[i][name]) for name in ATTRIBUTE_FIELDS}),
                            version.pk,
                            float(probability[i]),
                            bool(probability[i] >= version.threshold),
                            version.threshold,
                            int(score[i]),
                            str(grade[i]),
                            0,
                            "review",
                            "[]",
                            None,
                            "batch",
                            scored_at[i],
                        )
                        for i in range(low, high)
                    ],
                )
    call_command("migrate", verbosity=0)  # nothing to do; keeps the connection's state tidy
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return {"seconds": time.perf_counter() - started, "version": version.pk, "npl": int(outcome.sum())}


def _plain(value):
    return value.item() if hasattr(value, "item") else value


def child_measure(data_dir: str, version_id: int) -> dict:
    setup_django(data_dir, DATABASE_URL=f"sqlite:///{data_dir}/bench.sqlite3")
    from django.db import connection

    from monitoring.selectors import period_predictions
    from monitoring.services import write_monitoring_report
    from training.models import ModelVersion

    version = ModelVersion.objects.get(pk=version_id)
    rss_start = peak_rss_mb()

    started = time.perf_counter()
    query, params = (
        period_predictions(version, PERIOD_START, PERIOD_END)
        .order_by()
        .values_list("id", "npl_probability", "input_attributes")
        .query.sql_with_params()
    )
    read = 0
    with connection.cursor() as cursor:
        cursor.execute(query, params)
        while rows := cursor.fetchmany(50_000):
            read += len(rows)
    baseline = time.perf_counter() - started
    rss_baseline = peak_rss_mb()

    started = time.perf_counter()
    report = write_monitoring_report(version, PERIOD_START, PERIOD_END)
    seconds = time.perf_counter() - started
    return {
        "baseline_seconds": baseline,
        "baseline_rows": read,
        "seconds": seconds,
        "predictions": report.figures["stability"]["predictions"],
        "backtested": report.figures["backtest"]["overall"]["n"],
        "status": report.status,
        "alerts": sorted(
            {f"{alert['kind']}:{alert.get('feature') or alert.get('grade') or ''}" for alert in report.alerts}
        ),
        "score_psi": report.figures["stability"]["score"]["psi"],
        "roc_auc": report.figures["backtest"]["overall"]["roc_auc"],
        "rss_start_mb": rss_start,
        "rss_after_baseline_mb": rss_baseline,
        "peak_rss_mb": peak_rss_mb(),
    }


def run_child(*arguments) -> dict:
    output = subprocess.run(
        [sys.executable, __file__, *map(str, arguments)], check=True, capture_output=True, text=True, cwd=ROOT
    )
    return json.loads(output.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100000,1000000", help="prediction counts, comma-separated")
    arguments = parser.parse_args()
    sizes = [int(size) for size in arguments.sizes.split(",")]
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(
        f"{'predictions':>12} {'setup s':>8} {'baseline s':>10} {'monitor s':>10} {'per s':>10} "
        f"{'× baseline':>10} {'peak RSS MB':>12} {'back-tested':>12} {'status':>7}"
    )
    results = []
    for size in sizes:
        with tempfile.TemporaryDirectory(prefix="npl-bench-monitoring-") as folder:
            setup = run_child("--child-setup", size, folder)
            measured = run_child("--child-measure", folder, setup["version"])
        assert measured["predictions"] == size and measured["baseline_rows"] == size, measured
        results.append(measured)
        print(
            f"{size:>12,} {setup['seconds']:>8.1f} {measured['baseline_seconds']:>10.2f} {measured['seconds']:>10.2f} "
            f"{size / measured['seconds']:>10,.0f} {measured['seconds'] / measured['baseline_seconds']:>10.2f} "
            f"{measured['peak_rss_mb']:>12.0f} {measured['backtested']:>12,} {measured['status']:>7}"
        )
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    for measured in results:
        print(
            f"  {measured['predictions']:,}: RSS at start {measured['rss_start_mb']:.0f} MB, after the baseline "
            f"{measured['rss_after_baseline_mb']:.0f} MB, peak {measured['peak_rss_mb']:.0f} MB; score PSI "
            f"{measured['score_psi']:.4f}, ROC AUC {measured['roc_auc']:.3f}; "
            f"alerts: {', '.join(measured['alerts']) or 'none'}"
        )
    largest = max(results, key=lambda result: result["predictions"])
    verdict = "met" if largest["predictions"] >= 1_000_000 and largest["seconds"] <= 60 else "not shown"
    print(
        f"target ≤ 60 s for 1,000,000 predictions: {verdict} "
        f"({largest['seconds']:.1f} s for {largest['predictions']:,})"
    )


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--child-setup":
        print(json.dumps(child_setup(int(sys.argv[2]), sys.argv[3])))
    elif len(sys.argv) > 1 and sys.argv[1] == "--child-measure":
        print(json.dumps(child_measure(sys.argv[2], int(sys.argv[3]))))
    else:
        main()
