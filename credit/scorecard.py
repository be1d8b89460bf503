"""From an NPL probability to what a credit analyst decides with: score, grade, expected loss, advice.

Pure, vectorised functions (numpy arrays in, numpy arrays out; scalars work too). The parameters
are those of the active decision policy (:class:`scoring.models.DecisionPolicy`, read through
:func:`scoring.policies.current_policy`); the environment variables of the "Scoring" section of
``nplsite/settings.py`` (:func:`scoring.policies.environment_parameters`) are only the defaults of the first policy.
Every function takes the parameters explicitly, so the maths can be tested and reused without
Django; :func:`decide` is the one place where a probability becomes score, grade, expected loss and
recommendation (the engine, re-scoring under another policy and the strategy curves all use it).

**Credit score** — the usual "points to double the odds" scaling of a scorecard::

    odds of good = (1 − PD) / PD
    factor       = PDO / ln 2
    offset       = base_points − factor · ln(base_odds)
    score        = offset + factor · ln(odds of good)           clipped to 300–850, rounded

With the defaults (600 points at good:bad odds of 50:1, 40 points to double the odds) a PD of 2 %
scores ≈ 599, 1 % ≈ 639, 4 % ≈ 557, 10 % ≈ 501, 20 % ≈ 454; the 300 floor is reached at a PD of
≈ 78 % and the 850 ceiling at ≈ 0.03 %. A higher score always means a lower PD.

**Risk grade** — score bands, best first (the policy's ``grade_bands``; first default
``RISK_GRADE_BANDS``, ``A:600,B:545,C:500,D:455``,
a score below the last band gets the next letter, ``E``). With the default scaling the bands are
PD ≲ 2 % (A), ≲ 5 % (B), ≲ 10 % (C), ≲ 20 % (D) and above (E).

**Expected loss** in rupiah = PD × LGD × EAD, with EAD (exposure at default) = otr − dp, the
amount financed. LGD (loss given default) defaults to 0.45: the Basel II/III foundation-IRB
supervisory LGD for senior unsecured claims. A vehicle loan is secured by the vehicle, so its real
LGD is usually lower; 0.45 is the conservative figure to use until the lender has measured its
own recoveries (then propose a policy with it).

**Recommendation** — ``decline`` when PD ≥ the policy's ``decline_min_pd`` (first default
``DECLINE_MIN_PD``, 0.30); ``approve`` only when the model's label is not-NPL *and* the score ≥
``approve_min_score`` (first default ``APPROVE_MIN_SCORE``, 545, grade B or better); ``review``
otherwise. Decline wins over approve.

**Knock-out rules** (:class:`KnockoutRules`, versioned with the policy, each optional) are read
before the score: an income floor, a minimum down payment as a share of the vehicle price (the
regulator sets minimums for vehicle financing), a maximum tenor, and a cap on the instalment (before
interest: amount financed ÷ tenor, as the model's encoder derives it) as a share of monthly income.
An applicant any rule catches gets the rules' action — ``decline``, or ``review`` to refer (a
referring rule stops an approval but never softens a decline) — whatever the score, and the first
rule that caught them (in :data:`RULES` order) is recorded with the decision.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

MIN_SCORE = 300
MAX_SCORE = 850
# PDs are kept inside (0, 1) before taking logs; beyond these the score is clipped anyway.
_PD_FLOOR = 1e-12

APPROVE = "approve"
REVIEW = "review"
DECLINE = "decline"
RECOMMENDATIONS = (APPROVE, REVIEW, DECLINE)

DEFAULT_RISK_GRADE_BANDS = "A:600,B:545,C:500,D:455"
_BAND = re.compile(r"^\s*([A-Za-z][A-Za-z0-9+\-]{0,3})\s*:\s*(-?\d+(?:\.\d+)?)\s*$")


class ScorecardConfigurationError(ValueError):
    """A scorecard setting cannot be used; the message names the setting and the problem."""


@dataclass(frozen=True)
class GradeBands:
    """Grades best first with the minimum score of each, and the grade below the last band."""

    grades: tuple[str, ...]
    minimum_scores: tuple[float, ...]
    lowest_grade: str

    @property
    def all_grades(self) -> tuple[str, ...]:
        return (*self.grades, self.lowest_grade)


# The knock-out rules, in the order they are read (the first that catches an applicant is recorded).
RULE_MONTHLY_INCOME = "monthly_income"
RULE_DP_SHARE = "dp_share"
RULE_TENOR = "tenor"
RULE_INSTALLMENT_TO_INCOME = "installment_to_income"
RULES = (RULE_MONTHLY_INCOME, RULE_DP_SHARE, RULE_TENOR, RULE_INSTALLMENT_TO_INCOME)
# Each rule's figure and its sensible range (inclusive): a rule outside it is refused.
RULE_FIGURES = {
    RULE_MONTHLY_INCOME: "min_monthly_income",
    RULE_DP_SHARE: "min_dp_share",
    RULE_TENOR: "max_tenor",
    RULE_INSTALLMENT_TO_INCOME: "max_installment_to_income",
}
MIN_MONTHLY_INCOME_RANGE = (1.0, 1_000_000_000.0)  # rupiah a month
MIN_DP_SHARE_RANGE = (0.01, 0.9)  # of the vehicle price
MAX_TENOR_RANGE = (1.0, 120.0)  # months
MAX_INSTALLMENT_TO_INCOME_RANGE = (0.05, 2.0)  # instalment before interest ÷ monthly income
RULE_ACTIONS = (DECLINE, REVIEW)


@dataclass(frozen=True)
class KnockoutRules:
    """Hard rules read before the score (see "Knock-out rules" in the module docstring); ``None``: off."""

    min_monthly_income: float | None = None
    min_dp_share: float | None = None
    max_tenor: float | None = None
    max_installment_to_income: float | None = None
    action: str = DECLINE

    @property
    def any(self) -> bool:
        return any(getattr(self, figure) is not None for figure in RULE_FIGURES.values())

    def caught(self, monthly_income, otr, dp, tenor) -> np.ndarray:
        """The first rule that catches each applicant (``""``: none), as an array of rule names."""
        income = np.asarray(monthly_income, dtype=np.float64)
        otr, dp = np.asarray(otr, dtype=np.float64), np.asarray(dp, dtype=np.float64)
        tenor = np.asarray(tenor, dtype=np.float64)
        rule = np.full(income.shape, "", dtype=object)
        checks = {
            RULE_MONTHLY_INCOME: lambda limit: income < limit,
            RULE_DP_SHARE: lambda limit: dp < limit * otr,
            RULE_TENOR: lambda limit: tenor > limit,
            RULE_INSTALLMENT_TO_INCOME: lambda limit: (otr - dp) / np.maximum(tenor, 1.0) > limit * income,
        }
        for name in reversed(RULES):  # the first rule in RULES order wins: it is written last
            limit = getattr(self, RULE_FIGURES[name])
            if limit is not None:
                rule = np.where(checks[name](float(limit)), name, rule)
        return rule


@dataclass(frozen=True)
class ScorecardParameters:
    base_points: float = 600.0
    base_odds: float = 50.0
    pdo: float = 40.0
    grade_bands: GradeBands | None = None
    lgd: float = 0.45
    decline_min_pd: float = 0.30
    approve_min_score: float = 545.0
    rules: KnockoutRules = KnockoutRules()

    def __post_init__(self):
        if self.grade_bands is None:
            object.__setattr__(self, "grade_bands", parse_grade_bands(DEFAULT_RISK_GRADE_BANDS))
        check_parameters(self)


def _(text: str) -> str:
    """Marks ``text`` for translation (``makemessages`` collects it); the apps translate it when shown."""
    return text


# The sensible range of each policy figure (inclusive). A policy outside them is refused: under
# base points of 1e20 or odds of 1e300 every applicant scores 850, grade A, whatever their PD.
BASE_POINTS_RANGE = (float(MIN_SCORE), float(MAX_SCORE))  # the score's own scale
BASE_ODDS_RANGE = (1.0, 1000.0)  # good:bad odds at the base points, 1:1 to 1000:1
PDO_RANGE = (5.0, 200.0)  # points to double the odds
LGD_RANGE = (0.01, 1.0)  # loss given default, a share of the amount financed
DECLINE_MIN_PD_RANGE = (0.01, 1.0)  # the PD from which an applicant is declined
APPROVE_MIN_SCORE_RANGE = (float(MIN_SCORE), float(MAX_SCORE))
GRADE_BAND_RANGE = (float(MIN_SCORE), float(MAX_SCORE))  # each band's minimum score
# The environment variable that gives each figure's first default.
SETTING_NAMES = {
    "base_points": "SCORE_BASE_POINTS",
    "base_odds": "SCORE_BASE_ODDS",
    "pdo": "SCORE_PDO",
    "lgd": "LGD",
    "decline_min_pd": "DECLINE_MIN_PD",
    "approve_min_score": "APPROVE_MIN_SCORE",
    "grade_bands": "RISK_GRADE_BANDS",
}
_RANGES = {
    "base_points": BASE_POINTS_RANGE,
    "base_odds": BASE_ODDS_RANGE,
    "pdo": PDO_RANGE,
    "lgd": LGD_RANGE,
    "decline_min_pd": DECLINE_MIN_PD_RANGE,
    "approve_min_score": APPROVE_MIN_SCORE_RANGE,
}
_RULE_RANGES = {
    "min_monthly_income": MIN_MONTHLY_INCOME_RANGE,
    "min_dp_share": MIN_DP_SHARE_RANGE,
    "max_tenor": MAX_TENOR_RANGE,
    "max_installment_to_income": MAX_INSTALLMENT_TO_INCOME_RANGE,
}
OUT_OF_RANGE = _("must be between %(low)s and %(high)s, got %(value)s")
UNKNOWN_RULE_ACTION = _("must be decline or review, got %(value)s")
BAND_OUT_OF_RANGE = _("every band's minimum score must be between %(low)s and %(high)s, got %(value)s")


@dataclass(frozen=True)
class ParameterProblem:
    """One figure out of its range: the field, an English message template (marked for translation)
    and its values."""

    field: str
    template: str
    values: dict

    def text(self, translate=lambda template: template) -> str:
        return translate(self.template) % self.values


def _number(value: float) -> str:
    return f"{value:g}"


def parameter_problems(figures: dict, band_minimums=()) -> list[ParameterProblem]:
    """Every figure outside its documented range (``[]``: all usable): ``figures`` maps the names of
    :data:`SETTING_NAMES` (but ``grade_bands``) to numbers; ``band_minimums``: the grade bands' scores."""
    problems = []
    for name, (low, high) in _RANGES.items():
        value = float(figures[name])
        if not (math.isfinite(value) and low <= value <= high):
            values = {"low": _number(low), "high": _number(high), "value": _number(value)}
            problems.append(ParameterProblem(name, OUT_OF_RANGE, values))
    for name, (low, high) in _RULE_RANGES.items():
        value = figures.get(name)
        if value is None:  # the rule is off
            continue
        value = float(value)
        if not (math.isfinite(value) and low <= value <= high):
            values = {"low": _number(low), "high": _number(high), "value": _number(value)}
            problems.append(ParameterProblem(name, OUT_OF_RANGE, values))
    action = figures.get("knockout_action", DECLINE)
    if action not in RULE_ACTIONS:
        problems.append(ParameterProblem("knockout_action", UNKNOWN_RULE_ACTION, {"value": action}))
    low, high = GRADE_BAND_RANGE
    outside = [score for score in band_minimums if not low <= score <= high]
    if outside:
        values = {"low": _number(low), "high": _number(high), "value": _number(outside[0])}
        problems.append(ParameterProblem("grade_bands", BAND_OUT_OF_RANGE, values))
    return problems


