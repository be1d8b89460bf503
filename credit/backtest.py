"""Back-testing: the probabilities a version gave against the outcomes that arrived later.

Works on counts, never on single predictions: the database groups the predictions of the cohort by
application month (vintage), labels' date, risk grade, credit score, predicted label and realised
label (``monitoring.selectors.backtest_groups``); everything here is computed from those groups.

**Outcome window.** A vintage (the calendar month a prediction was made in, i.e. the application
month) is back-tested once its applicants' payment histories are labelled as of at least
``window_months`` (default 12) months after the end of that month: every application of the
vintage has then had a full year on book to reach 90+ days past due (NPL as
``docs/data-format.md`` defines it: ever more than 90 days late). Predictions whose labels are
older, or that have no labels (no payment history imported yet), are "pending".

**Per-grade test (traffic light).** In each risk grade, the number of realised NPL ``k`` among ``n``
back-tested applicants is compared with the grade's mean predicted probability ``p̄``, one-sided as
banks' traffic-light test is (is the risk underestimated?): ``P(X ≥ k)`` for ``X ~ Binomial(n, p̄)``.
Green when that is at least 5 %, yellow from 0.1 % to 5 %, red below 0.1 %. The observed rate is
shown with its exact (Clopper–Pearson) 99 % binomial interval.

**Discrimination** (ROC AUC, Gini = 2·AUC − 1) is computed from the counts per credit score: the
score is a monotone function of the probability rounded to whole points, so ties within a point
count half. **Recall and precision** use each prediction's own label (the version's threshold when
it was scored).
"""

from __future__ import annotations

import calendar
from collections import defaultdict
from datetime import date

import numpy as np
from scipy.stats import binom, binomtest

GREEN, YELLOW, RED = "green", "yellow", "red"
YELLOW_BELOW = 0.05
RED_BELOW = 0.001
INTERVAL_CONFIDENCE = 0.99
# One-sided 95 % upper bound of the realised recall: a two-sided 90 % interval's upper end.
RECALL_BOUND_CONFIDENCE = 0.90


def add_months(day: date, months: int) -> date:
    month_index = day.year * 12 + day.month - 1 + months
    year, month = divmod(month_index, 12)
    return date(year, month + 1, min(day.day, calendar.monthrange(year, month + 1)[1]))


def application_month(first_due_month: date | None, scored_month: date) -> date:
    """An application's vintage: the month before its first instalment falls due (the loan file has no
    application date of its own; the first instalment is due a month after the application, as in the
    generated books), or, with no instalments stored (a new application), the month it was scored."""
    return add_months(first_due_month, -1) if first_due_month is not None else scored_month


def window_end(vintage: date, window_months: int) -> date:
    """The first labels date at which the vintage (the month starting ``vintage``) has reached the
    outcome window: the last day of the month ``window_months`` after it (2023-01 → 2024-01-31)."""
    later = add_months(date(vintage.year, vintage.month, 1), window_months)
    return date(later.year, later.month, calendar.monthrange(later.year, later.month)[1])


def traffic_light(k: int, n: int, expected_rate: float) -> tuple[str, float]:
    """(light, one-sided p-value ``P(X ≥ k)``) for ``k`` NPL among ``n`` with mean probability ``expected_rate``."""
    if n == 0:
        return GREEN, 1.0
    p_value = float(binom.sf(k - 1, n, min(max(expected_rate, 0.0), 1.0)))
    if p_value < RED_BELOW:
        return RED, p_value
    if p_value < YELLOW_BELOW:
        return YELLOW, p_value
    return GREEN, p_value


def binomial_interval(k: int, n: int, confidence: float = INTERVAL_CONFIDENCE) -> tuple[float, float]:
    if n == 0:
        return 0.0, 1.0
    interval = binomtest(k, n).proportion_ci(confidence_level=confidence, method="exact")
    return float(interval.low), float(interval.high)


