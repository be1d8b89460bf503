"""Scoring a whole loan file: one output row per application, a report for the rows that cannot be scored.

:func:`score_loan_file` reads a loan file in the format of ``shared/docs/data-format.md`` (one row
per installment; only ``app_id`` and the nine applicant columns are needed, installment columns are
allowed and ignored), parses every cell with :mod:`applicants.parsing` and checks it with
:func:`applicants.validation.validate_applicant_attributes` (the same rules as the import), and
groups rows by ``app_id``. An application is scored when all its rows are valid and agree on the
nine attributes; otherwise each of its rows goes to the report with its line number and every
reason, and the other applications are still scored. Scores are made and stored (channel
``batch``) by :func:`scoring.services.score_applicants`, a chunk of applications at a time, and
written to the output CSV with every result field. A prediction is linked to the stored applicant
with the same ``app_id`` when its stored attributes are the same.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from django.db import transaction

from applicants.models import Applicant
from applicants.parsing import parse_count_series, parse_integer_series, parse_rupiah_series, parse_years_series
from applicants.validation import ATTRIBUTE_FIELDS, CATEGORY_FIELDS, validate_applicant_attributes

from .models import Prediction
from .services import score_valid_applicants

REQUIRED_COLUMNS = ("app_id", *ATTRIBUTE_FIELDS)
REPORT_COLUMNS = ["line", "app_id", "column", "value", "reason"]
OUTPUT_COLUMNS = [
    "app_id",
    "npl_probability",
    "is_npl",
    "threshold",
    "credit_score",
    "risk_grade",
    "expected_loss",
    "recommendation",
    "reason_1",
    "reason_2",
    "reason_3",
    "model_version_id",
    "model_version",
    "policy_id",
    "prediction_id",
]
CHUNK_APPLICATIONS = 1_000
PREVIEW_LINES = 10
_PARSERS = {
    "monthly_income": parse_rupiah_series,
    "otr": parse_rupiah_series,
    "dp": parse_rupiah_series,
    "num_of_dependent": parse_count_series,
    "lama_bekerja": parse_years_series,
    "tenor": parse_integer_series,
}


class ScoreFileError(Exception):
    """The file cannot be scored at all (missing, unreadable, lacking columns); nothing was stored."""


@dataclass
class BatchScoringSummary:
    rows_read: int = 0
    applications_scored: int = 0
    rejected_rows: int = 0
    rejected_applications: int = 0
    out_path: str = ""
    report_path: str | None = None
    model_version: str = ""
    report_preview: list[dict] = field(default_factory=list)


def score_loan_file(
    in_path,
    out_path,
    *,
    report_path=None,
    user=None,
    chunk_applications: int = CHUNK_APPLICATIONS,
    progress=None,
    chunk_stored=None,
) -> BatchScoringSummary:
    """Score every valid application of ``in_path`` into ``out_path``; see the module docstring.

    The report (CSV: line, app_id, column, value, reason — line 1 is the header) goes to
    ``report_path``, by default ``<out stem>-errors.csv`` beside the output when there are errors.
    Raises :class:`ScoreFileError` for an unusable file, and
    :class:`scoring.engine.ScoringUnavailableError` when there is no usable active model (then
    nothing is stored or written). ``progress(done, total)``, when given, is called after each chunk
    of applications is scored. Each chunk is committed on its own; ``chunk_stored(predictions)``,
    when given, is called inside a chunk's transaction with the predictions it stored.
    """
    in_path, out_path = Path(in_path), Path(out_path)
    rows = _read_rows(in_path)
    summary = BatchScoringSummary(rows_read=len(rows), out_path=str(out_path))
    parsed, report = _parse_and_check(rows)
    applications, report = _group_applications(parsed, report)

    results = []
    for start in range(0, len(applications), chunk_applications):
        chunk = applications.iloc[start : start + chunk_applications]
        attributes = chunk[list(ATTRIBUTE_FIELDS)].to_dict("records")
        for record in attributes:
            for name in ATTRIBUTE_FIELDS:
                if name not in CATEGORY_FIELDS:
                    record[name] = int(record[name])
        # One transaction per chunk: a long file never holds the database's write lock for long
        # (on SQLite other requests would wait for it), and each chunk is stored whole or not at all.
        with transaction.atomic():
            linked = _stored_applicants(chunk["app_id"].tolist(), attributes)
            # Every row was validated above (_parse_and_check), so they go straight to the engine.
            scored = score_valid_applicants(attributes, user=user, channel=Prediction.Channel.BATCH, applicants=linked)
            if chunk_stored is not None:
                chunk_stored([result.prediction for result in scored])
        results.extend(scored)
        if progress is not None:
            progress(len(results), len(applications))
    _write_output(out_path, applications["app_id"].tolist(), results)
    if results:
        summary.model_version = f"{results[0].version.name} #{results[0].version.id}"
    summary.applications_scored = len(results)

    report = report.sort_values(["line", "column"], kind="stable", ignore_index=True)
    summary.rejected_rows = int(report["line"].nunique())
    summary.rejected_applications = int(report["app_id"].replace("", np.nan).dropna().nunique())
    summary.report_preview = report.head(PREVIEW_LINES).to_dict("records")
    if len(report) or report_path is not None:
        report_path = (
            Path(report_path) if report_path is not None else out_path.with_name(f"{out_path.stem}-errors.csv")
        )
        report.to_csv(report_path, index=False, columns=REPORT_COLUMNS)
        summary.report_path = str(report_path)
    return summary


def _read_rows(path: Path) -> pd.DataFrame:
    if not path.is_file():
        raise ScoreFileError(f"{path}: no such file.")
    try:
        with open(path, newline="", encoding="utf-8-sig") as handle:
            header = next(csv.reader(handle), None)
    except UnicodeDecodeError:
        raise ScoreFileError(f"{path.name}: not a UTF-8 text file; export the loan file as CSV in UTF-8.") from None
    if not header:
        raise ScoreFileError(f"{path.name}: the file is empty; expected a header with {', '.join(REQUIRED_COLUMNS)}.")
    header = [name.strip() for name in header]
    missing = [name for name in REQUIRED_COLUMNS if name not in header]
    if missing:
        raise ScoreFileError(
            f"{path.name}: missing column(s) {', '.join(missing)}; the file needs {', '.join(REQUIRED_COLUMNS)} "
            "(installment columns may be present and are ignored)."
        )
    try:
        rows = pd.read_csv(
            path,
            usecols=lambda name: name.strip() in REQUIRED_COLUMNS,
            dtype=str,
            keep_default_na=False,
            encoding="utf-8-sig",
            skipinitialspace=False,
        )
    except (pd.errors.ParserError, ValueError) as exc:
        raise ScoreFileError(f"{path.name}: cannot be read as CSV ({exc}).") from None
    rows.columns = [name.strip() for name in rows.columns]
    if rows.empty:
        raise ScoreFileError(f"{path.name}: the file has a header but no rows.")
    rows.insert(0, "line", np.arange(2, len(rows) + 2))
    return rows


def _report_rows(line, app_id, column, value, reason) -> pd.DataFrame:
    return pd.DataFrame({"line": line, "app_id": app_id, "column": column, "value": value, "reason": reason})


def _parse_and_check(rows: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Parsed rows (``line``, ``app_id``, nine attributes, ``has_error``) and the report of row errors."""
    reports = []
    parsed = pd.DataFrame({"line": rows["line"]})
    app_ids, app_id_errors = parse_integer_series(rows["app_id"])
    parsed["app_id"] = app_ids
    raw_app_id = rows["app_id"].str.strip()
    bad = app_id_errors.notna() | app_ids.isna() | (app_ids.fillna(1) < 1)
    if bad.any():
        reasons = app_id_errors.where(app_id_errors.notna(), "app_id must be a positive whole number")
        reports.append(_report_rows(rows["line"][bad], raw_app_id[bad], "app_id", rows["app_id"][bad], reasons[bad]))
    has_error = bad.to_numpy().copy()
    for name in ATTRIBUTE_FIELDS:
        if name in CATEGORY_FIELDS:
            parsed[name] = rows[name].str.strip()
            continue
        values, errors = _PARSERS[name](rows[name])
        parsed[name] = values
        wrong = errors.notna()
        if wrong.any():
            reports.append(_report_rows(rows["line"][wrong], raw_app_id[wrong], name, rows[name][wrong], errors[wrong]))
            has_error |= wrong.to_numpy()

    # The attribute rules, once per distinct combination of values (an application repeats them on
    # every row). A value the parser could not read is None here; its error is already reported.
    combination = parsed.groupby(list(ATTRIBUTE_FIELDS), dropna=False, sort=False).ngroup().to_numpy()
    _, first_rows = np.unique(combination, return_index=True)
    rule_errors = []  # (combination, column, reason)
    distinct = parsed.iloc[first_rows]
    distinct_columns = [distinct[name].tolist() for name in ATTRIBUTE_FIELDS]
    for position, record in zip(first_rows, zip(*distinct_columns, strict=True), strict=True):
        values = {name: _python_value(value) for name, value in zip(ATTRIBUTE_FIELDS, record, strict=True)}
        for column, messages in validate_applicant_attributes(values).items():
            if values[column] is None and column not in CATEGORY_FIELDS:
                continue
            rule_errors.extend((combination[position], column, message) for message in messages)
    if rule_errors:
        failing = pd.DataFrame(rule_errors, columns=["combination", "column", "reason"])
        rows_with = pd.DataFrame({"position": np.arange(len(parsed)), "combination": combination})
        merged = rows_with.merge(failing, on="combination").sort_values(["position", "column"], kind="stable")
        positions = merged["position"].to_numpy()
        columns = merged["column"].to_numpy()
        raw_values = [rows[column].iat[position] for position, column in zip(positions, columns, strict=True)]
        reports.append(
            _report_rows(
                rows["line"].to_numpy()[positions],
                raw_app_id.to_numpy()[positions],
                columns,
                raw_values,
                merged["reason"].to_numpy(),
            )
        )
        has_error[positions] = True
    parsed["has_error"] = has_error
    report = pd.concat(reports, ignore_index=True) if reports else _report_rows([], [], [], [], [])
    return parsed, report


