"""Reads for monitoring: a period's predictions chunk by chunk (SQLite) or counted into their
stability bins by the database (PostgreSQL), the back-test groups counted by the database, and the reports."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from datetime import date, datetime

import numpy as np
import pandas as pd
from django.db import connection, transaction
from django.db.models import Count, DateField, F, Max, Min, Sum
from django.db.models.fields.json import KT
from django.db.models.functions import TruncDate, TruncMonth

from applicants.attributes import ATTRIBUTE_FIELDS, CATEGORY_FIELDS
from applicants.selectors import first_due_month
from credit import encoder, stability
from credit.backtest import application_month
from monitoring.models import MonitoringReport
from scoring.selectors import predictions
from training.models import ModelVersion

CHUNK_PREDICTIONS = 20_000


def period_predictions(version: ModelVersion, start: date, end: date, channel: str | None = None):
    """The version's predictions made from ``start`` to ``end`` (whole days, local time), of one channel or all."""
    return predictions(model_version_id=version.pk, created_from=start, created_to=end, channel=channel or None)


def period_applications(version: ModelVersion, start: date, end: date, channel: str | None = None):
    """:func:`period_predictions` counting each application once, when it was first scored by the
    version: a later prediction of a stored applicant (a re-score after a policy change, "score now"
    again) is not a new applicant entering the period, so it is left out, as the back-test does.
    Predictions of applications not stored (no ``applicant``) each count. Scoring marks the first
    prediction when it stores it (``Prediction.first_of_version``, scoring.services.store_predictions)."""
    return period_predictions(version, start, end, channel).filter(first_of_version=True)


def period_chunks(
    version: ModelVersion, start: date, end: date, channel: str | None = None, chunk_size: int = CHUNK_PREDICTIONS
) -> Iterator[tuple[pd.DataFrame, np.ndarray]]:
    """The period's applications (:func:`period_applications`), at most ``chunk_size`` at a time: (the
    nine attributes as scored, the NPL probabilities). Chunks are ranges of ids (a primary-key range
    scan each, whatever the period's size), and the database extracts the attributes from the stored
    JSON."""
    extract = {f"attribute_{name}": KT(f"input_attributes__{name}") for name in ATTRIBUTE_FIELDS}
    base = period_applications(version, start, end, channel).order_by()
    bounds = base.aggregate(first=Min("id"), last=Max("id"))
    if bounds["first"] is None:
        return
    for low in range(bounds["first"], bounds["last"] + 1, chunk_size):
        rows = list(
            base.filter(id__gte=low, id__lt=low + chunk_size)
            .annotate(**extract)
            .values_list("npl_probability", *extract)
        )
        if not rows:
            continue
        columns = list(zip(*rows, strict=True))
        attributes = pd.DataFrame({name: columns[1 + index] for index, name in enumerate(ATTRIBUTE_FIELDS)})
        yield attributes, np.asarray(columns[0], dtype=np.float64)


# PostgreSQL settings for the few large monitoring queries, in their transaction only: the back-test's
# hash joins and aggregates spill to disk in the default 4 MB; JIT compiling takes seconds and gains
# nothing on a scan that is mostly JSON extraction.
LARGE_QUERY_SETTINGS = {"work_mem": "256MB", "jit": "off"}


@contextmanager
def large_query():
    """A transaction whose queries run with :data:`LARGE_QUERY_SETTINGS` (PostgreSQL's ``SET LOCAL``)."""
    with transaction.atomic(), connection.cursor() as cursor:
        for name, value in LARGE_QUERY_SETTINGS.items():
            cursor.execute("SELECT set_config(%s, %s, true)", [name, value])
        yield


def counts_in_database() -> bool:
    """Whether the database counts a period into its stability bins itself (PostgreSQL); otherwise
    (SQLite) the period is read chunk by chunk (:func:`period_chunks`) and counted in Python."""
    return connection.vendor == "postgresql"


# The derived ratios as SQL over the extracted attributes (``income``, ``otr``, ``dp``, ``tenor``:
# double precision, NULL when missing), operation for operation as credit.encoder.write_derived_features
# computes them in float64 (NULL where it gives NaN): the same IEEE operations in the same order give
# the same numbers, which tests/monitoring/test_stability_in_database.py checks against the Python path.
_CLAMPED = {  # max(x, 0) that keeps NULL (GREATEST would turn a NULL into 0)
    name: f"CASE WHEN a.{name} < 0 THEN 0.0 ELSE a.{name} END" for name in ("monthly_income", "otr", "dp")
}
_FINANCED = (
    f"CASE WHEN ({_CLAMPED['otr']}) - ({_CLAMPED['dp']}) < 0 THEN 0.0 ELSE ({_CLAMPED['otr']}) - ({_CLAMPED['dp']}) END"
)
_INSTALLMENT = f"(({_FINANCED}) / (CASE WHEN a.tenor > 0 THEN a.tenor END))"
_INCOME = _CLAMPED["monthly_income"]