def roc_auc_from_counts(npl_by_score: dict[int, int], good_by_score: dict[int, int]) -> float | None:
    """ROC AUC of "a lower score means riskier" from counts per score (ties count half)."""
    positives, negatives = sum(npl_by_score.values()), sum(good_by_score.values())
    if positives == 0 or negatives == 0:
        return None
    scores = sorted(set(npl_by_score) | set(good_by_score))
    good = np.array([good_by_score.get(score, 0) for score in scores], dtype=np.float64)
    npl = np.array([npl_by_score.get(score, 0) for score in scores], dtype=np.float64)
    good_above = good[::-1].cumsum()[::-1] - good  # good applicants with a strictly higher score
    return float(np.sum(npl * (good_above + 0.5 * good)) / (positives * negatives))


class _Cell:
    """Counts of one group of predictions (a grade, a vintage, the whole cohort)."""

    def __init__(self):
        self.n = 0
        self.npl = 0
        self.probability_sum = 0.0
        self.true_positive = 0
        self.predicted_npl = 0
        self.npl_by_score: dict[int, int] = defaultdict(int)
        self.good_by_score: dict[int, int] = defaultdict(int)

    def add(self, row: dict) -> None:
        count = row["n"]
        self.n += count
        self.probability_sum += row["probability_sum"]
        if row["predicted_npl"]:
            self.predicted_npl += count
        if row["outcome_npl"]:
            self.npl += count
            self.npl_by_score[row["credit_score"]] += count
            if row["predicted_npl"]:
                self.true_positive += count
        else:
            self.good_by_score[row["credit_score"]] += count

    def figures(self) -> dict:
        expected = self.probability_sum / self.n if self.n else None
        observed = self.npl / self.n if self.n else None
        light, p_value = traffic_light(self.npl, self.n, expected or 0.0)
        low, high = binomial_interval(self.npl, self.n)
        auc = roc_auc_from_counts(self.npl_by_score, self.good_by_score)
        recall = self.true_positive / self.npl if self.npl else None
        recall_low, recall_high = binomial_interval(self.true_positive, self.npl, RECALL_BOUND_CONFIDENCE)
        return {
            "n": self.n,
            "npl": self.npl,
            "expected_rate": expected,
            "observed_rate": observed,
            "interval": [low, high],
            "p_value": p_value,
            "light": light,
            "roc_auc": auc,
            "gini": None if auc is None else 2 * auc - 1,
            "recall": recall,
            "recall_upper_bound": recall_high if self.npl else None,
            "precision": self.true_positive / self.predicted_npl if self.predicted_npl else None,
        }


def backtest_figures(rows, *, window_months: int, grades: tuple[str, ...]) -> dict:
    """The back-test of a cohort from its groups (dicts with ``vintage``, ``labelled_as_of``,
    ``risk_grade``, ``credit_score``, ``predicted_npl``, ``outcome_npl``, ``n``, ``probability_sum``).

    Groups whose vintage has not reached the outcome window count as pending.
    """
    overall, by_grade, by_vintage = _Cell(), defaultdict(_Cell), defaultdict(_Cell)
    pending = 0
    pending_until: date | None = None
    for row in rows:
        vintage = row["vintage"]
        reached = window_end(vintage, window_months)
        if row["labelled_as_of"] is None or row["outcome_npl"] is None or row["labelled_as_of"] < reached:
            pending += row["n"]
            pending_until = reached if pending_until is None else min(pending_until, reached)
            continue
        overall.add(row)
        by_grade[row["risk_grade"]].add(row)
        by_vintage[vintage].add(row)
    known_grades = [grade for grade in grades if grade in by_grade]
    other_grades = sorted(set(by_grade) - set(grades))
    return {
        "window_months": window_months,
        "pending": pending,
        "first_pending_window_end": pending_until.isoformat() if pending_until else None,
        "overall": overall.figures(),
        "grades": [{"grade": grade, **by_grade[grade].figures()} for grade in [*known_grades, *other_grades]],
        "vintages": [
            {"vintage": vintage.strftime("%Y-%m"), **by_vintage[vintage].figures()} for vintage in sorted(by_vintage)
        ],
    }
