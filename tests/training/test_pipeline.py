"""The model search: held-out test applicants, shared grouped folds, resampling inside training folds
only, the one-standard-error rule, out-of-fold calibration and threshold, the refit."""

from collections import defaultdict

import numpy as np
import pandas as pd
import pytest
from imblearn.over_sampling import SMOTE, RandomOverSampler
from scipy.optimize import minimize
from sklearn.base import clone
from sklearn.isotonic import IsotonicRegression
from sklearn.metrics import brier_score_loss

from credit.model_search import (
    ALGORITHMS,
    BALANCINGS,
    MIN_APPLICANTS_PER_CLASS,
    PROFILES,
    SIMPLICITY_ORDER,
    UNCERTAIN_BELOW_NPL,
    CandidateResult,
    Folds,
    TrainingDataError,
    choose_candidate,
    choose_threshold,
    development_folds,
    features_and_labels,
    make_sampler,
    narrowed_profile,
    out_of_fold_scores,
    search_best_model,
    split_development_test,
)
from credit.trained_model import ScoreCalibrator

# Row ids (app_id) each RecordingOverSampler was given, by its record key. Samplers are cloned by
# the search, so they find their log through a key (a constructor parameter), not an attribute.
SAMPLER_CALLS: dict[str, list[list[int]]] = defaultdict(list)


class RecordingOverSampler(RandomOverSampler):
    """Random oversampling that writes down which applicants it was asked to resample."""

    def __init__(self, *, record_key="default", sampling_strategy="auto", random_state=None, shrinkage=None):
        super().__init__(sampling_strategy=sampling_strategy, random_state=random_state, shrinkage=shrinkage)
        self.record_key = record_key

    def fit_resample(self, X, y, **params):
        # The search and the final refit pass the labels indexed by app_id; scikit-learn's
        # cross_val_predict (inside the calibration) passes a plain array: then (size, NPL count).
        if hasattr(y, "index"):
            SAMPLER_CALLS[self.record_key].append([int(app_id) for app_id in y.index])
        else:
            SAMPLER_CALLS[self.record_key].append((len(y), int(sum(y))))
        return super().fit_resample(X, y, **params)


def ids(frame: pd.DataFrame) -> set[int]:
    return set(frame["app_id"].astype(int))


class TestSplit:
    def test_no_applicant_is_on_both_sides_and_none_is_lost(self, small_frame):
        split = split_development_test(small_frame, seed=4)

        development, test = ids(split.development), ids(split.test)
        assert not development & test
        assert development | test == ids(small_frame)
        assert len(test) == pytest.approx(0.2 * len(small_frame), abs=2)

    def test_both_sides_have_the_npl_rate_of_the_whole(self, small_frame):
        split = split_development_test(small_frame, seed=4)
        rate = small_frame["is_npl"].mean()
        for part in (split.development, split.test):
            assert part["is_npl"].mean() == pytest.approx(rate, abs=0.01)

    def test_the_seed_decides_the_split(self, small_frame):
        first, again, other = (split_development_test(small_frame, seed=s) for s in (4, 4, 5))
        assert ids(first.test) == ids(again.test)
        assert ids(first.test) != ids(other.test)

    def test_out_of_time_tests_on_the_latest_disbursements(self, small_frame):
        split = split_development_test(small_frame, seed=4, out_of_time=True)
        assert split.development["disbursement_date"].max() <= split.test["disbursement_date"].min()
        assert len(ids(split.development) | ids(split.test)) == len(small_frame)

    @pytest.mark.trains
    def test_duplicate_applicants_are_refused(self, small_frame):
        doubled = pd.concat([small_frame, small_frame.iloc[:1]])
        with pytest.raises(TrainingDataError, match="more than once|unique"):
            search_best_model(doubled, profile="smoke")