def check_parameters(parameters: ScorecardParameters) -> None:
    """Raise :class:`ScorecardConfigurationError` naming each setting that is out of range."""
    figures = {name: getattr(parameters, name) for name in _RANGES}
    figures.update({name: getattr(parameters.rules, name) for name in _RULE_RANGES})
    figures["knockout_action"] = parameters.rules.action
    problems = parameter_problems(figures, parameters.grade_bands.minimum_scores)
    if problems:
        raise ScorecardConfigurationError(
            "; ".join(f"{SETTING_NAMES.get(problem.field, problem.field)} {problem.text()}" for problem in problems)
        )


@lru_cache(maxsize=16)
def parse_grade_bands(text: str) -> GradeBands:
    """``"A:600,B:545,C:500,D:455"`` → grades A–D with their minimum scores and ``E`` below them.

    Bands are listed best first with strictly decreasing minimum scores. A final entry without a
    score (``"...,D:455,E"``) names the lowest grade; otherwise it is the letter after the last one.
    """
    entries = [entry.strip() for entry in text.split(",") if entry.strip()]
    if not entries:
        raise ScorecardConfigurationError("RISK_GRADE_BANDS is empty; expected e.g. 'A:600,B:545,C:500,D:455'")
    lowest_grade = None
    if ":" not in entries[-1]:
        lowest_grade = entries.pop().strip()
    grades, minimums = [], []
    for entry in entries:
        match = _BAND.match(entry)
        if not match:
            raise ScorecardConfigurationError(
                f"RISK_GRADE_BANDS entry {entry!r} is not GRADE:MIN_SCORE; expected e.g. 'A:600,B:545,C:500,D:455'"
            )
        grades.append(match.group(1))
        minimums.append(float(match.group(2)))
    if not grades:
        raise ScorecardConfigurationError("RISK_GRADE_BANDS needs at least one GRADE:MIN_SCORE band")
    if any(later >= earlier for earlier, later in zip(minimums, minimums[1:], strict=False)):
        raise ScorecardConfigurationError(
            f"RISK_GRADE_BANDS minimum scores must decrease from the best grade to the worst, got {minimums}"
        )
    if lowest_grade is None:
        last = grades[-1]
        lowest_grade = last[:-1] + chr(ord(last[-1]) + 1)
    if len(set(grades + [lowest_grade])) != len(grades) + 1:
        raise ScorecardConfigurationError(f"RISK_GRADE_BANDS names a grade twice: {text!r}")
    return GradeBands(grades=tuple(grades), minimum_scores=tuple(minimums), lowest_grade=lowest_grade)


