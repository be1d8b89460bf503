"""The model search: honest splits, resampling inside training folds only, thresholds, calibration."""

from collections import defaultdict

import numpy as np
import pandas as pd
import pytest
from imblearn.over_sampling import SMOTE, RandomOverSampler

from training.pipeline import (
    ALGORITHMS,
    BALANCINGS,
    MIN_APPLICANTS_PER_CLASS,
    PROFILES,
    TrainingDataError,
    choose_threshold,
    features_and_labels,
    make_sampler,
    narrowed_profile,
    search_best_model,
    split_by_applicant,
)

# Row ids (app_id) each RecordingOverSampler was given, by its record key. Samplers are cloned by
# the search, so they find their log through a key (a constructor parameter), not an attribute.
SAMPLER_CALLS: dict[str, list[list[int]]] = defaultdict(list)


class RecordingOverSampler(RandomOverSampler):
    """Random oversampling that writes down which applicants it was asked to resample."""

    def __init__(self, *, record_key="default", sampling_strategy="auto", random_state=None, shrinkage=None):
        super().__init__(sampling_strategy=sampling_strategy, random_state=random_state, shrinkage=shrinkage)
        self.record_key = record_key

    def fit_resample(self, X, y, **params):
        SAMPLER_CALLS[self.record_key].append([int(app_id) for app_id in y.index])
        return super().fit_resample(X, y, **params)


def ids(frame: pd.DataFrame) -> set[int]:
    return set(frame["app_id"].astype(int))


class TestSplit:
    def test_no_applicant_is_in_two_splits_and_none_is_lost(self, small_frame):
        split = split_by_applicant(small_frame, seed=4)

        train, validation, test = ids(split.train), ids(split.validation), ids(split.test)
        assert not train & validation and not train & test and not validation & test
        assert train | validation | test == ids(small_frame)
        assert len(train) == pytest.approx(0.6 * len(small_frame), abs=2)
        assert len(test) == pytest.approx(0.2 * len(small_frame), abs=2)

    def test_each_split_has_the_npl_rate_of_the_whole(self, small_frame):
        split = split_by_applicant(small_frame, seed=4)
        rate = small_frame["is_npl"].mean()
        for part in (split.train, split.validation, split.test):
            assert part["is_npl"].mean() == pytest.approx(rate, abs=0.01)

    def test_the_seed_decides_the_split(self, small_frame):
        first, again, other = (split_by_applicant(small_frame, seed=s) for s in (4, 4, 5))
        assert ids(first.test) == ids(again.test)
        assert ids(first.test) != ids(other.test)

    def test_out_of_time_tests_on_the_latest_disbursements(self, small_frame):
        split = split_by_applicant(small_frame, seed=4, out_of_time=True)
        assert split.train["disbursement_date"].max() <= split.validation["disbursement_date"].min()
        assert split.validation["disbursement_date"].max() <= split.test["disbursement_date"].min()
        assert len(ids(split.train) | ids(split.validation) | ids(split.test)) == len(small_frame)

    def test_duplicate_applicants_are_refused(self, small_frame):
        doubled = pd.concat([small_frame, small_frame.iloc[:1]])
        with pytest.raises(TrainingDataError, match="more than once|unique"):
            search_best_model(doubled, profile="smoke")


def test_resampling_only_ever_sees_training_rows(small_frame):
    key = "only-training-rows"
    SAMPLER_CALLS.pop(key, None)
    profile = narrowed_profile("smoke", algorithms=("LogisticRegression",), balancings=("oversampling",), n_iter=2)

    def recording_factory(balancing, seed):
        return RecordingOverSampler(record_key=key, random_state=seed)

    result = search_best_model(small_frame, profile=profile, seed=2, sampler_factory=recording_factory)

    calls = SAMPLER_CALLS[key]
    train = ids(result.split.train)
    held_out = ids(result.split.validation) | ids(result.split.test)
    # n_iter settings × cv folds fits on training folds, plus the refit on the whole training split.
    assert len(calls) == profile.n_iter * profile.cv_folds + 1
    for seen in calls:
        assert set(seen) <= train
        assert not set(seen) & held_out
    fold_fits, refit = calls[:-1], calls[-1]
    assert set(refit) == train
    for seen in fold_fits:
        # A training fold: about (k-1)/k of the training split, never its scoring fold.
        assert len(seen) == pytest.approx(len(train) * (profile.cv_folds - 1) / profile.cv_folds, abs=2)


def test_each_candidate_threshold_reaches_the_recall_target_on_validation(smoke_search):
    target = smoke_search.model.recall_target
    selection = smoke_search.validation_metrics["selection_recall"]
    assert selection > target  # the safety margin
    X_val, y_val = features_and_labels(smoke_search.split.validation)
    for candidate in smoke_search.candidates:
        probability = candidate.pipeline.predict_proba(X_val)[:, 1]
        predicted = probability >= candidate.validation.threshold
        recall = (predicted & (y_val == 1)).sum() / (y_val == 1).sum()
        assert recall >= selection
        assert candidate.validation.recall == pytest.approx(recall, abs=1e-6)
    # The final, calibrated model's threshold too.
    calibrated = smoke_search.model.predict_npl_probability(X_val)
    assert ((calibrated >= smoke_search.model.threshold) & (y_val == 1)).sum() / (y_val == 1).sum() >= selection