class TestFolds:
    def test_folds_are_grouped_by_applicant_stratified_and_cover_the_development_set_once_per_repeat(self, small_frame):
        _, y = features_and_labels(small_frame)
        folds = development_folds(y, seed=3, n_splits=4, min_predictions=3 * len(y), max_repeats=5)

        assert folds.repeats == 3 and len(folds.splits) == 12
        app_ids = np.asarray(y.index)
        for repeat in range(folds.repeats):
            held_out = [folds.splits[repeat * 4 + k][1] for k in range(4)]
            assert sorted(np.concatenate(held_out)) == list(range(len(y)))  # each applicant once per repeat
        for train_rows, held_out_rows in folds.splits:
            assert not set(app_ids[train_rows]) & set(app_ids[held_out_rows])  # grouped by applicant
            assert y.iloc[held_out_rows].mean() == pytest.approx(y.mean(), abs=0.02)  # stratified on NPL
        # Repeats shuffle anew.
        assert not np.array_equal(np.sort(folds.splits[0][1]), np.sort(folds.splits[4][1]))

    def test_repeats_stop_at_the_profile_cap(self, small_frame):
        _, y = features_and_labels(small_frame)
        assert development_folds(y, seed=1, n_splits=5, min_predictions=100 * len(y), max_repeats=4).repeats == 4
        assert development_folds(y, seed=1, n_splits=5, min_predictions=0, max_repeats=4).repeats == 1


def recording_search(small_frame, key, profile, seed=2):
    SAMPLER_CALLS.pop(key, None)

    def recording_factory(balancing, seed):
        return RecordingOverSampler(record_key=key, random_state=seed)

    return search_best_model(small_frame, profile=profile, seed=seed, sampler_factory=recording_factory)


def test_resampling_only_ever_sees_training_rows_of_a_fold_and_never_a_test_applicant(small_frame):
    key = "only-training-rows"
    profile = narrowed_profile(
        "smoke",
        algorithms=("LogisticRegression",),
        balancings=("oversampling",),
        n_iter=2,
        max_repeats=2,
        min_oof_predictions=10_000,
    )
    result = recording_search(small_frame, key, profile)

    development, test = ids(result.split.development), ids(result.split.test)
    _, y_dev = features_and_labels(result.split.development)
    app_ids = np.asarray(y_dev.index)
    fold_training_sets = [set(app_ids[train_rows]) for train_rows, _ in result.folds.splits]
    first_repeat_sizes = [(len(rows), int(y_dev.iloc[rows].sum())) for rows, _ in result.folds.first_repeat()]
    calls = []
    for seen in SAMPLER_CALLS[key]:
        if isinstance(seen, tuple):  # the calibration's out-of-fold fits: a first-repeat fold's training rows
            assert seen in first_repeat_sizes
            calls.append(seen)
            continue
        seen = set(seen)
        assert not seen & test
        # Each fit resamples exactly a fold's training rows, or (the final refit) every development applicant.
        assert seen in fold_training_sets or seen == development
        calls.append(seen)
    # The search (settings × folds) and the pooled out-of-fold scores (every fold; the calibrator
    # learns from the first repeat's) fit on folds; the refit alone sees the whole development set.
    folds = len(result.folds.splits)
    assert len(calls) == profile.n_iter * folds + folds + 1
    assert sum(seen == development for seen in calls) == 1


def test_every_candidate_is_judged_on_the_same_folds(small_frame):
    key = "shared-folds"
    profile = narrowed_profile(
        "smoke", algorithms=("LogisticRegression", "DecisionTreeClassifier"), balancings=("oversampling",)
    )
    result = recording_search(small_frame, key, profile)

    calls = [frozenset(seen) for seen in SAMPLER_CALLS[key]]
    folds = len(result.folds.splits)
    # The search fits each candidate on every fold in turn (n_iter=1): the first two candidates'
    # training sets are the same folds.
    first, second = calls[:folds], calls[folds : 2 * folds]
    assert sorted(first, key=sorted) == sorted(second, key=sorted)
    for candidate in result.candidates:
        assert len(candidate.fold_scores) == folds


