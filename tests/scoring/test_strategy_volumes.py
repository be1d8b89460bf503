"""Strategy curves count every decision and say why approval stops rising (pure functions, no database)."""

import numpy as np
import pytest

from credit import scorecard, strategy
from credit.scorecard import ScorecardParameters


def applicants(n=2_000, seed=4, threshold=0.2) -> strategy.ScoredApplicants:
    rng = np.random.default_rng(seed)
    probability = rng.beta(1.2, 5.0, n)
    return strategy.ScoredApplicants(
        model_version=None,
        app_ids=np.arange(n),
        otr=np.full(n, 200_000_000),
        dp=np.full(n, 40_000_000),
        monthly_income=rng.integers(2, 30, n) * 1_000_000,
        tenor=rng.choice([12, 24, 36, 48, 60], n),
        is_npl_outcome=rng.random(n) < probability,
        npl_probability=probability,
        flagged_npl=probability >= threshold,
        exact=True,
        as_of=None,
    )


def by_hand(scored, parameters):
    score = scorecard.credit_score(scored.npl_probability, parameters)
    declined = scored.npl_probability >= parameters.decline_min_pd
    approved = ~declined & ~scored.flagged_npl & (score >= parameters.approve_min_score)
    held = ~declined & scored.flagged_npl & (score >= parameters.approve_min_score)
    return approved.sum(), (~approved & ~declined).sum(), declined.sum(), held.sum()


@pytest.mark.parametrize("cutoff", [300, 450, 545, 600, 700])
@pytest.mark.parametrize("decline", [0.2, 0.3, 0.6])
def test_every_point_counts_approve_review_and_decline_as_the_rule_decides(cutoff, decline):
    scored = applicants()
    parameters = ScorecardParameters(approve_min_score=cutoff, decline_min_pd=decline)
    point = strategy.point(scored, parameters)
    assert point.approved + point.reviewed + point.declined == len(scored)
    assert (point.approved, point.reviewed, point.declined, point.held_by_flag) == by_hand(scored, parameters)
    declined = scored.npl_probability >= decline
    assert point.npl_rate_declined == pytest.approx(scored.is_npl_outcome[declined].mean())


def test_approval_is_capped_by_the_npl_flag_and_the_comparison_says_up_to_which_cut_off():
    scored = applicants()
    proposed = ScorecardParameters()
    comparison = strategy.compare_on(scored, None, proposed, proposed)
    neither = ~scored.flagged_npl & (scored.npl_probability < proposed.decline_min_pd)
    assert comparison.approval_ceiling == pytest.approx(neither.mean())
    assert comparison.flagged_share == pytest.approx(scored.flagged_npl.mean())
    assert max(item.approval_rate for item in comparison.curve) == comparison.approval_ceiling
    flat = [item for item in comparison.curve if item.cutoff <= comparison.flat_until]
    assert {item.approved for item in flat} == {comparison.curve[0].approved}
    after = [item for item in comparison.curve if item.cutoff > comparison.flat_until]
    assert after and after[0].approved < comparison.curve[0].approved
    # The unflagged applicant with the lowest score clears every cut-off up to its score, and no more.
    lowest = scorecard.credit_score(scored.npl_probability[neither], proposed).min()
    assert lowest - strategy.CUTOFF_STEP < comparison.flat_until <= lowest


def test_the_decline_curve_shows_what_the_decline_cut_off_does():
    scored = applicants()
    proposed = ScorecardParameters(decline_min_pd=0.33)
    comparison = strategy.compare_on(scored, None, ScorecardParameters(), proposed)
    values = [item.decline_min_pd for item in comparison.decline_curve]
    assert values == sorted(values) and 0.33 in values and 0.30 in values
    declined = [item.declined for item in comparison.decline_curve]
    assert declined == sorted(declined, reverse=True) and declined[0] > declined[-1]
    assert all(item.cutoff == proposed.approve_min_score for item in comparison.decline_curve)
    rows = strategy.decline_table_rows(comparison)
    marks = {row["point"].decline_min_pd: row["mark"] for row in rows if row["mark"]}
    assert marks == {0.3: "active", 0.33: "proposed"}


@pytest.mark.parametrize("action", ["decline", "review"])
def test_rule_decisions_are_counted_apart_from_score_decisions(action):
    scored = applicants()
    rules = scorecard.KnockoutRules(max_tenor=36, action=action)
    parameters = ScorecardParameters(rules=rules)
    point = strategy.point(scored, parameters)
    caught = scored.tenor > 36
    if action == "decline":
        assert (point.declined_by_rule, point.referred_by_rule) == (caught.sum(), 0)
    else:
        declined_by_score = scored.npl_probability >= parameters.decline_min_pd
        assert point.declined_by_rule == 0
        assert point.referred_by_rule == (caught & ~declined_by_score).sum()
    assert point.approved == by_hand_with_rules(scored, parameters, caught)
    without = strategy.point(scored, ScorecardParameters())
    assert point.approved < without.approved


def by_hand_with_rules(scored, parameters, caught) -> int:
    approved, _, _, _ = by_hand(scored, parameters)
    score = scorecard.credit_score(scored.npl_probability, parameters)
    plain = (
        (scored.npl_probability < parameters.decline_min_pd)
        & ~scored.flagged_npl
        & (score >= parameters.approve_min_score)
    )
    assert approved == plain.sum()
    return int((plain & ~caught).sum())
