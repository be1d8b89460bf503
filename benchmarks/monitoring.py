"""Benchmark: one monitoring report over a period of 1,000,000 predictions, and its memory.

    .venv/bin/python benchmarks/monitoring.py                       # 100,000 and 1,000,000 predictions
    .venv/bin/python benchmarks/monitoring.py --sizes 20000,200000
    DATABASE_URL=postgres://…/<own db> .venv/bin/python benchmarks/monitoring.py --postgres   # 1M and 10M

With ``--postgres`` the database DATABASE_URL names is filled size by size by SQL (``INSERT … SELECT``
over ``generate_series`` from a pool of 100,000 generated applicants) and emptied afterwards unless
``--keep``; the rest is as below.

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
     every attribute, ratio and the score over all the predictions, and the back-test of all of them;
   - the same report again ("again s"), as every later report over those days runs: on PostgreSQL
     the first report counted each closed day once and stored the counts (``monitoring.daily_counts``),
     so the second adds them up (the back-test still reads every prediction: outcomes change).

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
    from scoring.policies import current_policy

    started = time.perf_counter()
    call_command("migrate", verbosity=0)
    version = _new_version_with_reference()

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
                    " reasons, user_id, channel, first_of_version, created_at)"
                    " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, true, %s)",
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


def child_measure(data_dir: str, version_id: int, postgres: bool = False, end: date = PERIOD_END) -> dict:
    setup_django(data_dir, DATABASE_URL=_postgres_url() if postgres else f"sqlite:///{data_dir}/bench.sqlite3")
    from django.db import connection
    from django.db.models import Count, FloatField, Sum
    from django.db.models.fields.json import KT
    from django.db.models.functions import Cast

    from monitoring.selectors import period_predictions
    from monitoring.services import write_monitoring_report
    from training.models import ModelVersion

    version = ModelVersion.objects.get(pk=version_id)
    rss_start = peak_rss_mb()

    started = time.perf_counter()
    period = period_predictions(version, PERIOD_START, end).order_by()
    if postgres:
        # The database reads every row once and one value out of its JSON, and sends back one row.
        read = period.aggregate(n=Count("id"), otr=Sum(Cast(KT("input_attributes__otr"), FloatField())))["n"]
    else:
        query, params = period.values_list("id", "npl_probability", "input_attributes").query.sql_with_params()
        read = 0
        with connection.cursor() as cursor:
            cursor.execute(query, params)
            while rows := cursor.fetchmany(50_000):
                read += len(rows)
    baseline = time.perf_counter() - started
    rss_baseline = peak_rss_mb()

    started = time.perf_counter()
    report = write_monitoring_report(version, PERIOD_START, end)
    seconds = time.perf_counter() - started
    # The same report again, as every later report over these (closed) days runs: on PostgreSQL from
    # the days' stored counts (monitoring.daily_counts); on SQLite the rows are read again.
    started = time.perf_counter()
    again = write_monitoring_report(version, PERIOD_START, end)
    seconds_again = time.perf_counter() - started
    assert again.figures["stability"] == report.figures["stability"], "the stored counts differ from the rows"
    return {
        "baseline_seconds": baseline,
        "baseline_rows": read,
        "seconds": seconds,
        "seconds_again": seconds_again,
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


# --------------------------------------------------------------------------------------------
# PostgreSQL: 1,000,000 and 10,000,000 predictions in the database DATABASE_URL names
# --------------------------------------------------------------------------------------------

LOADED_TABLES = ("applicants_applicant", "scoring_prediction")
POOL = 100_000  # distinct applicants drawn by the generator; the table repeats them


def _postgres_url() -> str:
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        sys.exit("--postgres needs DATABASE_URL naming a PostgreSQL database of its own (its tables are filled)")
    return url


def _new_version_with_reference():
    import pandas as pd

    from applicants.generator import generate_applicants, true_npl_probability
    from credit.stability import feature_columns, number_reference, reference_of
    from monitoring.services import store_reference_distribution
    from training.models import ModelVersion

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
    return version


def _fill_pool(cursor, version) -> None:
    """The generator's applicants, scored with their true probability, in an unlogged table the inserts read."""
    import io

    import numpy as np
    import pandas as pd

    from applicants.attributes import ATTRIBUTE_FIELDS
    from applicants.generator import generate_applicants, true_npl_probability
    from credit import scorecard
    from scoring.policies import current_policy

    rng = np.random.default_rng(2)
    applicants = pd.DataFrame(generate_applicants(POOL, seed=3))
    probability = true_npl_probability(applicants)
    outcome = rng.random(POOL) < probability
    parameters = current_policy().parameters
    score = scorecard.credit_score(probability, parameters)
    grade = scorecard.risk_grade(score, parameters)
    records = applicants[list(ATTRIBUTE_FIELDS)].to_dict("records")
    cursor.execute("DROP TABLE IF EXISTS bench_pool")
    cursor.execute(
        "CREATE UNLOGGED TABLE bench_pool (slot integer PRIMARY KEY, attributes jsonb, monthly_income bigint,"
        " housing_type text, num_of_dependent smallint, lama_bekerja smallint, otr bigint, status_pernikahan text,"
        " pekerjaan text, tenor smallint, dp bigint, probability float8, credit_score smallint, risk_grade text,"
        " outcome boolean)"
    )
    buffer = io.StringIO()
    for i, record in enumerate(records):
        values = [_plain(record[name]) for name in ATTRIBUTE_FIELDS]
        attributes = json.dumps(dict(zip(ATTRIBUTE_FIELDS, values, strict=True)))
        row = [i, attributes, *values, repr(float(probability[i])), int(score[i]), str(grade[i]), bool(outcome[i])]
        buffer.write("\t".join(str(value).replace("\\", "\\\\") for value in row) + "\n")
    buffer.seek(0)
    cursor.copy_expert("COPY bench_pool FROM STDIN", buffer)


