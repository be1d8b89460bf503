"""Reads about applicants and their payment histories, including the training-set contract.

SQL: :func:`queryset_frame` runs the ORM's own SQL for a ``values_list`` queryset on the DB-API
cursor and builds a DataFrame from the rows, without model instances or per-value ORM conversion.
It serves the throughput targets of the import (≥ 50,000 installment rows/s, which compares every
partition with its stored rows) and of training on large books (``benchmarks/README.md``).
"""

from datetime import date

import numpy as np
import pandas as pd
from django.db import connection
from django.db.models import CharField, Count, DateField, Max, Min, OuterRef, QuerySet, Subquery
from django.db.models.functions import Cast, TruncMonth

from applicants.attributes import ATTRIBUTE_FIELDS, CATEGORY_FIELDS
from applicants.models import Applicant, Installment
from credit.labelling import KOLEKTIBILITAS_NAMES, NPL_MIN_KOLEKTIBILITAS, label_installments

# Applicants per query when reading histories: bounds memory to a few hundred thousand installments.
APPLICANTS_PER_READ = 20_000
HISTORY_COLUMNS = ["applicant_id", "due_date", "paid_date", "due_amount"]


def first_due_month(applicant_id: str) -> TruncMonth:
    """An annotation: the month of the first instalment due of the applicant whose id the outer query
    has at ``applicant_id`` (e.g. ``"prediction__applicant_id"``); NULL without stored instalments. With
    the month scored, :func:`credit.backtest.application_month` makes the application's vintage."""
    first_due = Installment.objects.filter(applicant_id=OuterRef(applicant_id)).order_by("due_date").values("due_date")
    return TruncMonth(Subquery(first_due[:1], output_field=DateField()))


def queryset_frame(queryset: QuerySet, columns: list[str]) -> pd.DataFrame:
    """Rows of a ``values_list`` queryset as a DataFrame named ``columns``, fetched in one go.

    Runs the ORM's SQL on the DB-API cursor: no model instances, no per-row ORM conversion, and no
    debug-mode SQL logging of large queries. Date columns come back as ``date`` objects or ISO
    strings depending on the database; pass them through :func:`to_datetime_column`.
    """
    sql, params = queryset.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.cursor.execute(sql, params)
        rows = cursor.cursor.fetchall()
    return (
        pd.DataFrame.from_records(rows, columns=columns, coerce_float=False)
        if rows
        else pd.DataFrame({column: pd.Series(dtype=object) for column in columns})
    )


def to_datetime_column(values: pd.Series) -> pd.Series:
    """A date column from the database (``date`` objects, ISO strings or ``None``) as datetime64."""
    return pd.to_datetime(values, format="ISO8601") if len(values) else pd.Series(dtype="datetime64[s]")


def dates_as_text(*fields: str) -> list:
    """Date columns as ISO text expressions for ``values_list``: read as strings and parsed in one
    vectorised step instead of one ``date`` object per value."""
    return [Cast(field, output_field=CharField()) for field in fields]


def latest_installment_date() -> date | None:
    """The latest due or paid date of any stored installment: the default "as of" date."""
    dates = Installment.objects.aggregate(latest_due=Max("due_date"), latest_paid=Max("paid_date"))
    present = [value for value in dates.values() if value is not None]
    return max(present) if present else None


def installment_history_frame(*, applicant_pks=None, applicant_pk_range: tuple[int, int] | None = None) -> pd.DataFrame:
    """Installments of the given applicants (primary keys, or ``lo <= pk < hi``), for labelling.

    Columns ``applicant_id``, ``due_date``, ``paid_date`` (datetime64, NaT when unpaid) and
    ``due_amount``: rename ``applicant_id`` to ``app_id`` (or map it) for
    :func:`credit.labelling.label_installments`. Reads by the (applicant, due_date) index.
    """
    queryset = Installment.objects.all()
    if applicant_pks is not None:
        queryset = queryset.filter(applicant_id__in=[int(pk) for pk in applicant_pks])
    if applicant_pk_range is not None:
        queryset = queryset.filter(applicant_id__gte=applicant_pk_range[0], applicant_id__lt=applicant_pk_range[1])
    frame = queryset_frame(
        queryset.order_by().values_list("applicant_id", *dates_as_text("due_date", "paid_date"), "due_amount"),
        HISTORY_COLUMNS,
    )
    frame["due_date"] = to_datetime_column(frame["due_date"])
    frame["paid_date"] = to_datetime_column(frame["paid_date"])
    frame["applicant_id"] = frame["applicant_id"].astype(np.int64)
    frame["due_amount"] = frame["due_amount"].astype(np.int64)
    return frame