def _python_value(value):
    if value is None or value is pd.NA or (isinstance(value, float) and np.isnan(value)):
        return None
    return value.item() if hasattr(value, "item") else value


def _group_applications(parsed: pd.DataFrame, report: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """One row per scorable application, and the report extended with the rows of rejected applications."""
    grouped = parsed[parsed["app_id"].notna()].copy()
    grouped["app_id"] = grouped["app_id"].astype(np.int64)
    bad_apps = set(grouped.loc[grouped["has_error"], "app_id"])
    clean = grouped[~grouped["app_id"].isin(bad_apps)]
    distinct_counts = clean.groupby("app_id")[list(ATTRIBUTE_FIELDS)].nunique(dropna=False)
    disagreeing = distinct_counts[(distinct_counts > 1).any(axis=1)]
    extra = []
    if len(disagreeing):
        columns_by_app = {
            app_id: ", ".join(name for name in ATTRIBUTE_FIELDS if row[name] > 1)
            for app_id, row in disagreeing.iterrows()
        }
        rows = clean[clean["app_id"].isin(columns_by_app)]
        extra.append(
            _report_rows(
                rows["line"].to_numpy(),
                rows["app_id"].astype(str).to_numpy(),
                "",
                "",
                [f"application {a} rejected: its rows disagree on {columns_by_app[a]}" for a in rows["app_id"]],
            )
        )
    if bad_apps:
        first_bad_line = grouped[grouped["has_error"]].groupby("app_id")["line"].min()
        collateral = grouped[grouped["app_id"].isin(bad_apps) & ~grouped["has_error"]]
        if len(collateral):
            extra.append(
                _report_rows(
                    collateral["line"].to_numpy(),
                    collateral["app_id"].astype(str).to_numpy(),
                    "",
                    "",
                    [f"application {a} rejected: line {first_bad_line[a]} has errors" for a in collateral["app_id"]],
                )
            )
    if extra:
        report = pd.concat([report, *extra], ignore_index=True)
    report["line"] = report["line"].astype(np.int64)
    report["app_id"] = report["app_id"].astype(str)
    scorable = clean[~clean["app_id"].isin(disagreeing.index)]
    applications = scorable.drop_duplicates("app_id").sort_values("app_id", ignore_index=True)
    return applications[["app_id", *ATTRIBUTE_FIELDS]], report


def _stored_applicants(app_ids: list[int], attributes: list[dict]) -> list[Applicant | None]:
    stored = {a.app_id: a for a in Applicant.objects.filter(app_id__in=app_ids)}
    linked = []
    for app_id, values in zip(app_ids, attributes, strict=True):
        applicant = stored.get(app_id)
        same = applicant is not None and all(getattr(applicant, name) == values[name] for name in ATTRIBUTE_FIELDS)
        linked.append(applicant if same else None)
    return linked


def _write_output(out_path: Path, app_ids: list[int], results) -> None:
    records = []
    for app_id, result in zip(app_ids, results, strict=True):
        prediction = result.prediction
        texts = [reason["text"] for reason in prediction.reasons] + ["", "", ""]
        records.append(
            {
                "app_id": app_id,
                "npl_probability": round(prediction.npl_probability, 6),
                "is_npl": int(prediction.is_npl),
                "threshold": round(prediction.threshold, 6),
                "credit_score": prediction.credit_score,
                "risk_grade": prediction.risk_grade,
                "expected_loss": prediction.expected_loss,
                "recommendation": prediction.recommendation,
                "reason_1": texts[0],
                "reason_2": texts[1],
                "reason_3": texts[2],
                "model_version_id": result.version.id,
                "model_version": result.version.name,
                "policy_id": prediction.policy_id,
                "prediction_id": prediction.pk,
            }
        )
    pd.DataFrame.from_records(records, columns=OUTPUT_COLUMNS).to_csv(out_path, index=False)
