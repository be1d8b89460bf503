"""Strategy curves: what a decision policy's approve cut-off would do to a set of scored applicants.

Each point of a curve is :func:`credit.scorecard.decide` for every applicant under the policy with
that approve cut-off — the rule the engine applies, not a second copy of it. Which applicants and
which probabilities (the active version's test applicants, or its realised ones) is
:mod:`scoring.strategy`'s business.

**What a curve says**, for each approve cut-off (the credit score from which an applicant the model
does not flag NPL is approved; the decline probability and the rest of the policy as proposed):
the approval rate, the NPL rate among the approved, the share of NPL applicants not approved
(caught: declined or sent to review), and the expected loss (PD × LGD × amount financed, in rupiah)
of the approved and of the rest (avoided); and how many applicants each decision gets (approve,
review, decline).

**Three cut-offs decide**, in this order: the decline probability (PD at or above it: decline,
whatever the score), the model's NPL flag (a flagged applicant is never approved, whatever the
score: at most review), and the approve cut-off (the credit score from which an unflagged
applicant is approved). So approval can never exceed the share of applicants neither flagged nor
declined (:attr:`Comparison.approval_ceiling`): below the score from which the cut-off starts to
bite, every such applicant is approved already and the approval curve is flat. The decline
cut-off's effect is its own curve (:func:`decline_curve`), with the approve cut-off as proposed.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date

import numpy as np

from credit import scorecard
from credit.scorecard import ScorecardParameters

CUTOFF_STEP = 5
CUTOFFS = np.arange(scorecard.MIN_SCORE, scorecard.MAX_SCORE + 1, CUTOFF_STEP)
# The decline probabilities the decline curve is drawn at (the policy's own ones are added).
DECLINE_PROBABILITIES = tuple(round(value, 2) for value in np.arange(0.10, 0.951, 0.05))


@dataclass(frozen=True)
class ScoredApplicants:
    """Applicants with the engine's probabilities and NPL flags and their NPL outcomes: the active
    version's test applicants, or its realised applicants."""

    model_version: object  # training.models.ModelVersion
    app_ids: np.ndarray
    otr: np.ndarray
    dp: np.ndarray
    monthly_income: np.ndarray
    tenor: np.ndarray
    is_npl_outcome: np.ndarray  # the NPL label as of the version's labelling date
    npl_probability: np.ndarray  # what the engine returns for them
    flagged_npl: np.ndarray  # the engine's NPL flag (probability ≥ the version's threshold)
    exact: bool  # True: exactly the version's test split (the stored digest matches)
    as_of: date | None  # labels as of (test applicants); None for realised applicants

    def __len__(self) -> int:
        return len(self.app_ids)


@dataclass(frozen=True)
class StrategyPoint:
    cutoff: float  # the approve cut-off (credit score)
    approved: int
    approval_rate: float
    npl_rate_approved: float | None  # None when nobody is approved
    npl_caught: float | None  # None when there is no NPL applicant
    expected_loss_approved: int
    expected_loss_avoided: int
    decline_min_pd: float = 0.0  # the decline cut-off (probability)
    reviewed: int = 0
    declined: int = 0
    npl_rate_declined: float | None = None  # None when nobody is declined
    # Applicants whose score clears the approve cut-off and who are not declined, but whom the
    # model flags NPL: sent to review by the flag alone.
    held_by_flag: int = 0
    # Applicants a knock-out rule declined, or referred to review, before the score was read (counted
    # in ``declined`` / ``reviewed`` too: these say how many of them the rules decided).
    declined_by_rule: int = 0
    referred_by_rule: int = 0


def point(applicants: ScoredApplicants, parameters: ScorecardParameters) -> StrategyPoint:
    """The figures of one policy on the applicants: exactly the engine's decisions under it."""
    decisions = scorecard.decide(
        applicants.npl_probability,
        applicants.flagged_npl,
        applicants.otr,
        applicants.dp,
        parameters,
        monthly_income=applicants.monthly_income,
        tenor=applicants.tenor,
    )
    approved = decisions.recommendation == scorecard.APPROVE
    declined = decisions.recommendation == scorecard.DECLINE
    outcome = applicants.is_npl_outcome
    n, n_approved, n_npl = len(applicants), int(approved.sum()), int(outcome.sum())
    n_declined = int(declined.sum())
    loss = decisions.expected_loss
    by_rule = decisions.knockout_rule != ""
    held = np.asarray(applicants.flagged_npl, dtype=bool) & ~declined & ~by_rule
    held &= decisions.credit_score >= parameters.approve_min_score
    return StrategyPoint(
        cutoff=float(parameters.approve_min_score),
        approved=n_approved,
        approval_rate=n_approved / n if n else 0.0,
        npl_rate_approved=float(outcome[approved].mean()) if n_approved else None,
        npl_caught=float((outcome & ~approved).sum() / n_npl) if n_npl else None,
        expected_loss_approved=int(loss[approved].sum()),
        expected_loss_avoided=int(loss[~approved].sum()),
        decline_min_pd=float(parameters.decline_min_pd),
        reviewed=n - n_approved - n_declined,
        declined=n_declined,
        npl_rate_declined=float(outcome[declined].mean()) if n_declined else None,
        held_by_flag=int(held.sum()),
        declined_by_rule=int((declined & by_rule).sum()) if parameters.rules.action == scorecard.DECLINE else 0,
        referred_by_rule=int((~declined & by_rule).sum()),
    )