def score_scaling(base_points: float, base_odds: float, pdo: float) -> tuple[float, float]:
    """``(factor, offset)`` of score = offset + factor · ln(odds of good)."""
    factor = pdo / math.log(2)
    offset = base_points - factor * math.log(base_odds)
    return factor, offset


def credit_score(npl_probability, parameters: ScorecardParameters | None = None) -> np.ndarray:
    """Integer credit score(s) on the 300–850 scale; higher is safer. See the module docstring."""
    parameters = parameters or ScorecardParameters()
    factor, offset = score_scaling(parameters.base_points, parameters.base_odds, parameters.pdo)
    # np.minimum/np.maximum rather than np.clip: the same values, without np.clip's per-call overhead.
    pd_ = np.minimum(np.maximum(np.asarray(npl_probability, dtype=np.float64), _PD_FLOOR), 1 - _PD_FLOOR)
    log_odds_good = np.log1p(-pd_) - np.log(pd_)
    scores = np.minimum(np.maximum(offset + factor * log_odds_good, MIN_SCORE), MAX_SCORE)
    return np.rint(scores).astype(np.int64)


def npl_probability_at_score(score, parameters: ScorecardParameters | None = None) -> np.ndarray:
    """The PD that scores exactly ``score`` (inverse of :func:`credit_score` before rounding)."""
    parameters = parameters or ScorecardParameters()
    factor, offset = score_scaling(parameters.base_points, parameters.base_odds, parameters.pdo)
    odds_good = np.exp((np.asarray(score, dtype=np.float64) - offset) / factor)
    return 1.0 / (1.0 + odds_good)