def _capped_ratio(amount: str, cap: float) -> str:
    ratio = f"({amount}) / ({_INCOME})"
    return (
        f"CASE WHEN ({_INCOME}) > 0 THEN (CASE WHEN {ratio} > {cap!r} THEN {cap!r} ELSE {ratio} END)"
        f" WHEN ({_INCOME}) = 0 AND ({amount}) > 0 THEN {cap!r} END"
    )


_RATIO_SQL = {
    "dp_ratio": (
        f"CASE WHEN ({_CLAMPED['otr']}) > 0 THEN (CASE WHEN ({_CLAMPED['dp']}) / ({_CLAMPED['otr']}) > 1.0 THEN 1.0"
        f" ELSE ({_CLAMPED['dp']}) / ({_CLAMPED['otr']}) END) END"
    ),
    "installment_to_income": _capped_ratio(_INSTALLMENT, encoder.MAX_INSTALLMENT_TO_INCOME),
    "loan_to_income": _capped_ratio(_FINANCED, encoder.MAX_LOAN_TO_INCOME),
}

# Each feature's value as SQL over the period's rows (``p``) and their extracted attributes (``a``).
_VALUE_SQL = {
    stability.SCORE: "p.score",
    **{name: f"coalesce(a.{name}, '')" if name in CATEGORY_FIELDS else f"a.{name}" for name in ATTRIBUTE_FIELDS},
    **_RATIO_SQL,
}


def period_stability_counts(
    version: ModelVersion,
    start: date,
    end: date,
    channel: str | None,
    references: dict[str, dict],
    counts: dict[str, dict] | None = None,
) -> tuple[int, dict[str, dict]]:
    """(applications, counts per feature) of the period's applications (:func:`period_applications`),
    counted by PostgreSQL into the bins of ``references`` (feature name → reference distribution, the
    score's under :data:`credit.stability.SCORE`): for each feature ``{"counts": [per bin], "missing",
    "outside", "sum"}``, as :meth:`credit.stability.StabilityCounter.add_counts` takes them.

    One pass over the rows, which never leave the database: ``jsonb_to_record`` extracts the
    attributes from the stored JSON once per row, each feature's bin is computed from the bounds
    :func:`credit.stability.number_bin_bounds` gives (``width_bucket`` on the negated bounds: the
    number of bounds below the value, the value computed once) or the categories, and the rows are
    grouped by (feature, bin) — a few hundred groups whatever the count, counted in parallel workers.
    With ``counts`` (:func:`empty_bin_counts`' form), the period's are added to them.
    """
    rows = _count_into_bins(period_applications(version, start, end, channel), references, by_day=False)
    return add_bin_counts(counts if counts is not None else empty_bin_counts(references), rows)


def daily_stability_counts(version: ModelVersion, first: date, last: date, references: dict[str, dict]) -> list[tuple]:
    """:func:`period_stability_counts` from ``first`` to ``last``, per day (local time) and channel:
    rows ``(day, channel, feature, bin, count, outside, sum)``, bin -1 for a missing value."""
    rows = _count_into_bins(period_applications(version, first, last), references, by_day=True)
    return [(_as_date(day), channel, *rest) for day, channel, *rest in rows]


def empty_bin_counts(references: dict[str, dict]) -> dict[str, dict]:
    """The counts of no application, per feature of ``references`` that the database can bin."""
    return {
        name: {
            "counts": [0] * (len(reference.get("edges", reference.get("categories", []))) + 1),
            "missing": 0,
            "outside": 0,
            "sum": 0.0,
        }
        for name, reference in references.items()
        if name in _VALUE_SQL
    }


def add_bin_counts(counts: dict[str, dict], rows) -> tuple[int, dict[str, dict]]:
    """(applications, ``counts``) with ``rows`` of ``(feature, bin, count, outside, sum)`` added."""
    applications = 0
    for name, bin_, n, outside, value_sum in rows:
        entry = counts[name]
        if name == stability.SCORE:
            applications += n
        if bin_ < 0:
            entry["missing"] += n
            continue
        entry["counts"][bin_] += n
        entry["outside"] += outside
        entry["sum"] += value_sum or 0.0
    return applications, counts


