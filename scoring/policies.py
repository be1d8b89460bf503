"""The active decision policy, as every web and worker process reads it, and other reads about policies.

:func:`current_policy` is the one function scoring calls for the rules in force (the engine, the
score page, the dashboard, the strategy page). It follows activations exactly as the engine follows
model activations: the active policy is read from the database (one indexed query on
``DecisionPolicy.is_active``) again whenever this process's reading is older than
``settings.SCORING_ACTIVE_VERSION_RECHECK_SECONDS`` (default 1 s), so every process follows an
activation within that time without a restart; the process that activates, or saves or deletes any
policy, forgets its reading at once (:data:`active_policy_changed` and the model's save/delete
signals, connected in ``scoring/apps.py``). Policies are never edited once stored, so a reading
cannot go stale in any other way.

**The first policy** is made on first use: when no policy is active (a new installation, or a
database that predates policies), :func:`scoring.policy_services.ensure_active_policy` stores one
from the environment variables (``SCORE_BASE_POINTS``, ``SCORE_BASE_ODDS``, ``SCORE_PDO``,
``RISK_GRADE_BANDS``, ``LGD``, ``DECLINE_MIN_PD``, ``APPROVE_MIN_SCORE``, ``TRAINING_RECALL_TARGET``)
and activates it. From then on the database is what counts; changing those variables changes
nothing until the policies are gone. (Not a data migration: a migration would freeze the values of
the environment the migration ran in, and tests that empty the database would lose the row.)
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from functools import lru_cache

from django.conf import settings
from django.db.models import QuerySet
from django.dispatch import Signal

from credit.scorecard import (
    DECLINE,
    KnockoutRules,
    ScorecardParameters,
    npl_probability_at_score,
    parse_grade_bands,
)
from scoring.models import DecisionPolicy

active_policy_changed = Signal()
"""Sent (with ``policy``) when a decision policy was activated; this process then reads it at once."""

SCORECARD_FIELDS = ("base_points", "base_odds", "pdo", "lgd", "decline_min_pd", "approve_min_score")
RULE_FIELDS = ("min_monthly_income", "min_dp_share", "max_tenor", "max_installment_to_income", "knockout_action")
POLICY_FIELDS = ("grade_bands", *SCORECARD_FIELDS, "recall_target", *RULE_FIELDS)


@dataclass(frozen=True)
class ActivePolicy:
    """The rules in force: the policy's id (what a prediction records) and its scorecard parameters."""

    id: int
    parameters: ScorecardParameters
    recall_target: float


def policy_parameters(policy: DecisionPolicy) -> ScorecardParameters:
    """The scorecard parameters of a policy (stored or proposed); raises
    :class:`credit.scorecard.ScorecardConfigurationError` when they cannot be used."""
    return ScorecardParameters(
        grade_bands=parse_grade_bands(policy.grade_bands),
        **{name: float(getattr(policy, name)) for name in SCORECARD_FIELDS},
        rules=KnockoutRules(
            **{name: getattr(policy, name) for name in RULE_FIELDS if name != "knockout_action"},
            action=policy.knockout_action or DECLINE,
        ),
    )


class ActivePolicyReading:
    """This process's reading of the active policy (one instance per process: :data:`reading`)."""

    def __init__(self):
        self._known: tuple[ActivePolicy, float] | None = None  # the last reading and when (monotonic)
        # Makes the first policy when there is none: policy_services.ensure_active_policy, given by
        # ScoringConfig.ready (the services import this module; this one does not import them).
        self.make_first_policy = None

    def current(self) -> ActivePolicy:
        now = time.monotonic()
        known = self._known
        if known is not None and now - known[1] < settings.SCORING_ACTIVE_VERSION_RECHECK_SECONDS:
            return known[0]
        row = active_policy()
        if row is None:
            row = self.make_first_policy()
        policy = ActivePolicy(id=row.pk, parameters=policy_parameters(row), recall_target=row.recall_target)
        self._known = (policy, now)
        return policy

    def forget(self, **signal_arguments) -> None:
        """Read the active policy from the database on the next call (connected to policy signals)."""
        self._known = None


reading = ActivePolicyReading()


def current_policy() -> ActivePolicy:
    """The decision policy in force in this process (see the module docstring)."""
    return reading.current()


def active_policy() -> DecisionPolicy | None:
    """The active policy row, read from the database now (``None`` before the first one exists)."""
    return DecisionPolicy.objects.filter(is_active=True).select_related("created_by", "activated_by").first()


def list_policies() -> QuerySet[DecisionPolicy]:
    """Every policy, newest first, with who created and last activated it."""
    return DecisionPolicy.objects.select_related("created_by", "activated_by").order_by("-created_at", "-id")


def grade_band_rows(parameters: ScorecardParameters) -> list[dict]:
    """The grade bands as rows: grade, minimum score (``None`` for the lowest grade), and the highest
    NPL probability that still reaches the band under the policy's score scaling."""
    bands = parameters.grade_bands
    rows = [
        {
            "grade": grade,
            "min_score": minimum,
            "max_npl_probability": float(npl_probability_at_score(minimum, parameters)),
        }
        for grade, minimum in zip(bands.grades, bands.minimum_scores, strict=True)
    ]
    rows.append({"grade": bands.lowest_grade, "min_score": None, "max_npl_probability": 1.0})
    return rows


def environment_parameters() -> ScorecardParameters:
    """The parameters the environment variables give: the defaults of the first decision policy
    (read on every call, so tests can override them)."""
    return _parameters_from(
        settings.SCORE_BASE_POINTS,
        settings.SCORE_BASE_ODDS,
        settings.SCORE_PDO,
        settings.RISK_GRADE_BANDS,
        settings.LGD,
        settings.DECLINE_MIN_PD,
        settings.APPROVE_MIN_SCORE,
    )


@lru_cache(maxsize=8)
def _parameters_from(base_points, base_odds, pdo, bands, lgd, decline_min_pd, approve_min_score):
    return ScorecardParameters(
        base_points=float(base_points),
        base_odds=float(base_odds),
        pdo=float(pdo),
        grade_bands=parse_grade_bands(bands),
        lgd=float(lgd),
        decline_min_pd=float(decline_min_pd),
        approve_min_score=float(approve_min_score),
    )


def rules_of_policy(policy_id: int | None) -> KnockoutRules:
    """The knock-out rules of a stored policy (the one in force is read from this process's reading,
    others from the database): what wording a prediction's knock-out rule needs."""
    if policy_id is None:
        return KnockoutRules()
    policy = current_policy()
    if policy.id == policy_id:
        return policy.parameters.rules
    row = DecisionPolicy.objects.filter(pk=policy_id).first()
    return policy_parameters(row).rules if row is not None else KnockoutRules()