def child_setup_postgres(size: int, data_dir: str) -> dict:
    """Grow the tables to ``size`` applicants with one prediction each (rows already there are kept)."""
    setup_django(data_dir, DATABASE_URL=_postgres_url())
    from django.core.management import call_command
    from django.db import connection

    from training.models import ModelVersion

    started = time.perf_counter()
    call_command("migrate", verbosity=0)
    version = ModelVersion.objects.filter(name="benchmark").first() or _new_version_with_reference()
    days = (PERIOD_END - PERIOD_START).days + 1
    with connection.cursor() as cursor:
        # The rows added below go into days already over: counts kept from a smaller size would be stale
        # (a real book never adds predictions to a past day). Every size's first report counts afresh.
        cursor.execute("TRUNCATE monitoring_stabilityday, monitoring_stabilitydaycount")
        cursor.execute("SELECT to_regclass('bench_pool') IS NOT NULL")
        if not cursor.fetchone()[0]:
            _fill_pool(cursor.cursor, version)
        cursor.execute("SELECT coalesce(max(id), 0) FROM applicants_applicant")
        have = cursor.fetchone()[0]
        # Loading is faster without maintaining the secondary indexes row by row and without the foreign
        # keys' triggers (the rows are consistent by construction): drop the indexes, make them again after.
        cursor.execute(
            "SELECT i.indexname, i.indexdef FROM pg_indexes i JOIN pg_class c ON c.relname = i.indexname"
            " JOIN pg_index x ON x.indexrelid = c.oid WHERE i.tablename IN %s AND NOT x.indisprimary"
            " AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = c.oid)",
            [LOADED_TABLES],
        )
        indexes = cursor.fetchall()
        for name, _ in indexes:
            cursor.execute(f'DROP INDEX "{name}"')
        cursor.execute("SET session_replication_role = replica")
        for low in range(have + 1, size + 1, 1_000_000):
            high = min(size, low + 999_999)
            cursor.execute(
                "INSERT INTO applicants_applicant (id, app_id, monthly_income, housing_type, num_of_dependent,"
                " lama_bekerja, otr, status_pernikahan, pekerjaan, tenor, dp, source, created_at, updated_at,"
                " max_dpd, kolektibilitas, is_npl, labelled_as_of)"
                " SELECT i, i, p.monthly_income, p.housing_type, p.num_of_dependent, p.lama_bekerja, p.otr,"
                " p.status_pernikahan, p.pekerjaan, p.tenor, p.dp, 'benchmark', now(), now(),"
                " CASE WHEN p.outcome THEN 200 ELSE 0 END, CASE WHEN p.outcome THEN 5 ELSE 1 END, p.outcome, %s"
                " FROM generate_series(%s::bigint, %s::bigint) AS i JOIN bench_pool p ON p.slot = i %% %s",
                [LABELLED_AS_OF, low, high, POOL],
            )
            # Scored on a day spread over the two years (a multiplicative hash of the id), at 10:00 local time.
            cursor.execute(
                "INSERT INTO scoring_prediction (id, applicant_id, input_attributes, model_version_id,"
                " npl_probability, is_npl, threshold, credit_score, risk_grade, expected_loss, recommendation,"
                " reasons, knockout_rule, outside_training, user_id, channel, first_of_version, created_at)"
                " SELECT i, i, p.attributes, %s, p.probability, p.probability >= %s, %s, p.credit_score,"
                " p.risk_grade, 0, 'review', '[]', '', '[]', NULL, 'batch', true,"
                " (%s::date + ((i * 2654435761) %% %s)::int + time '10:00') AT TIME ZONE %s"
                " FROM generate_series(%s::bigint, %s::bigint) AS i JOIN bench_pool p ON p.slot = i %% %s",
                [
                    version.pk,
                    version.threshold,
                    version.threshold,
                    PERIOD_START,
                    days,
                    settings_time_zone(),
                    low,
                    high,
                    POOL,
                ],
            )
        cursor.execute("SET session_replication_role = DEFAULT")
        for _, definition in indexes:
            cursor.execute(definition)
        for table in LOADED_TABLES:
            cursor.execute(
                "SELECT setval(pg_get_serial_sequence(%s, 'id'), (SELECT max(id) FROM " + table + "))",  # noqa: S608 (a constant)
                [table],
            )
            cursor.execute("VACUUM ANALYZE " + table)
    return {"seconds": time.perf_counter() - started, "version": version.pk}