class TestOneStandardErrorRule:
    @staticmethod
    def candidate(algorithm, balancing, scores):
        return CandidateResult(algorithm=algorithm, balancing=balancing, fold_scores=np.array(scores, dtype=float))

    def test_the_simpler_candidate_wins_when_within_one_standard_error(self):
        xgboost = self.candidate("XGBClassifier", "smote", [0.78, 0.74, 0.80, 0.76, 0.77])  # mean 0.770
        logistic = self.candidate("LogisticRegression", "class_weight", [0.76, 0.75, 0.77, 0.76, 0.76])  # 0.760
        # The best candidate's standard error: std 0.0224 / √5 = 0.0100, so 0.760 ≥ 0.770 − 0.010.
        chosen, best = choose_candidate([xgboost, logistic], folds_per_repeat=5)
        assert best is xgboost and chosen is logistic

    def test_the_better_candidate_wins_when_the_gap_exceeds_the_noise(self):
        xgboost = self.candidate("XGBClassifier", "smote", [0.80, 0.81, 0.80, 0.79, 0.80])  # 0.800, SE 0.0032
        logistic = self.candidate("LogisticRegression", "class_weight", [0.76, 0.75, 0.77, 0.76, 0.76])
        chosen, best = choose_candidate([xgboost, logistic], folds_per_repeat=5)
        assert chosen is xgboost and best is xgboost

    def test_simplicity_orders_algorithms_then_balancings(self):
        order = list(SIMPLICITY_ORDER)
        assert order[0] == "LogisticRegression-none" and order[-1] == "KNeighborsClassifier-smote"
        assert "XGBClassifier-none" not in order and "KNeighborsClassifier-none" not in order
        assert order.index("CreditScorecard-none") < order.index("DecisionTreeClassifier-class_weight")
        assert order.index("XGBClassifier-class_weight") < order.index("XGBClassifier-smote")

    def test_failed_candidates_are_never_chosen(self):
        failed = CandidateResult(algorithm="LogisticRegression", balancing="class_weight", error="boom")
        forest = self.candidate("RandomForestClassifier", "smote", [0.7, 0.71, 0.69])
        assert choose_candidate([failed, forest], folds_per_repeat=3)[0] is forest


def test_the_search_follows_the_rule_on_its_own_leaderboard(smoke_search):
    board = smoke_search.leaderboard()
    assert len(board) == len(PROFILES["smoke"].algorithms) * len(PROFILES["smoke"].balancings)
    chosen = [row for row in board if row["chosen"]]
    best = [row for row in board if row["best_mean"]]
    assert len(chosen) == 1 and len(best) == 1
    assert best[0]["cv_mean"] == max(row["cv_mean"] for row in board)
    floor = best[0]["cv_mean"] - best[0]["cv_se"]
    within = [row for row in board if row["cv_mean"] >= floor - 1e-6]
    assert chosen[0]["simplicity"] == min(row["simplicity"] for row in within)
    assert chosen[0]["name"] == smoke_search.model.name
    for row in board:
        assert row["cv_folds"] == len(smoke_search.folds.splits)
        assert {"best_params", "cv_mean", "cv_se", "cv_pr_auc", "cv_precision_at_recall", "fit_seconds"} <= row.keys()


def test_the_threshold_reaches_the_recall_target_plus_margin_on_pooled_out_of_fold_predictions(smoke_search):
    metrics = smoke_search.out_of_fold_metrics
    assert metrics["selection_recall"] > smoke_search.model.recall_target  # the safety margin
    assert metrics["recall"] >= metrics["selection_recall"]
    assert metrics["applicants"] == len(smoke_search.split.development) * smoke_search.folds.repeats
    assert metrics["threshold"] == pytest.approx(smoke_search.model.threshold, abs=1e-6)


