"""Scoring a whole loan file: one output row per application, a report for the rows that cannot be scored.

:func:`score_loan_file` reads the file with :func:`applicants.loan_file.read_loan_file` (the reader
``import_loans`` uses: same checks, same messages; only ``app_id`` and the nine applicant columns
are needed, other columns are ignored), which rejects the applications with a bad cell or with rows
that disagree. The accepted applications are scored and stored (channel ``batch``) by
:func:`scoring.services.score_valid_applicants` a chunk at a time, and written to the output CSV
with every result field, partition by partition (applications of a partition in ``app_id`` order).
A prediction is linked to the stored applicant with the same ``app_id`` when its stored attributes
are the same. The summary carries the figures the batch page shows: counts by recommendation and
grade, expected loss, the rate flagged NPL and the credit-score distribution.
"""

from __future__ import annotations

import contextlib
import os
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from django.db import transaction

from applicants.attributes import ATTRIBUTE_FIELDS, CATEGORY_FIELDS, example_attributes
from applicants.loan_file import read_loan_file
from applicants.models import Applicant
from nplsite.csv_export import write_csv
from scoring.models import Prediction
from scoring.reason_wording import prediction_rule_text, worded_reasons
from scoring.services import score_valid_applicants

OUTPUT_COLUMNS = [
    "app_id",
    "npl_probability",
    "is_npl",
    "threshold",
    "credit_score",
    "risk_grade",
    "expected_loss",
    "recommendation",
    "knockout_rule",
    "reason_1",
    "reason_2",
    "reason_3",
    "model_version_id",
    "model_version",
    "policy_id",
    "prediction_id",
]
# The output columns that hold fractions (written with a decimal point; the download for a
# spreadsheet set to Indonesian writes them with a decimal comma).
DECIMAL_COLUMNS = ("npl_probability", "threshold")
CHUNK_APPLICATIONS = 1_000


@dataclass
class BatchStatistics:
    """What the batch page summarises (plain numbers, JSON-serialisable with :meth:`as_dict`)."""

    by_recommendation: Counter = field(default_factory=Counter)
    by_grade: Counter = field(default_factory=Counter)
    flagged: int = 0
    expected_loss_total: int = 0
    scores: Counter = field(default_factory=Counter)  # credit score → applications

    def add(self, prediction: Prediction) -> None:
        self.by_recommendation[str(prediction.recommendation)] += 1
        self.by_grade[str(prediction.risk_grade)] += 1
        self.flagged += int(bool(prediction.is_npl))
        self.expected_loss_total += int(prediction.expected_loss)
        self.scores[int(prediction.credit_score)] += 1

    def merge(self, other: BatchStatistics) -> None:
        """Add the figures of ``other`` (another chunk's) to these."""
        self.by_recommendation.update(other.by_recommendation)
        self.by_grade.update(other.by_grade)
        self.flagged += other.flagged
        self.expected_loss_total += other.expected_loss_total
        self.scores.update(other.scores)

    @classmethod
    def from_dict(cls, figures: dict) -> BatchStatistics:
        """The figures :meth:`as_dict` gave (as stored with a chunk)."""
        return cls(
            by_recommendation=Counter(figures.get("by_recommendation", {})),
            by_grade=Counter(figures.get("by_grade", {})),
            flagged=figures.get("flagged", 0),
            expected_loss_total=figures.get("expected_loss_total", 0),
            scores=Counter({int(score): count for score, count in figures.get("scores", {}).items()}),
        )

    def as_dict(self) -> dict:
        return {
            "by_recommendation": dict(sorted(self.by_recommendation.items())),
            "by_grade": dict(sorted(self.by_grade.items())),
            "flagged": self.flagged,
            "expected_loss_total": self.expected_loss_total,
            "scores": {str(score): count for score, count in sorted(self.scores.items())},
        }


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
    statistics: BatchStatistics = field(default_factory=BatchStatistics)


def application_chunks(loan_file, chunk_applications: int = CHUNK_APPLICATIONS) -> Iterator[list[list]]:
    """The accepted applications of a loan file being read, ``chunk_applications`` at a time, in the
    order of the results file (partition by partition, ``app_id`` order within one).

    Each application is ``[line, app_id, the nine attributes in ATTRIBUTE_FIELDS order]`` — plain
    JSON values, the line of its first row in the file (which identifies it within the file) — and a
    chunk is a list of them with the number of file rows it stands for: ``(applications, rows)``."""
    for accepted in loan_file.partitions():
        applications = accepted.drop_duplicates("app_id")
        rows_per_application = accepted.groupby("app_id", sort=False).size()
        for start in range(0, len(applications), chunk_applications):
            chunk = applications.iloc[start : start + chunk_applications]
            values = [
                [str(value) for value in chunk[name]]
                if name in CATEGORY_FIELDS
                else [int(value) for value in chunk[name]]
                for name in ATTRIBUTE_FIELDS
            ]
            records = [
                [int(line), int(app_id), *attributes]
                for line, app_id, *attributes in zip(chunk["line"], chunk["app_id"], *values, strict=True)
            ]
            yield records, int(rows_per_application.loc[chunk["app_id"]].sum())


