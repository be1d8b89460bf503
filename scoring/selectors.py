"""Reads for scoring pages and the API: predictions, an applicant's payment summary, model versions."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from django.db.models import Count, Max, Min, Q, QuerySet, Sum
from django.utils import timezone

from applicants.models import Applicant, Installment
from credit.labelling import KOLEKTIBILITAS_NAMES
from scoring.models import Prediction
from training.models import ModelVersion

HEADLINE_METRICS = ("precision", "recall", "f1", "roc_auc", "pr_auc", "brier")


def predictions(
    *,
    app_id: int | None = None,
    model_version_id: int | None = None,
    created_from: date | datetime | None = None,
    created_to: date | datetime | None = None,
    is_npl: bool | None = None,
    channel: str | None = None,
) -> QuerySet[Prediction]:
    """Predictions, newest first, filtered by whichever arguments are given.

    A ``date`` bound covers that whole day (in the current time zone): ``created_to=2025-01-31``
    includes predictions made on the 31st.
    """
    queryset = Prediction.objects.select_related("applicant", "model_version", "user")
    if app_id is not None:
        queryset = queryset.filter(applicant__app_id=app_id)
    if model_version_id is not None:
        queryset = queryset.filter(model_version_id=model_version_id)
    if created_from is not None:
        queryset = _from(queryset, created_from)
    if created_to is not None:
        queryset = _to(queryset, created_to)
    if is_npl is not None:
        queryset = queryset.filter(is_npl=is_npl)
    if channel is not None:
        queryset = queryset.filter(channel=channel)
    return queryset.order_by("-created_at", "-id")


def _start_of_day(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def _from(queryset, bound):
    # Comparisons on the bare column, so the created_at indexes serve them.
    if isinstance(bound, datetime):
        return queryset.filter(created_at__gte=bound)
    return queryset.filter(created_at__gte=_start_of_day(bound))


def _to(queryset, bound):
    if isinstance(bound, datetime):
        return queryset.filter(created_at__lte=bound)
    return queryset.filter(created_at__lt=_start_of_day(bound + timedelta(days=1)))


def latest_prediction(applicant: Applicant) -> Prediction | None:
    return (
        Prediction.objects.filter(applicant=applicant)
        .select_related("model_version", "user")
        .order_by("-created_at", "-id")
        .first()
    )


def applicants(
    *,
    is_npl: bool | None = None,
    kolektibilitas: int | None = None,
    pekerjaan: str | None = None,
    housing_type: str | None = None,
    source: str | None = None,
) -> QuerySet[Applicant]:
    queryset = Applicant.objects.all()
    if is_npl is not None:
        queryset = queryset.filter(is_npl=is_npl)
    if kolektibilitas is not None:
        queryset = queryset.filter(kolektibilitas=kolektibilitas)
    if pekerjaan is not None:
        queryset = queryset.filter(pekerjaan=pekerjaan)
    if housing_type is not None:
        queryset = queryset.filter(housing_type=housing_type)
    if source is not None:
        queryset = queryset.filter(source=source)
    return queryset.order_by("app_id")


def payment_summary(applicant: Applicant) -> dict:
    """The stored labels and installment counts of one applicant (one aggregate query).

    ``overdue_installments`` are those still owing and due on or before the labelling date.
    """
    as_of = applicant.labelled_as_of
    owing = Q(due_amount__gt=0)
    counts = Installment.objects.filter(applicant=applicant).aggregate(
        installments=Count("pk"),
        paid_installments=Count("pk", filter=Q(due_amount=0)),
        unpaid_installments=Count("pk", filter=owing),
        overdue_installments=Count("pk", filter=owing & Q(due_date__lte=as_of or date.max)),
        outstanding_amount=Sum("due_amount"),
        first_due_date=Min("due_date"),
        last_due_date=Max("due_date"),
    )
    return {
        "kolektibilitas": applicant.kolektibilitas,
        "kolektibilitas_name": KOLEKTIBILITAS_NAMES.get(applicant.kolektibilitas) if applicant.kolektibilitas else None,
        "max_dpd": applicant.max_dpd,
        "is_npl": applicant.is_npl,
        "labelled_as_of": applicant.labelled_as_of,
        "installments": counts["installments"],
        "paid_installments": counts["paid_installments"],
        "unpaid_installments": counts["unpaid_installments"],
        "overdue_installments": counts["overdue_installments"] if as_of else None,
        "outstanding_amount": counts["outstanding_amount"] or 0,
        "first_due_date": counts["first_due_date"],
        "last_due_date": counts["last_due_date"],
    }


def model_versions() -> QuerySet[ModelVersion]:
    return ModelVersion.objects.order_by("-trained_at", "-id")


def test_metrics(version: ModelVersion) -> dict:
    """The version's metrics on the untouched test split (or its only metrics when not split by part)."""
    metrics = version.metrics or {}
    return metrics.get("test", metrics) if isinstance(metrics.get("test"), dict) else metrics


def headline_metrics(version: ModelVersion) -> dict:
    metrics = test_metrics(version)
    return {name: metrics[name] for name in HEADLINE_METRICS if isinstance(metrics.get(name), int | float)}


def leaderboard(version: ModelVersion) -> list:
    """The candidate leaderboard of the training run that produced ``version`` (empty if unknown)."""
    run = version.training_runs.order_by("-created_at", "-id").first()
    return list(run.leaderboard) if run is not None and run.leaderboard else []
