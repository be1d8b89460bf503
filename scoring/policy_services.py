"""Writes about decision policies: create a version, activate one, make the first from the environment,
re-score a stored prediction under the policy in force.

Only Model admins create and activate policies (:class:`~django.core.exceptions.PermissionDenied`
otherwise, and without a user); the system makes only the first policy, from the environment
(:func:`ensure_active_policy`). A policy is never changed once
stored. Activation is atomic and serialised like model activation (every policy row locked in a
fixed order, then the active one switched); the partial unique constraint
``one_active_decision_policy`` makes two active policies impossible whatever the code does. The
activating process sends :data:`scoring.policies.active_policy_changed` and scores with the new
policy at once; every other web and worker process reads it within
``SCORING_ACTIVE_VERSION_RECHECK_SECONDS`` (see :mod:`scoring.policies`).
"""

from __future__ import annotations

import logging

import numpy as np
from django.conf import settings
from django.core.exceptions import NON_FIELD_ERRORS, PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext, gettext_noop

from credit import scorecard
from credit.scorecard import SETTING_NAMES, ScorecardConfigurationError, parameter_problems, parse_grade_bands
from nplsite.roles import is_model_admin
from scoring.models import DecisionPolicy, Prediction
from scoring.policies import (
    POLICY_FIELDS,
    active_policy,
    active_policy_changed,
    current_policy,
    environment_parameters,
    policy_parameters,
)
from scoring.services import store_predictions

logger = logging.getLogger(__name__)

# Stored in English like any reason; the pages show it in the reader's language ({% translate policy.reason %}).
FIRST_POLICY_REASON = gettext_noop("First policy: the defaults from the environment variables.")


def _check_model_admin(user, action: str) -> None:
    if user is None or not is_model_admin(user):
        raise PermissionDenied(f"Only model admins can {action}.")


# A policy's reason is read in lists and the audit trail: a paragraph, not a file.
REASON_MAX_CHARS = 2000


def grade_bands_problem(text: str) -> str | None:
    """What is wrong with grade bands written as ``A:600,B:545,C:500,D:455`` (``None``: nothing)."""
    try:
        parse_grade_bands(text)
    except ScorecardConfigurationError as exc:
        return gettext(
            "Write the bands as GRADE:MINIMUM SCORE, best first, with decreasing scores, "
            "e.g. A:600,B:545,C:500,D:455 (%(problem)s)."
        ) % {"problem": exc}
    return None


def check_policy(policy: DecisionPolicy) -> None:
    """Raise :class:`ValidationError` (by field) when a policy's figures cannot be used or it has no reason."""
    errors = {}
    try:
        policy.full_clean(exclude=["created_by", "activated_by", "is_active", "activated_at"])
    except ValidationError as exc:
        errors = exc.message_dict
    if "reason" in errors or not policy.reason.strip():
        errors["reason"] = [gettext("Say why: the reason is kept with the policy.")]
    elif len(policy.reason) > REASON_MAX_CHARS:
        errors["reason"] = [
            gettext("Keep the reason to %(maximum)s characters (it has %(length)s).")
            % {"maximum": REASON_MAX_CHARS, "length": len(policy.reason)}
        ]
    if "grade_bands" not in errors and (problem := grade_bands_problem(policy.grade_bands)):
        errors["grade_bands"] = [problem]
    figures = {name: getattr(policy, name) for name in SETTING_NAMES if name != "grade_bands"}
    if not any(name in errors for name in figures) and "grade_bands" not in errors:
        bands = parse_grade_bands(policy.grade_bands).minimum_scores
        for problem in parameter_problems({k: float(v) for k, v in figures.items()}, bands):
            errors.setdefault(problem.field, []).append(problem.text(gettext))
    if not errors:
        try:
            policy_parameters(policy)
        except ScorecardConfigurationError as exc:  # anything the field validators let through
            errors[NON_FIELD_ERRORS] = [str(exc)]
    if errors:
        raise ValidationError(errors)


def create_policy(user, *, reason: str, activate: bool = False, **figures) -> DecisionPolicy:
    """Store a new policy version with ``figures`` (every field of :data:`scoring.policies.POLICY_FIELDS`)
    and a required ``reason``; activate it too when ``activate``. Raises :class:`ValidationError`
    (nothing stored) for an unusable figure or an empty reason."""
    _check_model_admin(user, "create decision policies")
    unknown = set(figures) - set(POLICY_FIELDS)
    if unknown:
        raise TypeError(f"Unknown policy fields: {', '.join(sorted(unknown))}")
    policy = DecisionPolicy(reason=(reason or "").strip(), created_by=user, **figures)
    check_policy(policy)
    with transaction.atomic():
        policy.save()
        if activate:
            policy = _activate(policy, user)
    logger.info("Decision policy %s created by %s%s", policy, user, " and activated" if activate else "")
    return policy