def score_loan_file(
    in_path,
    out_path,
    *,
    report_path=None,
    user=None,
    chunk_applications: int = CHUNK_APPLICATIONS,
    progress=None,
    file_name: str | None = None,
) -> BatchScoringSummary:
    """Score every valid application of ``in_path`` into ``out_path`` in one pass (``manage.py
    score_csv``; the web page's jobs are split into chunk tasks by ``scoring.batch_jobs``, each
    scored by :func:`score_applications` too).

    The report (CSV: line, app_id, column, value, reason — one line per bad cell, line 1 is the
    header) goes to ``report_path``, by default ``<out stem>-errors.csv`` beside the output when
    there are errors. Raises :class:`applicants.loan_file.LoanFileError` for an unusable file, and
    :class:`scoring.engine.ScoringUnavailableError` when there is no usable active model (then
    nothing is stored or written). ``file_name`` is how messages name the file (default its own
    name). ``progress(done, total)``, when given, is called after each chunk with the rows dealt
    with so far and the rows of the file. Each chunk is committed on its own (a long file never
    holds the database's write lock for long: on SQLite other requests would wait for it).
    """
    in_path, out_path = Path(in_path), Path(out_path)
    summary = BatchScoringSummary(out_path=str(out_path))
    with read_loan_file(in_path, installments=False, name=file_name) as loan_file:
        summary.rows_read = loan_file.rows_read
        done_rows = loan_file.error_rows
        partial = out_path.with_name(f".{out_path.name}.partial")
        try:
            with partial.open("w", newline="", encoding="utf-8") as output:
                write_csv(output, [], OUTPUT_COLUMNS)
                for records, rows in application_chunks(loan_file, chunk_applications):
                    with transaction.atomic():
                        scored = score_applications(records, user=user)
                    write_csv(output, scored.rows)
                    summary.statistics.merge(scored.statistics)
                    summary.applications_scored += len(scored.rows)
                    summary.model_version = summary.model_version or scored.model_version
                    done_rows += rows
                    if progress is not None:
                        progress(done_rows, summary.rows_read)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                partial.unlink()
            raise
        os.replace(partial, out_path)  # the output appears whole, once everything is stored
        summary.rejected_rows = loan_file.rejected_rows
        summary.rejected_applications = loan_file.rejected_applications
        if loan_file.rejected_rows or report_path is not None:
            report_path = (
                Path(report_path) if report_path is not None else out_path.with_name(f"{out_path.stem}-errors.csv")
            )
            summary.report_path = str(report_path)
        loan_file.write_report(Path(summary.report_path) if summary.report_path else None)
        summary.report_preview = loan_file.report_preview
    return summary


@dataclass
class ScoredApplications:
    """What :func:`score_applications` gives: the results file's rows, their figures, the model's name."""

    rows: list[list]
    statistics: BatchStatistics
    model_version: str
    predictions: list[Prediction]


def score_applications(records: list[list], *, user=None, batch_job=None) -> ScoredApplications:
    """Score and store checked applications (``[line, app_id, nine attributes]``, as
    :func:`application_chunks` gives them) and word their results rows in the active language.

    With ``batch_job``, each prediction is stored with its job and file line
    (``prediction_once_per_batch_row``: the database refuses a second one). Call it in a transaction."""
    app_ids = [record[1] for record in records]
    attributes = [dict(zip(ATTRIBUTE_FIELDS, record[2:], strict=True)) for record in records]
    linked = _stored_applicants(app_ids, attributes)
    # Every row was parsed and validated by the reader, so they go straight to the engine.
    results = score_valid_applicants(
        attributes,
        user=user,
        channel=Prediction.Channel.BATCH,
        applicants=linked,
        batch_job=batch_job,
        batch_rows=[record[0] for record in records] if batch_job is not None else None,
    )
    statistics, rows = BatchStatistics(), []
    for app_id, result in zip(app_ids, results, strict=True):
        prediction = result.prediction
        statistics.add(prediction)
        texts = [reason["text"] for reason in worded_reasons(prediction.reasons, prediction.input_attributes)]
        texts += ["", "", ""]
        rows.append(
            [
                app_id,
                round(prediction.npl_probability, 6),
                int(prediction.is_npl),
                round(prediction.threshold, 6),
                prediction.credit_score,
                prediction.risk_grade,
                prediction.expected_loss,
                prediction.recommendation,
                prediction_rule_text(prediction),
                *texts[:3],
                result.version.id,
                result.version.name,
                prediction.policy_id,
                prediction.pk,
            ]
        )
    model_version = f"{results[0].version.name} #{results[0].version.id}" if results else ""
    return ScoredApplications(rows, statistics, model_version, [result.prediction for result in results])


def _stored_applicants(app_ids: list[int], attributes: list[dict]) -> list[Applicant | None]:
    stored = {a.app_id: a for a in Applicant.objects.filter(app_id__in=app_ids)}
    linked = []
    for app_id, values in zip(app_ids, attributes, strict=True):
        applicant = stored.get(app_id)
        same = applicant is not None and all(getattr(applicant, name) == values[name] for name in ATTRIBUTE_FIELDS)
        linked.append(applicant if same else None)
    return linked


def template_rows() -> tuple[list[str], list[list]]:
    """The header and one example row of a file to score (the batch page's downloadable template)."""
    example = example_attributes()
    return ["app_id", *ATTRIBUTE_FIELDS], [[1001, *(example[name] for name in ATTRIBUTE_FIELDS)]]