def settings_time_zone() -> str:
    from django.conf import settings

    return settings.TIME_ZONE


def child_cleanup_postgres(data_dir: str) -> dict:
    setup_django(data_dir, DATABASE_URL=_postgres_url())
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS bench_pool")
        cursor.execute(
            "TRUNCATE scoring_prediction, applicants_applicant, monitoring_monitoringreport,"
            " monitoring_stabilityday, monitoring_stabilitydaycount CASCADE"
        )
    return {"cleaned": True}


def run_child(*arguments) -> dict:
    output = subprocess.run(
        [sys.executable, __file__, *map(str, arguments)], check=True, capture_output=True, text=True, cwd=ROOT
    )
    return json.loads(output.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--sizes", help="prediction counts, comma-separated (100000,1000000; 1000000,10000000 with --postgres)"
    )
    parser.add_argument(
        "--postgres", action="store_true", help="in the PostgreSQL database DATABASE_URL names, growing it size by size"
    )
    parser.add_argument("--keep", action="store_true", help="with --postgres: keep the rows afterwards")
    arguments = parser.parse_args()
    default_sizes = "1000000,10000000" if arguments.postgres else "100000,1000000"
    sizes = [int(size) for size in (arguments.sizes or default_sizes).split(",")]
    if arguments.postgres:
        _postgres_url()
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(
        f"{'predictions':>12} {'setup s':>8} {'baseline s':>10} {'monitor s':>10} {'per s':>10} "
        f"{'× baseline':>10} {'again s':>8} {'peak RSS MB':>12} {'back-tested':>12} {'status':>7}"
    )
    results = []
    with tempfile.TemporaryDirectory(prefix="npl-bench-monitoring-") as shared:
        for size in sorted(sizes):
            if arguments.postgres:
                setup = run_child("--child-setup-postgres", size, shared)
                measured = run_child("--child-measure", shared, setup["version"], "postgres")
            else:
                with tempfile.TemporaryDirectory(prefix="npl-bench-monitoring-") as folder:
                    setup = run_child("--child-setup", size, folder)
                    measured = run_child("--child-measure", folder, setup["version"])
            assert measured["predictions"] == size and measured["baseline_rows"] == size, measured
            results.append(measured)
            print(
                f"{size:>12,} {setup['seconds']:>8.1f} {measured['baseline_seconds']:>10.2f} "
                f"{measured['seconds']:>10.2f} {size / measured['seconds']:>10,.0f} "
                f"{measured['seconds'] / measured['baseline_seconds']:>10.2f} {measured['seconds_again']:>8.2f} "
                f"{measured['peak_rss_mb']:>12.0f} {measured['backtested']:>12,} {measured['status']:>7}",
                flush=True,
            )
        if arguments.postgres and not arguments.keep:
            run_child("--child-cleanup-postgres", shared)
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    for measured in results:
        print(
            f"  {measured['predictions']:,}: RSS at start {measured['rss_start_mb']:.0f} MB, after the baseline "
            f"{measured['rss_after_baseline_mb']:.0f} MB, peak {measured['peak_rss_mb']:.0f} MB; score PSI "
            f"{measured['score_psi']:.4f}, ROC AUC {measured['roc_auc']:.3f}; "
            f"alerts: {', '.join(measured['alerts']) or 'none'}"
        )
    largest = max(results, key=lambda result: result["predictions"])
    target = 10_000_000 if arguments.postgres else 1_000_000
    for label, key in (("the first report", "seconds"), ("a later report", "seconds_again")):
        verdict = "met" if largest["predictions"] >= target and largest[key] <= 60 else "not shown"
        print(
            f"target ≤ 60 s for {target:,} predictions, {label}: {verdict} "
            f"({largest[key]:.1f} s for {largest['predictions']:,})"
        )
    if arguments.postgres:
        print(
            "(PostgreSQL: the first report counts every closed day of the period once and stores the counts; "
            "a later one adds them up and counts only the days not closed yet — here none)"
        )


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--child-setup":
        print(json.dumps(child_setup(int(sys.argv[2]), sys.argv[3])))
    elif len(sys.argv) > 1 and sys.argv[1] == "--child-setup-postgres":
        print(json.dumps(child_setup_postgres(int(sys.argv[2]), sys.argv[3])))
    elif len(sys.argv) > 1 and sys.argv[1] == "--child-cleanup-postgres":
        print(json.dumps(child_cleanup_postgres(sys.argv[2])))
    elif len(sys.argv) > 1 and sys.argv[1] == "--child-measure":
        # [postgres [period end]]: a shorter period measures part of a table filled further
        end = date.fromisoformat(sys.argv[5]) if len(sys.argv) > 5 else PERIOD_END
        print(json.dumps(child_measure(sys.argv[2], int(sys.argv[3]), sys.argv[4:5] == ["postgres"], end)))
    else:
        main()