def risk_grade(score, parameters: ScorecardParameters | None = None) -> np.ndarray:
    """Grade letter(s) for score(s): the first band (best first) whose minimum the score reaches."""
    parameters = parameters or ScorecardParameters()
    bands = parameters.grade_bands
    scores = np.asarray(score, dtype=np.float64)
    # Minimums decrease, so the number of bands the score does NOT reach is the index of its grade.
    not_reached = (scores[..., None] < np.asarray(bands.minimum_scores)).sum(axis=-1)
    return np.asarray(bands.all_grades, dtype=object)[not_reached]


def exposure_at_default(otr, dp) -> np.ndarray:
    """EAD in rupiah: the amount financed, otr − dp (never negative)."""
    return np.maximum(np.asarray(otr, dtype=np.int64) - np.asarray(dp, dtype=np.int64), 0)


def expected_loss(npl_probability, otr, dp, parameters: ScorecardParameters | None = None) -> np.ndarray:
    """Expected loss in whole rupiah: PD × LGD × (otr − dp)."""
    parameters = parameters or ScorecardParameters()
    ead = exposure_at_default(otr, dp).astype(np.float64)
    return np.rint(np.asarray(npl_probability, dtype=np.float64) * parameters.lgd * ead).astype(np.int64)


def recommendation(npl_probability, is_npl, score, parameters: ScorecardParameters | None = None) -> np.ndarray:
    """``approve`` / ``review`` / ``decline`` per applicant; see the module docstring for the rule."""
    parameters = parameters or ScorecardParameters()
    pd_ = np.asarray(npl_probability, dtype=np.float64)
    decline = pd_ >= parameters.decline_min_pd
    approve = ~np.asarray(is_npl, dtype=bool) & (np.asarray(score, dtype=np.float64) >= parameters.approve_min_score)
    # Nested np.where rather than np.select: the same choice (decline first), at a third of the cost.
    return np.where(decline, DECLINE, np.where(approve, APPROVE, REVIEW)).astype(object)


