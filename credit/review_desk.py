"""The review desk's arithmetic, without a database: working days, overrides and the override report.

**Working days** are Monday to Friday (public holidays are not known to the product). A case's age is
the number of working days after the day it entered the queue, up to and including today: a case
that entered on a Monday is 2 working days old on Wednesday, and one that entered on a Saturday is
1 day old on Monday. Against a target of ``t`` working days a case is *on time* below ``t``, *due*
at ``t`` and *overdue* above it.

**Overrides.** A decision differs from a firm recommendation (approve or decline) when it goes the
other way: declining or referring up an application the score recommended approving is a
*high-side* override (more cautious than the score), approving one it recommended declining a
*low-side* override (riskier). Referring up a decline does not approve anything, so it follows the
recommendation. Decisions on a *review* recommendation are never overrides: the score asked a
person to decide.

**Override report.** Counted over decisions (every decision a person recorded: a first decision
above the decider's authority and the second one that settles it are two decisions, each by its
own decider). The override rate of a group is its overrides over its decisions on a firm
recommendation; a realised NPL rate counts the decisions whose applicant's outcome is known — the
applicant labelled as of at least the back-test's outcome window after the application month
(:func:`credit.backtest.window_end`) — split into overridden and followed decisions.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta

from credit.backtest import window_end

APPROVE, REVIEW, DECLINE = "approve", "review", "decline"
REFER = "refer"
OUTCOMES = (APPROVE, DECLINE, REFER)
FIRM_RECOMMENDATIONS = (APPROVE, DECLINE)

NO_OVERRIDE, HIGH_SIDE, LOW_SIDE = "none", "high_side", "low_side"

ON_TIME, DUE, OVERDUE = "on_time", "due", "overdue"

SATURDAY = 5


def is_working_day(day: date) -> bool:
    return day.weekday() < SATURDAY


def working_days_between(start: date, end: date) -> int:
    """Working days after ``start`` up to and including ``end`` (0 when ``end`` is not after ``start``)."""
    if end <= start:
        return 0
    days = (end - start).days
    weeks, rest = divmod(days, 7)
    count = weeks * 5
    for offset in range(1, rest + 1):
        if is_working_day(start + timedelta(days=offset)):
            count += 1
    return count


def aging(entered: date, today: date, target_working_days: int) -> str:
    """``on_time``, ``due`` or ``overdue``: a case's age in working days against the target."""
    age = working_days_between(entered, today)
    if age < target_working_days:
        return ON_TIME
    return DUE if age == target_working_days else OVERDUE


def overdue_before(today: date, target_working_days: int) -> date:
    """The first entry day that is not overdue today: cases that entered before it are overdue."""
    if target_working_days < 0:
        raise ValueError("target_working_days must be at least 0")
    day = today
    while working_days_between(day - timedelta(days=1), today) <= target_working_days:
        day -= timedelta(days=1)
    return day


def override_side(recommendation: str, outcome: str) -> str:
    """``high_side``, ``low_side`` or ``none`` for a decision ``outcome`` on a ``recommendation``."""
    if outcome not in OUTCOMES:
        raise ValueError(f"unknown outcome {outcome!r}; expected one of {', '.join(OUTCOMES)}")
    if recommendation == APPROVE and outcome in (DECLINE, REFER):
        return HIGH_SIDE
    if recommendation == DECLINE and outcome == APPROVE:
        return LOW_SIDE
    return NO_OVERRIDE


def outcome_known(vintage: date, labelled_as_of: date | None, is_npl: bool | None, window_months: int) -> bool:
    """Whether an application of month ``vintage`` has its outcome: labelled at or after the window's end."""
    return labelled_as_of is not None and is_npl is not None and labelled_as_of >= window_end(vintage, window_months)


class _Cell:
    __slots__ = (
        "decisions",
        "firm",
        "overrides",
        "high_side",
        "low_side",
        "overridden_known",
        "overridden_npl",
        "followed_known",
        "followed_npl",
    )

    def __init__(self):
        for name in self.__slots__:
            setattr(self, name, 0)

    def add(self, group: dict, known: bool) -> None:
        n = group["n"]
        side = group["override"]
        firm = group["recommendation"] in FIRM_RECOMMENDATIONS
        self.decisions += n
        if not firm:
            return
        self.firm += n
        overridden = side != NO_OVERRIDE
        if overridden:
            self.overrides += n
            self.high_side += n if side == HIGH_SIDE else 0
            self.low_side += n if side == LOW_SIDE else 0
        if known:
            npl = n if group["outcome_npl"] else 0
            if overridden:
                self.overridden_known += n
                self.overridden_npl += npl
            else:
                self.followed_known += n
                self.followed_npl += npl

    def figures(self) -> dict:
        return {
            "decisions": self.decisions,
            "firm_recommendation_decisions": self.firm,
            "overrides": self.overrides,
            "high_side": self.high_side,
            "low_side": self.low_side,
            "override_rate": _rate(self.overrides, self.firm),
            "overridden_with_outcome": self.overridden_known,
            "overridden_npl": self.overridden_npl,
            "overridden_npl_rate": _rate(self.overridden_npl, self.overridden_known),
            "followed_with_outcome": self.followed_known,
            "followed_npl": self.followed_npl,
            "followed_npl_rate": _rate(self.followed_npl, self.followed_known),
        }


def _rate(part: int, whole: int) -> float | None:
    return part / whole if whole else None


DIMENSIONS = ("analyst", "reason", "grade", "month")


def override_report(groups, *, window_months: int) -> dict:
    """The override report from decision groups: dicts with ``analyst``, ``reason`` (a code or
    ``None``), ``grade``, ``month`` (``"YYYY-MM"`` of the decision), ``recommendation``, ``override``,
    ``vintage`` (the application month, a date), ``labelled_as_of``, ``outcome_npl`` and ``n``.

    Answers the totals and one row per value of each dimension (sorted by value; no reason code last).
    """
    overall = _Cell()
    by: dict[str, dict] = {dimension: defaultdict(_Cell) for dimension in DIMENSIONS}
    pending = 0
    for group in groups:
        known = outcome_known(group["vintage"], group["labelled_as_of"], group["outcome_npl"], window_months)
        if group["recommendation"] in FIRM_RECOMMENDATIONS and not known:
            pending += group["n"]
        overall.add(group, known)
        for dimension in DIMENSIONS:
            by[dimension][group[dimension]].add(group, known)
    return {
        "window_months": window_months,
        "overall": overall.figures(),
        "awaiting_outcome": pending,
        **{
            f"by_{dimension}": [
                {dimension: value, **cell.figures()}
                for value, cell in sorted(by[dimension].items(), key=lambda item: (item[0] is None, item[0] or ""))
            ]
            for dimension in DIMENSIONS
        },
    }
