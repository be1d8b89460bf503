"""Writes behind the scoring pages: score the form's applicant (optionally saving it), score a stored one."""

from __future__ import annotations

from django.db import transaction

from applicants.attributes import ATTRIBUTE_FIELDS
from applicants.models import Applicant
from scoring.models import Prediction
from scoring.services import ScoreResult, create_applicant, score_applicants, score_requests

WEB_APPLICANT_SOURCE = "web"


def score_form_applicant(attributes: dict, *, user, app_id: int | None = None) -> ScoreResult:
    """Score the nine attributes from the score form (channel ``web``) and return the stored result.

    With ``app_id`` the applicant is saved too: created (source ``web``, no payment history) when the
    id is new, or linked when it is stored with the same attributes. Raises
    :class:`scoring.services.ApplicantDataError` (nothing stored) when the id is stored with other
    attributes, and :class:`scoring.engine.ScoringUnavailableError` when no model can score.
    """
    if app_id is None:
        return score_applicants([attributes], user=user, channel=Prediction.Channel.WEB)[0]
    with transaction.atomic():
        if not Applicant.objects.filter(app_id=app_id).exists():
            create_applicant(attributes, app_id=app_id, source=WEB_APPLICANT_SOURCE)
        return score_requests([(attributes, app_id)], user=user, channel=Prediction.Channel.WEB)[0]


def score_stored_applicant(applicant: Applicant, *, user) -> ScoreResult:
    """Score a stored applicant's attributes with the active model, linked to the applicant."""
    attributes = {name: getattr(applicant, name) for name in ATTRIBUTE_FIELDS}
    return score_applicants([attributes], user=user, channel=Prediction.Channel.WEB, applicants=[applicant])[0]