@pytest.mark.trains
def test_the_final_model_is_refitted_on_every_development_applicant(small_frame):
    profile = narrowed_profile("smoke", algorithms=("LogisticRegression",), balancings=("class_weight",))
    result = search_best_model(small_frame, profile=profile, seed=3)
    X_dev, y_dev = features_and_labels(result.split.development)

    refitted = clone(result.winner.pipeline).fit(X_dev, y_dev)

    np.testing.assert_allclose(
        result.model.pipeline.decision_function(X_dev), refitted.decision_function(X_dev), rtol=0, atol=1e-12
    )


@pytest.mark.trains
@pytest.mark.parametrize("method", ["sigmoid", "isotonic"])
def test_the_model_s_probability_is_its_calibrator_on_the_out_of_fold_scores(small_frame, method):
    """The model owns its calibrator, fitted with public estimators on the out-of-fold scores of the
    first repeat's folds: recomputed here independently (the logistic formula from the fitted
    coefficients; isotonic by interpolating its fitted thresholds), on a frame and on plain columns,
    for a model with ``decision_function`` and one without."""
    for algorithm in ("LogisticRegression", "XGBClassifier"):
        profile = narrowed_profile("smoke", algorithms=(algorithm,), balancings=("class_weight",))
        result = search_best_model(small_frame, profile=profile, seed=3, calibration_method=method)
        model = result.model
        X_dev, y_dev = features_and_labels(result.split.development)
        first = Folds(splits=tuple(result.folds.first_repeat()), per_repeat=result.folds.per_repeat, repeats=1)
        labels, scores = out_of_fold_scores(result.winner.pipeline, X_dev, y_dev, first)
        scores = scores.astype(np.float64)  # XGBoost's probabilities are float32; the calibrator reads float64
        if method == "sigmoid":
            # Platt's method from its definition: the logistic curve that best fits the smoothed targets
            # (N+ + 1)/(N+ + 2) and 1/(N- + 2), found here by scipy's BFGS on the log-likelihood.
            positives = labels.sum()
            target = np.where(labels == 1, (positives + 1) / (positives + 2), 1 / (len(labels) - positives + 2))

            def negative_log_likelihood(ab, scores=scores, target=target):
                z = ab[0] * scores + ab[1]
                return float(np.sum(np.logaddexp(0.0, z) - target * z))

            slope, intercept = minimize(negative_log_likelihood, [1.0, 0.0], method="BFGS", options={"gtol": 1e-9}).x
            np.testing.assert_allclose(model.calibrator.estimator_.coef_[0, 0], slope, rtol=1e-4)

            def calibrate(score, slope=slope, intercept=intercept):
                return 1 / (1 + np.exp(-(slope * score + intercept)))
        else:
            fitted = IsotonicRegression(out_of_bounds="clip", y_min=0.0, y_max=1.0).fit(scores, labels)

            def calibrate(score, fitted=fitted):
                return np.interp(score, fitted.X_thresholds_, fitted.y_thresholds_)

        X = features_and_labels(small_frame)[0]
        own_score = (
            model.pipeline.decision_function(X)
            if hasattr(model.pipeline, "decision_function")
            else model.pipeline.predict_proba(X)[:, 1]
        ).astype(np.float64)
        expected = calibrate(own_score)
        tolerance = 1e-6 if method == "sigmoid" else 1e-9  # two optimisers' tolerances; isotonic is exact
        np.testing.assert_allclose(model.predict_npl_probability(X), expected, rtol=0, atol=tolerance)
        columns = {name: X[name].to_numpy() for name in X.columns}
        np.testing.assert_allclose(model.predict_npl_probability(columns), expected, rtol=0, atol=tolerance)


def test_an_unknown_calibration_method_is_refused_in_words():
    with pytest.raises(ValueError, match="Unknown calibration method 'temperature'; expected one of sigmoid, isotonic"):
        ScoreCalibrator("temperature")