def applicant_pk_ranges(step: int = APPLICANTS_PER_READ):
    """``(lo, hi)`` primary-key ranges covering every applicant, ``step`` keys at a time."""
    bounds = Applicant.objects.aggregate(lowest=Min("pk"), highest=Max("pk"))
    if bounds["lowest"] is None:
        return
    for lo in range(bounds["lowest"], bounds["highest"] + 1, step):
        yield lo, lo + step


TRAINING_COLUMNS = ["app_id", *ATTRIBUTE_FIELDS, "disbursement_date", "max_dpd", "kolektibilitas", "is_npl"]


def _empty_training_frame() -> pd.DataFrame:
    frame = pd.DataFrame({column: pd.Series(dtype=np.int64) for column in TRAINING_COLUMNS})
    for column in CATEGORY_FIELDS:
        frame[column] = frame[column].astype(object)
    frame["disbursement_date"] = frame["disbursement_date"].astype("datetime64[s]")
    frame["is_npl"] = frame["is_npl"].astype(bool)
    return frame


def labelled_applicants_frame(as_of: date | None = None) -> pd.DataFrame:
    """The training set: one row per applicant with a payment history, labelled fresh as of ``as_of``.

    Columns: ``app_id``, the nine attributes (named as the model fields; categories as strings,
    amounts and counts as int64), ``disbursement_date`` (earliest due date, datetime64),
    ``max_dpd``, ``kolektibilitas`` (int64) and ``is_npl`` (bool), computed by
    :func:`credit.labelling.label_installments` as of ``as_of`` (default: the latest date in the
    installments). Only applicants with at least one installment due on or before ``as_of``.
    Ordered by ``app_id``. Read ``APPLICANTS_PER_READ`` applicants at a time.
    """
    if as_of is None:
        as_of = latest_installment_date()
        if as_of is None:
            return _empty_training_frame()
    as_of_ts = pd.Timestamp(as_of)
    parts = []
    for pk_range in applicant_pk_ranges():
        history = installment_history_frame(applicant_pk_range=pk_range)
        if history.empty:
            continue
        first_due = history.groupby("applicant_id")["due_date"].min()
        eligible = first_due[first_due <= as_of_ts]
        if eligible.empty:
            continue
        history = history[history["applicant_id"].isin(eligible.index)]
        labels = label_installments(history.rename(columns={"applicant_id": "app_id"}), as_of)
        attributes = queryset_frame(
            Applicant.objects.filter(pk__gte=pk_range[0], pk__lt=pk_range[1])
            .order_by()
            .values_list("pk", "app_id", *ATTRIBUTE_FIELDS),
            ["pk", "app_id", *ATTRIBUTE_FIELDS],
        ).set_index("pk")
        part = attributes.join(eligible.rename("disbursement_date"), how="inner").join(
            labels.set_index("app_id"), how="inner"
        )
        parts.append(part.reset_index(drop=True))
    if not parts:
        return _empty_training_frame()
    frame = pd.concat(parts, ignore_index=True).sort_values("app_id", ignore_index=True)
    for column in ("app_id", *(f for f in ATTRIBUTE_FIELDS if f not in CATEGORY_FIELDS), "max_dpd", "kolektibilitas"):
        frame[column] = frame[column].astype(np.int64)
    for column in CATEGORY_FIELDS:
        frame[column] = frame[column].astype(object)
    frame["is_npl"] = frame["is_npl"].astype(bool)
    return frame[TRAINING_COLUMNS]


def kolektibilitas_distribution() -> list[dict]:
    """Stored labels: for kolektibilitas 1–5 and "not labelled", the number and share of applicants."""
    counts = dict(Applicant.objects.order_by().values_list("kolektibilitas").annotate(n=Count("pk")))
    total = sum(counts.values())
    rows = []
    for kol in (1, 2, 3, 4, 5, None):
        count = counts.get(kol, 0)
        rows.append(
            {
                "kolektibilitas": kol,
                "name": KOLEKTIBILITAS_NAMES.get(kol, "not labelled"),
                "count": count,
                "share": count / total if total else 0.0,
                "is_npl": kol is not None and kol >= NPL_MIN_KOLEKTIBILITAS,
            }
        )
    return rows