def curve(applicants: ScoredApplicants, parameters: ScorecardParameters, cutoffs=CUTOFFS) -> list[StrategyPoint]:
    """:func:`point` at every approve cut-off in ``cutoffs``, the rest of the policy as ``parameters``."""
    return [point(applicants, replace(parameters, approve_min_score=float(cutoff))) for cutoff in cutoffs]


def decline_curve(
    applicants: ScoredApplicants, parameters: ScorecardParameters, probabilities=DECLINE_PROBABILITIES
) -> list[StrategyPoint]:
    """:func:`point` at every decline probability in ``probabilities`` (and the policy's own), the
    rest of the policy — the approve cut-off included — as ``parameters``."""
    values = sorted({*map(float, probabilities), float(parameters.decline_min_pd)})
    return [point(applicants, replace(parameters, decline_min_pd=value)) for value in values]


@dataclass(frozen=True)
class Comparison:
    """A proposed policy beside the active one on the same applicants."""

    applicants: ScoredApplicants
    active: StrategyPoint
    proposed: StrategyPoint
    curve: list[StrategyPoint]  # under the proposed policy, every approve cut-off
    realised: ScoredApplicants | None = None  # the back-test applicants, where there are outcomes
    realised_active: StrategyPoint | None = None
    realised_proposed: StrategyPoint | None = None
    decline_curve: list[StrategyPoint] = field(default_factory=list)  # under the proposed policy

    @property
    def flagged_share(self) -> float:
        """The share of the applicants the model flags NPL (never approved, whatever the score)."""
        n = len(self.applicants)
        return float(np.asarray(self.applicants.flagged_npl, dtype=bool).sum() / n) if n else 0.0

    @property
    def approval_ceiling(self) -> float:
        """The highest approval rate any approve cut-off can give under the proposed policy: the share
        of applicants neither flagged NPL nor declined (the lowest cut-off's approval rate)."""
        return self.curve[0].approval_rate if self.curve else 0.0

    @property
    def flat_until(self) -> float | None:
        """The highest approve cut-off at which approval still reaches the ceiling (below it the
        cut-off approves nobody more: the curve is flat); ``None`` when the curve is empty."""
        at_ceiling = [item.cutoff for item in self.curve if item.approved == self.curve[0].approved]
        return max(at_ceiling) if at_ceiling else None

    @property
    def approval_change(self) -> int:
        return self.proposed.approved - self.active.approved

    @property
    def approval_rate_change(self) -> float:
        return self.proposed.approval_rate - self.active.approval_rate

    @property
    def expected_loss_change(self) -> int:
        """Change in the expected loss of the approved applicants, in rupiah (positive: more loss)."""
        return self.proposed.expected_loss_approved - self.active.expected_loss_approved


def compare_on(
    applicants: ScoredApplicants,
    realised: ScoredApplicants | None,
    active: ScorecardParameters,
    proposed: ScorecardParameters,
) -> Comparison:
    """The proposed policy beside the active one on ``applicants`` (and on ``realised``, where given)."""
    return Comparison(
        applicants=applicants,
        active=point(applicants, active),
        proposed=point(applicants, proposed),
        curve=curve(applicants, proposed),
        realised=realised,
        realised_active=point(realised, active) if realised is not None else None,
        realised_proposed=point(realised, proposed) if realised is not None else None,
        decline_curve=decline_curve(applicants, proposed),
    )


def table_rows(comparison: Comparison, step: int = 50) -> list[dict]:
    """Rows of the strategy table: every ``step`` points of cut-off, plus the active and proposed ones."""
    marked = {comparison.active.cutoff: "active", comparison.proposed.cutoff: "proposed"}
    rows = []
    for item in comparison.curve:
        if item.cutoff % step == 0 or item.cutoff in marked:
            rows.append({"point": item, "mark": marked.get(item.cutoff, "")})
    for cutoff, mark in marked.items():  # a cut-off between the curve's steps
        if not any(row["point"].cutoff == cutoff for row in rows):
            source = comparison.active if mark == "active" else comparison.proposed
            rows.append({"point": source, "mark": mark})
    return sorted(rows, key=lambda row: row["point"].cutoff)


def decline_table_rows(comparison: Comparison) -> list[dict]:
    """Rows of the decline cut-off table: the decline curve, the active and proposed probabilities marked."""
    marked = {comparison.active.decline_min_pd: "active", comparison.proposed.decline_min_pd: "proposed"}
    return [{"point": item, "mark": marked.get(item.decline_min_pd, "")} for item in comparison.decline_curve]