def activate_policy(policy: DecisionPolicy, user) -> DecisionPolicy:
    """Make ``policy`` the one active policy (the current one is deactivated), atomically. A policy
    stored before its figures were bounded is checked again: one out of range is refused."""
    _check_model_admin(user, "activate decision policies")
    check_policy(policy)
    with transaction.atomic():
        activated = _activate(policy, user)
    logger.info("Decision policy %s activated by %s", activated, user)
    return activated


def _lock_policies() -> None:
    """Serialise activations: lock every policy row in a fixed order (as ``training.services`` does for
    model versions; locking only the active row would let a waiting transaction activate a second
    policy once the first commits). On SQLite the write transaction serialises instead."""
    list(DecisionPolicy.objects.select_for_update().order_by("pk").values_list("pk", flat=True))


def _activate(policy: DecisionPolicy, user) -> DecisionPolicy:
    _lock_policies()
    policy = DecisionPolicy.objects.get(pk=policy.pk)
    if policy.is_active:
        return policy
    DecisionPolicy.objects.filter(is_active=True).exclude(pk=policy.pk).update(is_active=False)
    DecisionPolicy.objects.filter(pk=policy.pk).update(is_active=True, activated_at=timezone.now(), activated_by=user)
    policy.refresh_from_db()
    active_policy_changed.send(sender=DecisionPolicy, policy=policy)
    return policy


def ensure_active_policy() -> DecisionPolicy:
    """The active policy; when there is none, the first one, made from the environment variables
    (see :mod:`scoring.policies`) and activated. Safe when several processes do it at once: the one
    whose activation loses the unique constraint reads the winner's."""
    policy = active_policy()
    if policy is not None:
        return policy
    parameters = environment_parameters()
    bands = parameters.grade_bands
    figures = {
        "grade_bands": ",".join(
            [f"{grade}:{minimum:g}" for grade, minimum in zip(bands.grades, bands.minimum_scores, strict=True)]
            + [bands.lowest_grade]
        ),
        "base_points": parameters.base_points,
        "base_odds": parameters.base_odds,
        "pdo": parameters.pdo,
        "lgd": parameters.lgd,
        "decline_min_pd": parameters.decline_min_pd,
        "approve_min_score": parameters.approve_min_score,
        "recall_target": float(settings.TRAINING_RECALL_TARGET),
    }
    try:
        with transaction.atomic():
            # Stored active in one INSERT: with no row to lock yet, the one-active constraint is what
            # serialises processes doing this at once (a second INSERT waits for the first to commit,
            # then fails). Deactivating "the others" first would, under READ COMMITTED, deactivate the
            # policy another process has just committed.
            policy = DecisionPolicy.objects.create(
                reason=FIRST_POLICY_REASON, is_active=True, activated_at=timezone.now(), **figures
            )
    except IntegrityError:  # another process stored its first policy at the same moment
        policy = active_policy()
        if policy is None:
            raise
        return policy
    active_policy_changed.send(sender=DecisionPolicy, policy=policy)
    logger.info("No decision policy was active: stored %s from the environment variables and activated it", policy)
    return policy


def rescore_prediction(prediction: Prediction, *, user) -> Prediction:
    """A new prediction: ``prediction``'s model version, probability, NPL flag and reasons, with the score,
    grade, expected loss and recommendation of the policy in force now. The old prediction is kept."""
    policy = current_policy()
    attributes = prediction.input_attributes
    decisions = scorecard.decide(
        np.array([prediction.npl_probability]),
        np.array([prediction.is_npl]),
        np.array([attributes["otr"]]),
        np.array([attributes["dp"]]),
        policy.parameters,
        monthly_income=np.array([attributes["monthly_income"]]),
        tenor=np.array([attributes["tenor"]]),
    )
    again = Prediction(
        applicant=prediction.applicant,
        input_attributes=attributes,
        model_version=prediction.model_version,
        policy_id=policy.id,
        npl_probability=prediction.npl_probability,
        is_npl=prediction.is_npl,
        threshold=prediction.threshold,
        credit_score=int(decisions.credit_score[0]),
        risk_grade=str(decisions.risk_grade[0]),
        expected_loss=int(decisions.expected_loss[0]),
        recommendation=str(decisions.recommendation[0]),
        knockout_rule=str(decisions.knockout_rule[0]),
        reasons=prediction.reasons,
        outside_training=prediction.outside_training,
        user=user if user is not None and user.is_authenticated else None,
        channel=Prediction.Channel.WEB,
    )
    store_predictions([again])
    return again
