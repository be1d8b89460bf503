"""The scorecard maths: score scaling, grades, expected loss, recommendation."""

import math

import numpy as np
import pytest
from django.core.checks import run_checks
from django.test import override_settings

from credit.scorecard import (
    APPROVE,
    DECLINE,
    REVIEW,
    ScorecardConfigurationError,
    ScorecardParameters,
    credit_score,
    expected_loss,
    npl_probability_at_score,
    parse_grade_bands,
    recommendation,
    risk_grade,
    score_scaling,
)
from scoring.policies import environment_parameters

DEFAULTS = ScorecardParameters()


def test_scaling_constants_follow_points_to_double_the_odds():
    factor, offset = score_scaling(600, 50, 40)
    assert factor == pytest.approx(40 / math.log(2))
    assert offset == pytest.approx(600 - 40 / math.log(2) * math.log(50))


@pytest.mark.parametrize(
    ("probability", "expected"),
    [
        (1 / 51, 600),  # good:bad odds 50:1 → the base points
        (1 / 101, 640),  # odds doubled (100:1) → + PDO
        (1 / 26, 560),  # odds halved (25:1) → − PDO
        (0.02, 599),
        (0.10, 501),
        (0.20, 454),
        (0.5, 374),
    ],
)
def test_known_scores(probability, expected):
    assert credit_score(probability, DEFAULTS) == expected


def test_score_is_monotone_decreasing_in_probability_and_bounded():
    probabilities = np.linspace(0.0, 1.0, 2001)
    scores = credit_score(probabilities, DEFAULTS)
    assert scores.dtype == np.int64
    assert np.all(np.diff(scores) <= 0)
    assert scores.min() == 300 and scores.max() == 850
    assert credit_score(0.0, DEFAULTS) == 850 and credit_score(1.0, DEFAULTS) == 300


def test_inverse_gives_back_the_probability():
    for score in (350, 455, 500, 545, 600, 800):
        assert credit_score(npl_probability_at_score(score, DEFAULTS), DEFAULTS) == score


def test_custom_scaling_changes_scores():
    steeper = ScorecardParameters(base_points=600, base_odds=50, pdo=20)
    assert credit_score(1 / 101, steeper) == 620
    assert credit_score(1 / 51, ScorecardParameters(base_points=650, base_odds=50, pdo=40)) == 650


@pytest.mark.parametrize(
    ("score", "grade"),
    [
        (850, "A"),
        (600, "A"),
        (599, "B"),
        (545, "B"),
        (544, "C"),
        (500, "C"),
        (499, "D"),
        (455, "D"),
        (454, "E"),
        (300, "E"),
    ],
)
def test_default_grade_bands(score, grade):
    assert risk_grade(score, DEFAULTS) == grade


def test_default_bands_correspond_to_documented_probabilities():
    # A ≥ 600 is PD ≲ 2 %; the E boundary is PD ≈ 20 %.
    assert npl_probability_at_score(600, DEFAULTS) == pytest.approx(0.0196, abs=5e-4)
    assert npl_probability_at_score(545, DEFAULTS) == pytest.approx(0.049, abs=1e-3)
    assert npl_probability_at_score(455, DEFAULTS) == pytest.approx(0.198, abs=2e-3)


def test_grades_are_vectorised_and_configurable():
    bands = parse_grade_bands("AA:700,A:600,B:500,C")
    params = ScorecardParameters(grade_bands=bands)
    assert list(risk_grade(np.array([720, 650, 550, 420]), params)) == ["AA", "A", "B", "C"]
    assert parse_grade_bands("A:600,B:545").lowest_grade == "C"


@pytest.mark.parametrize(
    "text",
    ["", "A600", "A:600,B:650", "A:600,A:500", "A:x", "A:600,B:545,A"],
)
def test_bad_grade_bands_are_refused_with_a_message(text):
    with pytest.raises(ScorecardConfigurationError, match="RISK_GRADE_BANDS"):
        parse_grade_bands(text)


def test_expected_loss_is_pd_times_lgd_times_financed_amount():
    loss = expected_loss(
        np.array([0.1, 0.5]), np.array([200_000_000, 100_000_000]), np.array([50_000_000, 0]), DEFAULTS
    )
    assert list(loss) == [round(0.1 * 0.45 * 150_000_000), round(0.5 * 0.45 * 100_000_000)]
    assert expected_loss(0.2, 100, 100, DEFAULTS) == 0
    assert expected_loss(0.1, 1_000_000, 0, ScorecardParameters(lgd=1.0)) == 100_000


def test_recommendation_rules():
    pd_ = np.array([0.01, 0.01, 0.04, 0.30, 0.35, 0.10])
    is_npl = np.array([False, True, False, False, False, False])
    scores = credit_score(pd_, DEFAULTS)
    assert list(recommendation(pd_, is_npl, scores, DEFAULTS)) == [APPROVE, REVIEW, APPROVE, DECLINE, DECLINE, REVIEW]
    # Decline wins even when the label says not-NPL and a lenient cutoff would approve.
    lenient = ScorecardParameters(approve_min_score=300, decline_min_pd=0.3)
    assert recommendation(0.31, False, 400, lenient) == DECLINE


@pytest.mark.parametrize(
    ("changes", "setting"),
    [
        ({"pdo": 0}, "SCORE_PDO"),
        ({"base_odds": -1}, "SCORE_BASE_ODDS"),
        ({"lgd": 1.5}, "LGD"),
        ({"decline_min_pd": 0}, "DECLINE_MIN_PD"),
        ({"base_points": 1e20}, "SCORE_BASE_POINTS"),
        ({"base_odds": 1e300}, "SCORE_BASE_ODDS"),
        ({"pdo": 1e6}, "SCORE_PDO"),
        ({"approve_min_score": 900}, "APPROVE_MIN_SCORE"),
        ({"grade_bands": parse_grade_bands("A:600,B:-5")}, "RISK_GRADE_BANDS"),
    ],
)
def test_parameters_out_of_range_are_refused(changes, setting):
    with pytest.raises(ScorecardConfigurationError, match=setting):
        ScorecardParameters(**changes)


def test_environment_parameters_come_from_settings():
    with override_settings(SCORE_PDO=20.0, LGD=0.6, RISK_GRADE_BANDS="A:700,B:600"):
        params = environment_parameters()
    assert params.pdo == 20.0 and params.lgd == 0.6 and params.grade_bands.all_grades == ("A", "B", "C")


def test_system_check_reports_a_bad_setting():
    with override_settings(RISK_GRADE_BANDS="A:500,B:600"):
        errors = [e for e in run_checks() if e.id == "scoring.E001"]
    assert errors and "RISK_GRADE_BANDS" in errors[0].msg
    assert not [e for e in run_checks() if e.id == "scoring.E001"]
