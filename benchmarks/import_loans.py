"""Benchmark: ``import_loan_file`` on a generated loan book, against ``pandas.read_csv`` of the same file.

    .venv/bin/python benchmarks/import_loans.py                   # 200,000 applicants (~3.8M rows)
    .venv/bin/python benchmarks/import_loans.py --applicants 20000
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/npl_dev .venv/bin/python benchmarks/import_loans.py

Writes the book with ``applicants.generator.write_loan_book`` into a temporary folder, then runs
each measurement in a fresh child process, so every peak memory figure (``ru_maxrss``) belongs to
that step alone:

- baseline: ``pandas.read_csv(file, dtype=str)`` — the whole file as one DataFrame, nothing parsed;
- import into an empty SQLite database in the temporary folder (first import, then a re-import
  of the same file, which must change nothing);
- the same against PostgreSQL when ``DATABASE_URL`` points at one: a scratch database
  ``npl_bench_import`` is created on that server and dropped afterwards (your data is not touched).

Prints installment rows per second, peak memory, the ratio of the import's time to the baseline's,
and the machine's load average before and after (on a shared machine, other work slows every figure).
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

from benchmark_setup import PROJECT_DIR as ROOT  # noqa: E402 (a module beside this script)
from benchmark_setup import peak_rss_mb, setup_django  # noqa: E402

SCRATCH_PG_DATABASE = "npl_bench_import"
AS_OF = date(2024, 6, 30)


# --- child processes -----------------------------------------------------------------------------


def worker_generate(path: str, applicants: int, seed: int, data_dir: str) -> dict:
    setup_django(data_dir, DATABASE_URL=f"sqlite:///{data_dir}/unused.sqlite3")
    from applicants.generator import write_loan_book

    started = time.perf_counter()
    summary = write_loan_book(path, path + ".truth.csv", applicants, seed, AS_OF)
    return {"seconds": time.perf_counter() - started, "installments": summary.installments}


def worker_read_csv(path: str) -> dict:
    import pandas as pd

    before = peak_rss_mb()
    started = time.perf_counter()
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    seconds = time.perf_counter() - started
    return {"seconds": seconds, "rows": len(frame), "peak_rss_mb": peak_rss_mb(), "rss_before_mb": before}


def worker_import(path: str, database_url: str, data_dir: str) -> dict:
    setup_django(data_dir, DATABASE_URL=database_url)
    from django.core.management import call_command

    from applicants.models import Applicant, Installment
    from applicants.services import import_loan_file

    call_command("migrate", verbosity=0)
    before = peak_rss_mb()
    started = time.perf_counter()
    first = import_loan_file(path, progress=False)
    first_seconds = time.perf_counter() - started
    first_peak = peak_rss_mb()
    started = time.perf_counter()
    again = import_loan_file(path, progress=False)
    again_seconds = time.perf_counter() - started
    return {
        "rows": first.rows_read,
        "seconds": first_seconds,
        "reimport_seconds": again_seconds,
        "rss_before_mb": before,
        "peak_rss_mb": first_peak,
        "reimport_peak_rss_mb": peak_rss_mb(),
        "applications": first.applications_created,
        "installments": first.installments_created,
        "rejected_rows": first.rejected_rows,
        "npl": first.labelling.npl if first.labelling else None,
        "reimport_unchanged": again.installments_unchanged == first.installments_created
        and again.applications_unchanged == first.applications_created
        and again.installments_created == again.installments_updated == 0,
        "stored": [Applicant.objects.count(), Installment.objects.count()],
    }


def run_child(*args: str) -> dict:
    completed = subprocess.run(
        [sys.executable, __file__, "--worker", *args], capture_output=True, text=True, check=False, cwd=ROOT
    )
    if completed.returncode != 0:
        sys.stderr.write(completed.stderr)
        raise SystemExit(f"benchmark step {args[0]} failed")
    return json.loads(completed.stdout.strip().splitlines()[-1])


# --- PostgreSQL scratch database ------------------------------------------------------------------


def postgres_scratch_url(database_url: str, create: bool) -> str:
    import dj_database_url
    import psycopg2

    settings = dj_database_url.parse(database_url)
    connection = psycopg2.connect(
        dbname="postgres",
        user=settings["USER"] or None,
        password=settings["PASSWORD"] or None,
        host=settings["HOST"] or None,
        port=settings["PORT"] or None,
    )
    connection.autocommit = True
    with connection.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{SCRATCH_PG_DATABASE}"')
        if create:
            cursor.execute(f'CREATE DATABASE "{SCRATCH_PG_DATABASE}"')
    connection.close()
    return database_url.rsplit("/", 1)[0] + f"/{SCRATCH_PG_DATABASE}"


# --- main -------------------------------------------------------------------------------------------


def load_average() -> str:
    return ", ".join(f"{value:.2f}" for value in os.getloadavg())


def report_import(name: str, result: dict, baseline: dict) -> None:
    rate = result["rows"] / result["seconds"]
    print(
        f"{name:<34} {result['seconds']:8.1f} s  {rate:10,.0f} rows/s  peak RSS {result['peak_rss_mb']:7,.0f} MB "
        f"(+{result['peak_rss_mb'] - result['rss_before_mb']:,.0f} MB over the idle process)  "
        f"{result['seconds'] / baseline['seconds']:5.1f}x read_csv"
    )
    reimport_rate = result["rows"] / result["reimport_seconds"]
    print(
        f"{'  re-import (no changes)':<34} {result['reimport_seconds']:8.1f} s  {reimport_rate:10,.0f} rows/s  "
        f"peak RSS {result['reimport_peak_rss_mb']:7,.0f} MB  unchanged: {result['reimport_unchanged']}"
    )
    print(
        f"{'  stored':<34} {result['stored'][0]:,} applicants, {result['stored'][1]:,} installments, "
        f"{result['rejected_rows']} rejected rows, {result['npl']:,} NPL"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--applicants", type=int, default=200_000, help="applicants in the generated book")
    parser.add_argument("--seed", type=int, default=20240630)
    arguments = parser.parse_args()
    database_url = os.environ.get("DATABASE_URL", "")

    print(f"Load average (1, 5, 15 min) at start: {load_average()}")
    with tempfile.TemporaryDirectory(prefix="npl-bench-import-") as folder:
        book = str(Path(folder) / "loans.csv")
        generated = run_child("generate", book, str(arguments.applicants), str(arguments.seed), folder)
        size_mb = Path(book).stat().st_size / 1024**2
        print(
            f"Loan book: {arguments.applicants:,} applicants, {generated['installments']:,} installment rows, "
            f"{size_mb:,.0f} MB (generated in {generated['seconds']:.1f} s)"
        )
        baseline = run_child("read_csv", book)
        print(
            f"{'baseline: pandas.read_csv(dtype=str)':<34} {baseline['seconds']:8.1f} s  "
            f"{baseline['rows'] / baseline['seconds']:10,.0f} rows/s  peak RSS {baseline['peak_rss_mb']:7,.0f} MB "
            f"(+{baseline['peak_rss_mb'] - baseline['rss_before_mb']:,.0f} MB)"
        )
        sqlite = run_child("import", book, f"sqlite:///{folder}/bench.sqlite3", folder)
        report_import("import_loan_file, SQLite", sqlite, baseline)
        if database_url.startswith(("postgres://", "postgresql://")):
            scratch = postgres_scratch_url(database_url, create=True)
            try:
                postgres = run_child("import", book, scratch, folder)
                report_import("import_loan_file, PostgreSQL", postgres, baseline)
            finally:
                postgres_scratch_url(database_url, create=False)
    print(f"Load average (1, 5, 15 min) at end: {load_average()} on {os.cpu_count()} CPUs")


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--worker":
        step, *step_args = sys.argv[2:]
        if step == "generate":
            output = worker_generate(step_args[0], int(step_args[1]), int(step_args[2]), step_args[3])
        elif step == "read_csv":
            output = worker_read_csv(step_args[0])
        else:
            output = worker_import(*step_args)
        print(json.dumps(output))
    else:
        main()
