"""Reads for the review desk's pages: who can be assigned, the grades to filter by, a case's page, the
override report with its reason codes worded."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.db.models import Q, QuerySet

from nplsite.roles import ANALYST, MODEL_ADMIN
from reviews import selectors
from reviews.models import ReasonCode
from scoring.models import DecisionPolicy
from scoring.policies import policy_parameters
from web.page_selectors.applicants import known_grades


def assignable_users() -> QuerySet:
    """Active users who may work the queue (the Analyst or Model admin role, or a superuser), by name."""
    return (
        get_user_model()
        .objects.filter(Q(groups__name__in=(ANALYST, MODEL_ADMIN)) | Q(is_superuser=True), is_active=True)
        .distinct()
        .order_by("username")
    )


def queue_grades() -> list[str]:
    """The grades of the active decision policy (those predictions were given, before any policy)."""
    policy = DecisionPolicy.objects.filter(is_active=True).first()
    if policy is None:
        return known_grades()
    return list(policy_parameters(policy).grade_bands.all_grades)


def case_context(prediction) -> dict:
    """What a case's page shows besides its forms."""
    entry = selectors.entry_for(prediction)
    return {
        "entry": entry,
        "in_queue": selectors.in_queue(prediction),
        "superseded_by": selectors.is_superseded(prediction),
        "notes": selectors.case_notes(entry.case),
        "decisions": list(selectors.decisions(prediction_ids=[prediction.pk])),
        "target_working_days": selectors.target_working_days(),
    }


def applicant_decisions(applicant, limit: int = 20) -> list:
    """The latest review decisions on the application's predictions, newest first."""
    return list(selectors.decisions(applicant=applicant)[:limit])


def override_report(**period) -> dict:
    """The override report, each reason row with its code's label in the active language."""
    report = selectors.override_report(**period)
    labels = {reason.code: reason.label for reason in ReasonCode.objects.all()}
    for row in report["by_reason"]:
        row["label"] = labels.get(row["reason"], "")
    return report
