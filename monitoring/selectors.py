"""Reads for monitoring: a period's predictions chunk by chunk, the back-test groups counted by the
database, and the reports."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, time

import numpy as np
import pandas as pd
from django.db.models import Count, Exists, F, Max, Min, OuterRef, Q, Sum
from django.db.models.fields.json import KT
from django.utils import timezone

from applicants.attributes import ATTRIBUTE_FIELDS
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
    applicant's first prediction by this version only, counted by the database per vintage (the month
    scored, local time), labels' date, risk grade, credit score, predicted and realised label.

    One grouped query per vintage, on a range of the (version, scored at) index: the month is the
    range, not a function the database would call on every row.
    """
    earlier = Prediction.objects.filter(
        applicant_id=OuterRef("applicant_id"), model_version_id=version.pk, id__lt=OuterRef("id")
    )
    cohort = (
        predictions(model_version_id=version.pk, created_to=until)
        .filter(applicant__isnull=False)
        .filter(~Exists(earlier))
        .order_by()
    )
    span = cohort.aggregate(first=Min("created_at"), last=Max("created_at"))
    if span["first"] is None:
        return []
    groups = []
    month = timezone.localtime(span["first"]).date().replace(day=1)
    last_month = timezone.localtime(span["last"]).date().replace(day=1)
    while month <= last_month:
        following = add_months(month, 1)
        rows = (
            cohort.filter(created_at__gte=_start_of(month), created_at__lt=_start_of(following))
            .values(
                "risk_grade",
                "credit_score",
                labelled_as_of=F("applicant__labelled_as_of"),
                outcome_npl=F("applicant__is_npl"),
                predicted_npl=F("is_npl"),
            )
            .annotate(n=Count("id"), probability_sum=Sum("npl_probability"))
        )
        groups.extend({"vintage": month, **row} for row in rows)
        month = following
    return groups


def _start_of(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


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
