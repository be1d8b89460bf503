"""The credit scorecard candidate: its points reproduce its probabilities, its table reads as a scorecard."""

import numpy as np
import pytest

from credit.credit_scorecard import CreditScorecard
from credit.model_search import build_candidate_pipeline, features_and_labels


@pytest.fixture(scope="module")
def fitted(small_frame):
    X, y = features_and_labels(small_frame)
    pipeline = build_candidate_pipeline("CreditScorecard", "none", CreditScorecard(max_n_bins=5), None)
    return pipeline.fit(X, y), X


def test_the_points_reproduce_the_probabilities(fitted):
    pipeline, X = fitted
    scorecard = pipeline.named_steps["classifier"]
    features = pipeline.named_steps["encoder"].transform(X)

    per_attribute = scorecard.points_by_attribute(features)
    total = scorecard.points(features)

    np.testing.assert_allclose(per_attribute.sum(axis=1).to_numpy(), total, rtol=0, atol=1e-9)
    np.testing.assert_allclose(scorecard.probability_from_points(total), pipeline.predict_proba(X)[:, 1], atol=1e-12)


def test_more_points_mean_lower_risk_on_the_product_scale(fitted):
    pipeline, X = fitted
    scorecard = pipeline.named_steps["classifier"]
    # 600 points are good:bad odds of 50:1; 40 more points double them.
    assert scorecard.probability_from_points(600) == pytest.approx(1 / 51)
    assert scorecard.probability_from_points(640) == pytest.approx(1 / 101)
    features = pipeline.named_steps["encoder"].transform(X)
    order = np.argsort(scorecard.points(features))
    probability = pipeline.predict_proba(X)[:, 1]
    assert np.all(np.diff(probability[order]) <= 1e-12)


def test_the_points_table_lists_every_attribute_with_readable_bins(fitted):
    pipeline, _ = fitted
    table = pipeline.named_steps["classifier"].points_table()

    features = {row["feature"] for row in table}
    assert {"pekerjaan", "housing_type", "dp_ratio", "installment_to_income", "log_monthly_income"} <= features
    assert "log_lama_bekerja" not in features  # bins exactly like lama_bekerja
    income_bins = [row["bin"] for row in table if row["feature"] == "log_monthly_income"]
    assert all("Rp" in text for text in income_bins)  # amounts back in rupiah, not logarithms
    occupations = [row["bin"] for row in table if row["feature"] == "pekerjaan"]
    assert any("Buruh" in text for text in occupations)
    # Categories sharing a bin read as a list of names, not as the library's array type.
    assert all("Array" not in text and "[" not in text for text in occupations), occupations
    assert all(isinstance(row["points"], float) for row in table)


def test_an_unseen_category_still_scores(fitted):
    pipeline, X = fitted
    odd = X.head(3).copy()
    odd["pekerjaan"] = "Astronaut"
    probability = pipeline.predict_proba(odd)[:, 1]
    assert np.all((probability > 0) & (probability < 1))


def test_the_points_follow_the_policy_s_score_scaling(small_frame):
    """One ScorecardParameters scales the product's score and the scorecard's points: under a policy
    with other base points, odds and PDO, an applicant's points are the product's credit score of the
    scorecard's own probability (before the 300–850 clip and rounding)."""
    from credit.scorecard import ScorecardParameters, npl_probability_at_score

    scaling = ScorecardParameters(base_points=700.0, base_odds=20.0, pdo=25.0)
    X, y = features_and_labels(small_frame)
    pipeline = build_candidate_pipeline("CreditScorecard", "none", CreditScorecard(scaling=scaling), None).fit(X, y)
    scorecard = pipeline.named_steps["classifier"]
    assert scorecard.probability_from_points(700) == pytest.approx(1 / 21)
    assert scorecard.probability_from_points(725) == pytest.approx(1 / 41)
    points = scorecard.points(pipeline.named_steps["encoder"].transform(X))
    np.testing.assert_allclose(
        npl_probability_at_score(points, scaling), pipeline.predict_proba(X)[:, 1], rtol=0, atol=1e-9
    )
