"""Reads for monitoring: a period's predictions chunk by chunk, the back-test groups counted by the
database, and the reports."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime

import numpy as np
import pandas as pd
from django.db.models import Count, DateField, Exists, F, Max, Min, OuterRef, Q, Subquery, Sum
from django.db.models.fields.json import KT
from django.db.models.functions import TruncMonth

from applicants.attributes import ATTRIBUTE_FIELDS
from applicants.models import Installment
from credit.backtest import add_months
from monitoring.models import MonitoringReport
from scoring.models import Prediction
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
    Predictions of applications not stored (no ``applicant``) each count."""
    earlier = Prediction.objects.filter(model_version_id=version.pk, applicant_id=OuterRef("applicant_id")).filter(
        Q(created_at__lt=OuterRef("created_at")) | Q(created_at=OuterRef("created_at"), id__lt=OuterRef("id"))
    )
    return period_predictions(version, start, end, channel).exclude(Q(applicant__isnull=False) & Exists(earlier))


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


def backtest_groups(version: ModelVersion, until: date) -> list[dict]:
    """The version's predictions made up to ``until`` for applicants with a stored application, each
    applicant's first prediction by this version only, counted by the database per vintage, labels'
    date, risk grade, credit score, predicted and realised label.

    **Vintage** is the month the loan was applied for, not the month it was scored: for an applicant
    whose instalments are stored, the month before its first instalment falls due (the loan file has
    no application date of its own; the first instalment is due a month after the application, as in
    the generated books); for one without instalments (a new application, scored as it arrives), the
    month of its first prediction by this version (local time). So a book
    scored in one afternoon, or re-scored after a policy change, keeps the vintages its loans had,
    and the outcome window counts their real months on book.
    """
    earlier = Prediction.objects.filter(
        applicant_id=OuterRef("applicant_id"), model_version_id=version.pk, id__lt=OuterRef("id")
    )
    first_due = (
        Installment.objects.filter(applicant_id=OuterRef("applicant_id")).order_by("due_date").values("due_date")[:1]
    )
    rows = (
        predictions(model_version_id=version.pk, created_to=until)
        .filter(applicant__isnull=False)
        .filter(~Exists(earlier))
        .order_by()
        .annotate(
            first_due_month=TruncMonth(Subquery(first_due, output_field=DateField())),
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
    groups = []
    for row in rows:
        first_due, scored = _as_date(row.pop("first_due_month")), _as_date(row.pop("scored_month"))
        groups.append({**row, "vintage": add_months(first_due, -1) if first_due is not None else scored})
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