def test_winner_has_the_best_validation_precision_at_the_target(smoke_search):
    board = smoke_search.leaderboard()
    assert len(board) == len(PROFILES["smoke"].algorithms) * len(PROFILES["smoke"].balancings)
    assert board[0]["winner"] and sum(row["winner"] for row in board) == 1
    assert board[0]["validation_precision"] == max(row["validation_precision"] for row in board)
    assert board[0]["name"] == smoke_search.model.name
    for row in board:
        assert {"algorithm", "balancing", "best_params", "cv_score", "threshold", "fit_seconds"} <= row.keys()


def test_choose_threshold_takes_the_best_precision_with_enough_recall():
    y = np.array([1, 1, 1, 1, 0, 1, 0, 0, 1, 0])
    p = np.array([0.9, 0.8, 0.7, 0.6, 0.55, 0.5, 0.4, 0.3, 0.2, 0.1])

    choice = choose_threshold(y, p, recall_target=0.8)  # 5 of the 6 NPL: take down to 0.5

    assert choice.threshold == 0.5
    assert choice.recall == pytest.approx(5 / 6)
    assert choice.precision == pytest.approx(5 / 6)
    assert choose_threshold(y, p, recall_target=1.0).threshold == 0.2


def test_calibration_brings_resampled_probabilities_back_to_the_real_npl_rate(small_frame):
    profile = narrowed_profile("smoke", algorithms=("LogisticRegression",), balancings=("oversampling",))
    result = search_best_model(small_frame, profile=profile, seed=3)
    X_val, y_val = features_and_labels(result.split.validation)

    raw = result.model.pipeline.predict_proba(X_val)[:, 1]
    calibrated = result.model.predict_npl_probability(X_val)

    # Oversampling to 50/50 inflates the raw probabilities far above the real NPL rate ...
    assert raw.mean() > 2 * y_val.mean()
    # ... calibration on validation brings them back, and the Brier score improves.
    assert calibrated.mean() == pytest.approx(y_val.mean(), abs=0.02)
    assert result.validation_metrics["brier"] < result.validation_metrics["brier_before_calibration"]


def test_test_metrics_are_complete(smoke_search):
    metrics = smoke_search.test_metrics
    n_test = len(smoke_search.split.test)
    for key in ("precision", "recall", "f1", "accuracy", "roc_auc", "pr_auc", "brier", "threshold"):
        assert 0 <= metrics[key] <= 1, key
    matrix = metrics["confusion_matrix"]
    assert sum(matrix.values()) == n_test
    assert matrix["tp"] + matrix["fn"] == smoke_search.split.test["is_npl"].sum()
    assert 2 <= len(metrics["roc_curve"]) <= 51 and 2 <= len(metrics["pr_curve"]) <= 51
    assert sum(row["count"] for row in metrics["calibration"]) == n_test
    assert len(metrics["calibration"]) == 10


def test_the_same_seed_gives_the_same_model(small_frame, smoke_search):
    again = search_best_model(small_frame, profile="smoke", seed=1)

    def comparable(board):
        return [{k: v for k, v in row.items() if k != "fit_seconds"} for row in board]

    assert comparable(again.leaderboard()) == comparable(smoke_search.leaderboard())
    assert again.model.threshold == smoke_search.model.threshold
    assert again.test_metrics == smoke_search.test_metrics


def test_every_profile_offered_for_real_training_covers_every_algorithm_and_balancing():
    for name in ("quick", "full"):
        assert set(PROFILES[name].algorithms) == set(ALGORITHMS)
        assert set(PROFILES[name].balancings) == set(BALANCINGS)
    assert make_sampler("class_weight", 0) is None


def test_a_candidate_that_cannot_train_is_reported_and_the_search_goes_on(small_frame):
    profile = narrowed_profile("smoke", algorithms=("LogisticRegression",), balancings=("smote", "class_weight"))

    def factory(balancing, seed):
        # More neighbours than NPL applicants in any fold: SMOTE cannot work.
        return SMOTE(k_neighbors=5_000, random_state=seed) if balancing == "smote" else make_sampler(balancing, seed)

    result = search_best_model(small_frame, profile=profile, seed=1, sampler_factory=factory)

    rows = {row["balancing"]: row for row in result.leaderboard()}
    assert rows["smote"]["error"] and rows["smote"]["validation_precision"] is None
    assert result.model.balancing == "class_weight"


class TestDataThatCannotTrain:
    def test_no_applicants(self, small_frame):
        with pytest.raises(TrainingDataError, match="No labelled applicants"):
            search_best_model(small_frame.iloc[0:0], profile="smoke")

    def test_one_class_only(self, small_frame):
        performing = small_frame[~small_frame["is_npl"]]
        with pytest.raises(TrainingDataError, match="are non-NPL"):
            search_best_model(performing, profile="smoke")

    def test_too_few_npl(self, small_frame):
        npl = small_frame[small_frame["is_npl"]].iloc[: MIN_APPLICANTS_PER_CLASS - 1]
        few = pd.concat([small_frame[~small_frame["is_npl"]], npl])
        with pytest.raises(TrainingDataError, match=f"Only {MIN_APPLICANTS_PER_CLASS - 1} NPL"):
            search_best_model(few, profile="smoke")


@pytest.mark.slow
def test_quick_profile_trains_every_algorithm_with_every_balancing(small_frame):
    result = search_best_model(small_frame, profile="quick", seed=5)

    board = result.leaderboard()
    assert {(row["algorithm"], row["balancing"]) for row in board} == {(a, b) for a in ALGORITHMS for b in BALANCINGS}
    assert [row["name"] for row in board if row["error"]] == []
