"""The review desk's arithmetic (credit/review_desk.py): working days, aging, overrides, the report."""

from datetime import date, timedelta

import pytest

from credit import review_desk
from credit.review_desk import (
    DUE,
    HIGH_SIDE,
    LOW_SIDE,
    NO_OVERRIDE,
    ON_TIME,
    OVERDUE,
    aging,
    overdue_before,
    override_side,
    working_days_between,
)

MONDAY = date(2026, 12, 7)


@pytest.mark.parametrize(
    ("start", "end", "days"),
    [
        (MONDAY, MONDAY, 0),
        (MONDAY, MONDAY + timedelta(days=2), 2),  # Wednesday
        (MONDAY + timedelta(days=4), MONDAY + timedelta(days=7), 1),  # Friday → Monday
        (MONDAY + timedelta(days=5), MONDAY + timedelta(days=7), 1),  # Saturday → Monday
        (MONDAY, MONDAY + timedelta(days=14), 10),
        (MONDAY, MONDAY - timedelta(days=3), 0),
    ],
)
def test_working_days_count_monday_to_friday_after_the_first_day(start, end, days):
    assert working_days_between(start, end) == days
    # The same as counting day by day.
    assert days == sum(
        1 for offset in range(1, (end - start).days + 1) if (start + timedelta(days=offset)).weekday() < 5
    )


def test_aging_against_the_target():
    assert aging(MONDAY, MONDAY + timedelta(days=1), 2) == ON_TIME
    assert aging(MONDAY, MONDAY + timedelta(days=2), 2) == DUE
    assert aging(MONDAY, MONDAY + timedelta(days=3), 2) == OVERDUE
    assert aging(MONDAY + timedelta(days=4), MONDAY + timedelta(days=8), 2) == DUE  # Fri → Tue


@pytest.mark.parametrize("target", [0, 1, 2, 5])
def test_overdue_before_splits_entry_days_exactly_where_aging_says_overdue(target):
    for today in (MONDAY + timedelta(days=offset) for offset in range(7)):
        cutoff = overdue_before(today, target)
        for entered in (today - timedelta(days=offset) for offset in range(0, 20)):
            assert (entered < cutoff) == (aging(entered, today, target) == OVERDUE), (today, target, entered)


@pytest.mark.parametrize(
    ("recommendation", "outcome", "side"),
    [
        ("approve", "approve", NO_OVERRIDE),
        ("approve", "decline", HIGH_SIDE),
        ("approve", "refer", HIGH_SIDE),
        ("decline", "approve", LOW_SIDE),
        ("decline", "decline", NO_OVERRIDE),
        ("decline", "refer", NO_OVERRIDE),
        ("review", "approve", NO_OVERRIDE),
        ("review", "decline", NO_OVERRIDE),
        ("review", "refer", NO_OVERRIDE),
    ],
)
def test_override_sides(recommendation, outcome, side):
    assert override_side(recommendation, outcome) == side


def test_an_unknown_outcome_is_refused():
    with pytest.raises(ValueError, match="unknown outcome 'maybe'"):
        override_side("approve", "maybe")


def _group(**values):
    base = {
        "analyst": "ana",
        "reason": None,
        "grade": "C",
        "month": "2024-01",
        "recommendation": "decline",
        "override": NO_OVERRIDE,
        "vintage": date(2024, 1, 1),
        "labelled_as_of": date(2025, 6, 30),
        "outcome_npl": False,
        "n": 1,
    }
    return {**base, **values}


def test_report_rates_count_firm_recommendations_and_known_outcomes_only():
    groups = [
        _group(override=LOW_SIDE, reason="GUARANTOR", n=3, outcome_npl=True),
        _group(override=LOW_SIDE, reason="GUARANTOR", n=1),
        _group(n=4),  # followed declines, outcome known, not NPL
        _group(n=2, outcome_npl=True, labelled_as_of=date(2024, 6, 30)),  # outcome not known yet
        _group(recommendation="review", n=5),  # review-zone decisions: no override possible
        _group(analyst="budi", recommendation="approve", override=HIGH_SIDE, reason="ADVERSE_BUREAU", n=2),
    ]
    report = review_desk.override_report(groups, window_months=12)
    overall = report["overall"]
    assert overall["decisions"] == 17 and overall["firm_recommendation_decisions"] == 12
    assert overall["overrides"] == 6 and overall["low_side"] == 4 and overall["high_side"] == 2
    assert overall["override_rate"] == pytest.approx(6 / 12)
    assert (overall["overridden_npl"], overall["overridden_with_outcome"]) == (3, 6)
    assert (overall["followed_npl"], overall["followed_with_outcome"]) == (0, 4)
    assert report["awaiting_outcome"] == 2
    by_analyst = {row["analyst"]: row for row in report["by_analyst"]}
    assert by_analyst["budi"]["override_rate"] == 1.0 and by_analyst["ana"]["override_rate"] == pytest.approx(4 / 10)
    assert [row["reason"] for row in report["by_reason"]] == ["ADVERSE_BUREAU", "GUARANTOR", None]