@pytest.mark.trains
def test_the_test_applicants_influence_nothing_before_the_final_evaluation(small_frame, smoke_search):
    test_ids = ids(smoke_search.split.test)
    # The same applicants (same labels, so the same split), but the test applicants' attributes garbled.
    garbled = small_frame.copy()
    rows = garbled["app_id"].isin(test_ids)
    garbled.loc[rows, "monthly_income"] = garbled.loc[rows, "monthly_income"][::-1].to_numpy() * 7
    garbled.loc[rows, "pekerjaan"] = "Buruh"

    again = search_best_model(garbled, profile="smoke", seed=1)

    assert ids(again.split.test) == test_ids
    strip = ("fit_seconds",)
    assert [{k: v for k, v in r.items() if k not in strip} for r in again.leaderboard()] == [
        {k: v for k, v in r.items() if k not in strip} for r in smoke_search.leaderboard()
    ]
    assert again.model.threshold == smoke_search.model.threshold
    assert again.out_of_fold_metrics == smoke_search.out_of_fold_metrics
    X_dev, _ = features_and_labels(smoke_search.split.development)
    np.testing.assert_array_equal(
        again.model.predict_npl_probability(X_dev), smoke_search.model.predict_npl_probability(X_dev)
    )
    assert again.test_metrics != smoke_search.test_metrics  # only the final evaluation sees them


def test_choose_threshold_takes_the_best_precision_with_enough_recall():
    y = np.array([1, 1, 1, 1, 0, 1, 0, 0, 1, 0])
    p = np.array([0.9, 0.8, 0.7, 0.6, 0.55, 0.5, 0.4, 0.3, 0.2, 0.1])

    choice = choose_threshold(y, p, recall_target=0.8)  # 5 of the 6 NPL: take down to 0.5

    assert choice.threshold == 0.5
    assert choice.recall == pytest.approx(5 / 6)
    assert choice.precision == pytest.approx(5 / 6)
    assert choose_threshold(y, p, recall_target=1.0).threshold == 0.2


@pytest.mark.trains
def test_calibration_brings_resampled_probabilities_back_to_the_real_npl_rate(small_frame):
    profile = narrowed_profile("smoke", algorithms=("LogisticRegression",), balancings=("oversampling",))
    result = search_best_model(small_frame, profile=profile, seed=3)
    X_test, y_test = features_and_labels(result.split.test)

    raw = result.model.pipeline.predict_proba(X_test)[:, 1]
    calibrated = result.model.predict_npl_probability(X_test)

    # Oversampling to 50/50 inflates the raw probabilities far above the real NPL rate ...
    assert raw.mean() > 2 * y_test.mean()
    # ... calibration on out-of-fold predictions brings them back, and the Brier score improves.
    assert calibrated.mean() == pytest.approx(y_test.mean(), abs=0.03)
    assert brier_score_loss(y_test, calibrated) < brier_score_loss(y_test, raw)


def test_test_metrics_are_complete_with_intervals(smoke_search):
    metrics = smoke_search.test_metrics
    n_test = len(smoke_search.split.test)
    for key in ("precision", "recall", "f1", "accuracy", "roc_auc", "pr_auc", "brier", "threshold"):
        assert 0 <= metrics[key] <= 1, key
    for key in ("precision", "recall", "f1", "accuracy", "roc_auc", "pr_auc", "brier"):
        low, high = metrics["intervals"][key]
        assert low <= metrics[key] <= high, key
    matrix = metrics["confusion_matrix"]
    assert sum(matrix.values()) == n_test
    assert matrix["tp"] + matrix["fn"] == smoke_search.split.test["is_npl"].sum()
    assert 2 <= len(metrics["roc_curve"]) <= 51 and 2 <= len(metrics["pr_curve"]) <= 51
    assert sum(row["count"] for row in metrics["calibration"]) == n_test
    assert len(metrics["calibration"]) == 10


def test_a_small_book_is_marked_uncertain(smoke_search):
    assert smoke_search.training_data["npl"] < UNCERTAIN_BELOW_NPL
    assert smoke_search.training_data["uncertain"] is True


