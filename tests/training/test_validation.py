"""What a validator signs, computed in the credit core, kept with every version, and the scorecard on request."""

import math
from io import StringIO

import numpy as np
import pandas as pd
import pytest
from django.core.management import call_command
from sklearn.metrics import roc_curve

from credit.model_search import SCORECARD, search_best_model
from credit.validation import (
    bands_of,
    calibration_rows,
    characteristic_analysis,
    characteristic_values,
    gains_table,
    iv_strength,
    ks_statistic,
)
from tests.training.conftest import AS_OF
from training.models import ModelVersion, TrainingRun, VersionValidation
from training.services import request_retraining


@pytest.fixture(scope="module")
def halves(small_frame):
    development = small_frame.iloc[: len(small_frame) * 3 // 4]
    test = small_frame.iloc[len(small_frame) * 3 // 4 :]
    return development, test


def test_each_bins_counts_and_iv_recounted_from_the_applicants(halves):
    development, test = halves
    analysis = characteristic_analysis(development, test)
    dev_values, test_values = characteristic_values(development), characteristic_values(test)
    dev_y, test_y = development["is_npl"].to_numpy(bool), test["is_npl"].to_numpy(bool)
    assert [item["iv"] for item in analysis] == sorted((item["iv"] for item in analysis), reverse=True)
    for item in analysis:
        _, values = dev_values[item["name"]]
        _, held_out = test_values[item["name"]]
        for row in item["bins"]:
            if "categories" in row:
                members, test_members = np.isin(values, row["categories"]), np.isin(held_out, row["categories"])
            elif row.get("missing"):
                members, test_members = pd.isna(values), pd.isna(held_out)
            else:
                low = -math.inf if row["low"] is None else row["low"]
                high = math.inf if row["high"] is None else row["high"]
                members = (values >= low) & (values < high)
                test_members = (held_out >= low) & (held_out < high)
            assert row["count"] == members.sum() and row["npl"] == dev_y[members].sum(), (item["name"], row)
            assert row["test_count"] == test_members.sum() and row["test_npl"] == test_y[test_members].sum()
        npl, good = dev_y.sum(), (~dev_y).sum()
        iv = sum(
            (row["non_npl"] / good - row["npl"] / npl) * math.log((row["non_npl"] / good) / (row["npl"] / npl))
            for row in item["bins"]
            if row["npl"] and row["non_npl"]
        )
        assert item["iv"] == pytest.approx(iv) and item["strength"] == iv_strength(iv)
        assert sum(row["count"] for row in item["bins"]) == len(development)


def test_ks_with_tied_probabilities_is_the_roc_curves_largest_gap():
    rng = np.random.default_rng(4)
    probability = np.round(rng.random(500), 1)  # eleven distinct values: many ties
    outcome = (rng.random(500) < probability * 0.5).astype(int)
    fpr, tpr, thresholds = roc_curve(outcome, probability)
    best = int(np.argmax(tpr - fpr))
    ks = ks_statistic(outcome, probability)
    assert ks["ks"] == pytest.approx(tpr[best] - fpr[best]) and ks["probability"] == pytest.approx(thresholds[best])


def test_bands_hold_a_tenth_each_riskiest_first():
    probability = np.linspace(0.01, 0.9, 103)
    bands = bands_of(probability)
    sizes = np.bincount(bands)[1:]
    assert len(sizes) == 10 and sizes.max() - sizes.min() <= 1
    assert bands[np.argmax(probability)] == 1 and bands[np.argmin(probability)] == 10
    table = gains_table((probability > 0.6).astype(int), probability)
    assert table["bands"][-1]["cumulative_npl_share"] == pytest.approx(1.0)
    assert table["bands"][-1]["cumulative_lift"] == pytest.approx(1.0)


def test_calibration_rows_carry_the_backtests_interval_and_light():
    outcome = np.array([1] * 30 + [0] * 70)
    rows = calibration_rows(outcome, np.full(100, 0.05), ["A"] * 100, order=["A", "B"])
    assert [row["group"] for row in rows] == ["A"]  # an empty group is left out
    assert rows[0]["light"] == "red" and rows[0]["interval"][0] < 0.3 < rows[0]["interval"][1]


@pytest.mark.parametrize(
    ("outcome", "probability", "message"),
    [
        ([1, 0], [0.5], "equal-length"),
        ([], [], "at least one"),
        ([1, 0], [0.5, 1.5], "between 0 and 1"),
        ([1, 0], [0.5, float("nan")], "between 0 and 1"),
    ],
)
def test_bad_figures_input_is_refused_with_a_clear_message(outcome, probability, message):
    with pytest.raises(ValueError, match=message):
        gains_table(outcome, probability)


def test_the_scorecard_is_fitted_beside_a_model_the_profile_did_not_search_it_for(smoke_search):
    companion = smoke_search.scorecard
    assert smoke_search.winner.algorithm != SCORECARD and companion.source == "default"
    assert len(companion.test_probability) == len(smoke_search.split.test)
    assert {row["feature"] for row in companion.points_table} >= {"pekerjaan", "dp_ratio"}
    assert smoke_search.rule_choice is smoke_search.winner and smoke_search.requested is None
    assert len(smoke_search.test_probability) == len(smoke_search.split.test)


@pytest.mark.trains
def test_the_scorecard_is_registered_on_request_whatever_the_rule_chooses(small_frame):
    result = search_best_model(small_frame, profile="smoke", seed=1, candidate=SCORECARD)

    assert result.winner.algorithm == SCORECARD and result.requested == SCORECARD
    assert result.rule_choice.algorithm in ("LogisticRegression", "DecisionTreeClassifier", SCORECARD)
    assert (
        result.model.algorithm == SCORECARD and result.model.metadata["selection_rule"] == "requested: CreditScorecard"
    )
    assert result.scorecard.source == "chosen"
    np.testing.assert_allclose(result.scorecard.test_probability, result.test_probability)
    rows = {row["name"]: row for row in result.leaderboard()}
    assert rows["CreditScorecard-none"]["chosen"] and rows[result.rule_choice.name]["rule_choice"]
    with pytest.raises(ValueError, match="Unknown candidate 'forest'"):
        search_best_model(small_frame, profile="smoke", candidate="forest")


@pytest.mark.trains
def test_train_asks_for_the_scorecard_and_the_version_keeps_its_validation_record(imported_book):
    out = StringIO()
    call_command(
        "train",
        "--profile",
        "smoke",
        "--as-of",
        AS_OF.isoformat(),
        "--seed",
        "3",
        "--candidate",
        "scorecard",
        stdout=out,
    )

    version = ModelVersion.objects.get()
    run = TrainingRun.objects.get()
    assert version.algorithm == SCORECARD and run.parameters["candidate"] == SCORECARD
    assert version.metrics["selection"]["requested"] == SCORECARD
    assert "Registered the requested candidate CreditScorecard-none" in out.getvalue()
    record = VersionValidation.objects.get(model_version=version)
    assert record.scorecard["source"] == "chosen" and record.scorecard["points_table"]
    predictions = record.test_predictions
    assert len(predictions["app_id"]) == version.metrics["applicants"] == record.figures["gains"]["applicants"]
    assert sum(predictions["is_npl"]) == version.metrics["npl"]
    assert version.training_data["unlabelled"] == 0


def test_an_unknown_candidate_is_the_callers_error(model_admin):
    with pytest.raises(ValueError, match="Unknown candidate 'forest'"):
        request_retraining(model_admin, profile="smoke", recall_target=0.9, candidate="forest")
    assert not TrainingRun.objects.exists()