def _count_into_bins(applications, references: dict[str, dict], *, by_day: bool) -> list[tuple]:
    """Rows ``([day, channel,] feature name, bin, count, outside, sum)`` of ``applications`` (a query of
    predictions) counted by PostgreSQL into the bins of ``references`` (see :func:`period_stability_counts`)."""
    columns = ["npl_probability", "input_attributes"] + (["day", "channel"] if by_day else [])
    inner = applications.order_by()
    if by_day:
        inner = inner.annotate(day=TruncDate("created_at"))
    inner_sql, inner_params = inner.values_list(*columns).query.sql_with_params()
    record = ", ".join(f"{name} {'text' if name in CATEGORY_FIELDS else 'float8'}" for name in ATTRIBUTE_FIELDS)
    value_sql = _VALUE_SQL
    features = [name for name in references if name in value_sql]
    bins, bin_params, outsides, outside_params, sums = [], [], [], [], []
    for name in features:
        reference, value = references[name], f"({value_sql[name]})"
        if reference["kind"] == "number":
            # Finite values only: NULL is missing, and so is NaN (PostgreSQL sorts it above every number).
            known = f"{value} BETWEEN '-Infinity'::float8 AND 'Infinity'::float8"
            if name != stability.SCORE:
                known = f"{value} IS NOT NULL"  # from JSON or the guarded ratios: never NaN or infinite
            bounds = stability.number_bin_bounds(reference)
            bins.append(f"CASE WHEN {known} THEN %s - width_bucket(-{value}, %s::float8[]) ELSE -1 END")
            bin_params += [len(bounds), [-bound for _, bound in reversed(bounds)]]
            if reference["minimum"] is None:
                outsides.append("false")
            else:
                outsides.append(f"({value} < %s OR {value} > %s)")
                outside_params += [float(reference["minimum"]), float(reference["maximum"])]
            sums.append(f"CASE WHEN {known} THEN {value} END")
        else:
            categories = stability.category_bins(reference)
            whens = " ".join(f"WHEN %s THEN {bin_}" for bin_ in range(len(categories)))
            bins.append(f"CASE {value} {whens} ELSE {len(categories)} END")
            bin_params += categories
            outsides.append("false")
            sums.append("NULL::float8")
    # One row per (prediction, feature) by unnest over arrays (a LATERAL VALUES list would prepare its
    # expressions again for every prediction: a hundred times slower). Built from the ORM's own query
    # and this module's fragments; every value is a parameter.
    unpivot = (
        f"unnest(ARRAY[{', '.join(str(index) for index in range(len(features)))}], ARRAY[{', '.join(bins)}],"
        f" ARRAY[{', '.join(outsides)}], ARRAY[{', '.join(sums)}]::float8[])"
    )
    keys = "p.day, p.channel, " if by_day else ""
    sql = (
        f"SELECT {keys}f.feature, f.bin, count(*), count(*) FILTER (WHERE f.outside), sum(f.value)"  # noqa: S608
        f" FROM ({inner_sql}) AS p ({', '.join(['score', 'attributes'] + columns[2:])})"
        f" CROSS JOIN LATERAL jsonb_to_record(p.attributes) AS a ({record})"
        f" CROSS JOIN LATERAL {unpivot} AS f (feature, bin, outside, value)"
        f" GROUP BY {keys}f.feature, f.bin"
    )
    with large_query(), connection.cursor() as cursor:
        cursor.execute(sql, [*inner_params, *bin_params, *outside_params])
        rows = cursor.fetchall()
    named = 2 if by_day else 0  # day, channel
    return [(*row[:named], features[row[named]], *row[named + 1 :]) for row in rows]


def backtest_groups(version: ModelVersion, until: date) -> list[dict]:
    """The version's predictions made up to ``until`` for applicants with a stored application, each
    applicant's first prediction by this version only, counted by the database per vintage, labels'
    date, risk grade, credit score, predicted and realised label.

    **Vintage** is the month the loan was applied for, not the month it was scored
    (:func:`credit.backtest.application_month`: the month before its first instalment falls due, or,
    without instalments, the month of its first prediction by this version, local time). So a book
    scored in one afternoon, or re-scored after a policy change, keeps the vintages its loans had,
    and the outcome window counts their real months on book.

    One grouped query (on PostgreSQL with :func:`large_query`'s settings).
    """
    rows = (
        predictions(model_version_id=version.pk, created_to=until)
        .filter(applicant__isnull=False, first_of_version=True)
        .order_by()
        .annotate(
            first_due_month=first_due_month("applicant_id"),
            scored_month=TruncMonth("created_at", output_field=DateField()),
        )
        .values(
            "first_due_month",
            "scored_month",
            "risk_grade",
            "credit_score",
            labelled_as_of=F("applicant__labelled_as_of"),
            outcome_npl=F("applicant__is_npl"),
            predicted_npl=F("is_npl"),
        )
        .annotate(n=Count("id"), probability_sum=Sum("npl_probability"))
    )
    with large_query() if counts_in_database() else nullcontext():
        rows = list(rows)
    groups = []
    for row in rows:
        first_due, scored = _as_date(row.pop("first_due_month")), _as_date(row.pop("scored_month"))
        groups.append({**row, "vintage": application_month(first_due, scored)})
    return groups  # several groups may share a vintage: the back-test adds them up


def _as_date(value) -> date | None:
    return value.date() if isinstance(value, datetime) else value


def reports_of(version: ModelVersion):
    return MonitoringReport.objects.filter(model_version=version).order_by("-period_end", "-updated_at", "-id")


def latest_report(version: ModelVersion | None) -> MonitoringReport | None:
    if version is None:
        return None
    return reports_of(version).filter(channel="").first()


def active_version_monitoring() -> dict | None:
    """The active version and its latest all-channel report (``None`` when no version is active)."""
    version = ModelVersion.objects.filter(is_active=True).first()
    if version is None:
        return None
    return {"version": version, "report": latest_report(version)}