@pytest.mark.trains
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
    assert "CreditScorecard" in ALGORITHMS
    assert make_sampler("class_weight", 0) is None


@pytest.mark.trains
def test_a_candidate_that_cannot_train_is_reported_and_the_search_goes_on(small_frame):
    profile = narrowed_profile("smoke", algorithms=("LogisticRegression",), balancings=("smote", "class_weight"))

    def factory(balancing, seed):
        # More neighbours than NPL applicants in any fold: SMOTE cannot work.
        return SMOTE(k_neighbors=5_000, random_state=seed) if balancing == "smote" else make_sampler(balancing, seed)

    result = search_best_model(small_frame, profile=profile, seed=1, sampler_factory=factory)

    rows = {row["balancing"]: row for row in result.leaderboard()}
    assert rows["smote"]["error"] and rows["smote"]["cv_mean"] is None
    assert result.model.balancing == "class_weight"


class TestDataThatCannotTrain:
    @pytest.mark.trains
    def test_no_applicants(self, small_frame):
        with pytest.raises(TrainingDataError, match="No labelled applicants"):
            search_best_model(small_frame.iloc[0:0], profile="smoke")

    @pytest.mark.trains
    def test_one_class_only(self, small_frame):
        performing = small_frame[~small_frame["is_npl"]]
        with pytest.raises(TrainingDataError, match="are non-NPL"):
            search_best_model(performing, profile="smoke")

    @pytest.mark.trains
    def test_too_few_npl(self, small_frame):
        npl = small_frame[small_frame["is_npl"]].iloc[: MIN_APPLICANTS_PER_CLASS - 1]
        few = pd.concat([small_frame[~small_frame["is_npl"]], npl])
        with pytest.raises(TrainingDataError, match=f"Only {MIN_APPLICANTS_PER_CLASS - 1} NPL"):
            search_best_model(few, profile="smoke")


@pytest.mark.trains
@pytest.mark.slow
def test_quick_profile_trains_every_algorithm_with_every_balancing_and_the_scorecard(small_frame):
    result = search_best_model(small_frame, profile="quick", seed=5)

    board = result.leaderboard()
    expected = {(a, b) for a in ALGORITHMS if a != "CreditScorecard" for b in BALANCINGS if b != "none"}
    expected |= {("CreditScorecard", "none"), ("LogisticRegression", "none")}
    assert {(row["algorithm"], row["balancing"]) for row in board} == expected
    assert [row["name"] for row in board if row["error"]] == []


def test_the_system_check_refuses_an_unknown_calibration_method(settings):
    from django.core.checks import run_checks

    settings.TRAINING_CALIBRATION_METHOD = "temperature"
    errors = [error for error in run_checks() if error.id == "training.E001"]
    assert errors and "'temperature'" in errors[0].msg and "sigmoid, isotonic" in errors[0].hint
    settings.TRAINING_CALIBRATION_METHOD = "isotonic"
    assert not [error for error in run_checks() if error.id == "training.E001"]


def test_the_development_scores_are_out_of_fold(smoke_search):
    """Issue 22, item 14: monitoring's score reference is what the model says of applicants it did not
    see — one calibrated out-of-fold probability per development applicant, not the refitted model's
    own (in-sample) probabilities of the applicants it was fitted on."""
    scores = smoke_search.development_scores
    X_dev, y_dev = features_and_labels(smoke_search.split.development)
    first = Folds(splits=tuple(smoke_search.folds.first_repeat()), per_repeat=smoke_search.folds.per_repeat, repeats=1)
    _, oof = out_of_fold_scores(smoke_search.winner.pipeline, X_dev, y_dev, first)
    assert len(scores) == len(X_dev)
    np.testing.assert_allclose(scores, smoke_search.model.calibrator.predict(oof), rtol=0, atol=1e-12)
    in_sample = smoke_search.model.predict_npl_probability(X_dev)
    assert not np.allclose(np.sort(scores), np.sort(in_sample))