@dataclass(frozen=True)
class Decisions:
    """What the scorecard makes of n probabilities: parallel arrays, index i is applicant i."""

    credit_score: np.ndarray
    risk_grade: np.ndarray
    expected_loss: np.ndarray
    recommendation: np.ndarray
    knockout_rule: np.ndarray  # the knock-out rule that decided (``""``: the score decided)


def decide(
    npl_probability, is_npl, otr, dp, parameters: ScorecardParameters, *, monthly_income=None, tenor=None
) -> Decisions:
    """Score, grade, expected loss and recommendation of applicants under ``parameters``; the policy's
    knock-out rules (which need ``monthly_income`` and ``tenor``) decide first where they catch."""
    score = credit_score(npl_probability, parameters)
    advice = recommendation(npl_probability, is_npl, score, parameters)
    rules = parameters.rules
    if rules.any:
        if monthly_income is None or tenor is None:
            raise ValueError("The policy has knock-out rules: give decide() monthly_income and tenor too.")
        rule = rules.caught(monthly_income, otr, dp, tenor)
        # A referring rule never softens a decline: it only stops an approval.
        caught = (rule != "") if rules.action == DECLINE else (rule != "") & (advice != DECLINE)
        advice = np.where(caught, rules.action, advice).astype(object)
    else:
        rule = np.full(np.shape(advice), "", dtype=object)
    return Decisions(
        credit_score=score,
        risk_grade=risk_grade(score, parameters),
        expected_loss=expected_loss(npl_probability, otr, dp, parameters),
        recommendation=advice,
        knockout_rule=rule,
    )
