"""The model search: hold out test applicants, compare every candidate on shared cross-validation
folds, choose the simplest within the noise, calibrate and threshold out of fold, refit, test once.

:func:`search_best_model` does the whole thing on a frame of labelled applicants (one row per
applicant, as :func:`applicants.selectors.labelled_applicants_frame` returns it):

1. **Hold out the test applicants** (:func:`split_development_test`): 20 %, stratified on NPL and
   seeded (or the most recently disbursed, out of time). They influence nothing until the single
   final evaluation. Everyone else is the *development* set.
2. **Shared folds** (:func:`development_folds`): ``StratifiedGroupKFold`` over the development
   applicants, grouped by ``app_id`` (no applicant on both sides of a fold) and stratified on NPL,
   repeated with new shuffles while the book is small, until each candidate is judged on about
   ``profile.min_oof_predictions`` out-of-fold predictions (or ``profile.max_repeats`` repeats:
   more would cost more time than the noise they remove is worth).
   Every candidate sees the same folds, so their per-fold scores are a paired comparison.
3. **Search** each candidate — every algorithm in :data:`ALGORITHMS` × balancing in
   :data:`BALANCINGS`, plus the credit scorecard (:mod:`credit.credit_scorecard`) — with a
   ``RandomizedSearchCV`` over an imblearn ``Pipeline(encoder, sampler, classifier)`` whose ``cv``
   is those folds. The sampler runs only inside ``fit``, so resampling touches training-fold rows
   only, never an out-of-fold row. A candidate's per-fold scores are those of its best setting.
4. **Selection metric: ROC AUC** per fold (:data:`SELECTION_METRIC`). It is a ranking statistic
   over every NPL/non-NPL pair, so it moves far less from fold to fold than precision at a recall
   target (which hangs on the few NPL near one threshold) or average precision (which depends on
   the NPL rate of the fold); the threshold, not the model, is what delivers the recall target.
   Average precision and precision at the recall target are reported beside it.
5. **The simplest candidate within the noise** (:func:`choose_candidate`): the one-standard-error
   rule — among candidates whose mean is at least the best mean minus the best candidate's
   standard error, the first in :data:`SIMPLICITY_ORDER` (logistic regression, scorecard, decision
   tree, random forest, XGBoost, k-NN: by how much each fits to the book; within one algorithm
   the book as it is before class weights, random under-, then over-sampling, then SMOTE). The best of twenty noisy
   means is partly the luckiest; on a small book the simplest candidate that cannot be told apart
   from it generalises at least as well.
6. **Calibration and threshold out of fold**: a :class:`credit.trained_model.ScoreCalibrator`
   (``sigmoid``/Platt by default, a ``LogisticRegression`` on the score: strictly monotone, so it
   keeps the ranking) is fitted on the out-of-fold scores of the first repeat's folds, which cover
   the whole development set once; then the candidate is **refitted on all development applicants**.
   The threshold (:func:`choose_threshold`) is the best
   precision among thresholds whose pooled out-of-fold recall reaches the recall target plus a
   safety margin of ``recall_margin_se`` standard errors (:func:`recall_safety_margin`). Two
   binomial noises separate that threshold from the recall a user will see: the out-of-fold recall
   is estimated on the development NPL (n), and any later measurement — the held-out test, a month
   of real outcomes — on its own NPL (m, taken as the test count). The margin is
   √(t·(1−t)·(1/n + 1/m)); chosen exactly at the target, the test recall would fall below it about
   half of the time, with one standard error about one time in six.
7. **Test, once**: the untouched test applicants give precision, recall, F1, accuracy, ROC AUC, PR
   AUC, Brier score, the confusion matrix, curves and a calibration table, each headline figure
   with a bootstrap 95 % interval (:func:`bootstrap_intervals`).

8. **The scorecard beside it** (:func:`scorecard_companion`): whatever won, the scorecard candidate at
   its best setting (or with its defaults, when the profile did not search it) is refitted on every
   development applicant and its points table and test probabilities are kept, so a credit committee
   can compare the chosen model with the transparent one. ``candidate="CreditScorecard"`` registers the
   scorecard deliberately instead of the rule's choice (which is still reported, ``rule_choice``).

Everything is seeded: the same frame, profile and seed give the same model and numbers.
"""

from __future__ import annotations

import functools
import hashlib
import io
import math
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field, replace

import joblib
import numpy as np
import pandas as pd
from imblearn.over_sampling import SMOTE, RandomOverSampler
from imblearn.pipeline import Pipeline
from imblearn.under_sampling import RandomUnderSampler
from scipy.stats import loguniform, randint, uniform
from sklearn.base import clone
from sklearn.ensemble import RandomForestClassifier
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import (
    accuracy_score,
    average_precision_score,
    brier_score_loss,
    confusion_matrix,
    f1_score,
    precision_recall_curve,
    precision_score,
    recall_score,
    roc_auc_score,
    roc_curve,
)
from sklearn.model_selection import RandomizedSearchCV, StratifiedGroupKFold, train_test_split
from sklearn.neighbors import KNeighborsClassifier
from sklearn.tree import DecisionTreeClassifier
from threadpoolctl import threadpool_limits
from xgboost import XGBClassifier

from credit import steps
from credit.credit_scorecard import CreditScorecard
from credit.encoder import APPLICANT_ATTRIBUTES, ApplicantFeatureEncoder
from credit.intervals import bootstrap_intervals
from credit.scorecard import ScorecardParameters
from credit.trained_model import ScoreCalibrator, TrainedNplModel, calibration_scores
from credit.training_range import training_ranges

# In order of simplicity (the one-standard-error rule prefers the earlier), by how much each fits to
# the book: a logistic regression one weight per feature; the scorecard also places every bin edge
# and a weight of evidence per bin; a tree its splits; ensembles hundreds of trees; k-NN keeps every
# training applicant.
ALGORITHMS = (
    "LogisticRegression",
    "CreditScorecard",
    "DecisionTreeClassifier",
    "RandomForestClassifier",
    "XGBClassifier",
    "KNeighborsClassifier",
)
# Also in order of simplicity: the book as it is, reweighting it, random resampling (repeats or drops
# real applicants), SMOTE (invents new ones).
BALANCINGS = ("none", "class_weight", "undersampling", "oversampling", "smote")
# The book as it is: the scorecard's only balancing (its points then read as the book's own odds),
# and the textbook logistic regression every credit team starts from. The other algorithms are
# tried with the four ways of balancing the classes (k-NN cannot weight classes, so its
# "class_weight" candidate already is the plain one).
AS_IT_IS = "none"
BALANCINGS_OF = {
    "CreditScorecard": (AS_IT_IS,),
    "LogisticRegression": BALANCINGS,
}
BALANCING_LABELS = {
    "none": "none: the book as it is",
    "class_weight": "class weights, no resampling",
    "undersampling": "random undersampling of non-NPL",
    "oversampling": "random oversampling of NPL",
    "smote": "SMOTE synthetic NPL",
}


def balancings_of(algorithm: str, wanted: tuple[str, ...] = BALANCINGS) -> tuple[str, ...]:
    """The balancings ``algorithm`` is tried with, of those ``wanted`` (the scorecard always as it is)."""
    if algorithm == "CreditScorecard":
        return (AS_IT_IS,)
    allowed = BALANCINGS_OF.get(algorithm, BALANCINGS[1:])
    return tuple(balancing for balancing in wanted if balancing in allowed)


# The candidate a model admin may ask to register whatever the one-standard-error rule chooses: the
# transparent scorecard, which credit committees and regulators read bin by bin.
SCORECARD = "CreditScorecard"
REQUESTABLE_CANDIDATES = (SCORECARD,)

SIMPLICITY_ORDER = tuple(
    f"{algorithm}-{balancing}" for algorithm in ALGORITHMS for balancing in balancings_of(algorithm)
)

SELECTION_METRIC = "roc_auc"
DEFAULT_RECALL_TARGET = 0.90
DEFAULT_RECALL_MARGIN_SE = 1.0
# Fewer applicants than this in either class cannot be held out and cross-validated.
MIN_APPLICANTS_PER_CLASS = 30
# Below this many NPL applicants in the book, every figure carries a visible warning.
UNCERTAIN_BELOW_NPL = 200

ProgressCallback = Callable[[int, str], None]
SamplerFactory = Callable[[str, int], object | None]


class TrainingDataError(ValueError):
    """The labelled data cannot train a model (none, one class, too few NPL); the message says why."""


# --------------------------------------------------------------------------------------------
# Profiles
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SearchProfile:
    """How hard to search. Every profile runs all its algorithms × balancings.

    ``cv_folds`` folds per repeat; repeats are added while the development set is small, until
    about ``min_oof_predictions`` out-of-fold predictions per candidate, at most ``max_repeats``.
    """

    name: str
    n_iter: int
    cv_folds: int
    forest_trees: int  # the most trees a random forest may grow (fewer where the folds show no gain)
    boosting_rounds: int
    min_oof_predictions: int = 0
    max_repeats: int = 1
    algorithms: tuple[str, ...] = ALGORITHMS
    balancings: tuple[str, ...] = BALANCINGS
    n_jobs: int = 1
    description: str = ""


PROFILES: dict[str, SearchProfile] = {
    "quick": SearchProfile(
        name="quick",
        n_iter=1,
        cv_folds=3,
        forest_trees=40,
        boosting_rounds=60,
        description=(
            "every algorithm × balancing and the scorecard, one sampled setting each (no tuning), "
            "3 shared folds, small ensembles: for demos and a first look"
        ),
    ),
    "full": SearchProfile(
        name="full",
        n_iter=8,
        cv_folds=5,
        forest_trees=100,
        boosting_rounds=200,
        min_oof_predictions=2000,
        max_repeats=2,
        n_jobs=2,
        description=(
            "every algorithm × balancing and the scorecard, each tuned by RandomizedSearchCV over 8 settings "
            "on 5 shared folds (repeated twice on small books), two processes: for production"
        ),
    ),
    "smoke": SearchProfile(
        name="smoke",
        n_iter=1,
        cv_folds=3,
        forest_trees=10,
        boosting_rounds=10,
        algorithms=("LogisticRegression", "DecisionTreeClassifier"),
        balancings=("class_weight", "undersampling"),
        description="two algorithms × two balancings on tiny settings: seconds, for tests and trying the workflow",
    ),
}


def get_profile(profile: str | SearchProfile) -> SearchProfile:
    if isinstance(profile, SearchProfile):
        return profile
    try:
        return PROFILES[profile]
    except KeyError:
        raise ValueError(f"Unknown training profile {profile!r}: choose one of {', '.join(PROFILES)}") from None


def narrowed_profile(profile: str | SearchProfile, **changes) -> SearchProfile:
    """A copy of a profile with some fields changed (e.g. fewer algorithms for a test)."""
    return replace(get_profile(profile), **changes)


def candidate_names(profile: SearchProfile) -> list[tuple[str, str]]:
    """(algorithm, balancing) of every candidate the profile searches, in order of simplicity."""
    names = []
    for algorithm in profile.algorithms:
        names.extend((algorithm, balancing) for balancing in balancings_of(algorithm, profile.balancings))
    return sorted(names, key=lambda pair: simplicity_rank(*pair))


def simplicity_rank(algorithm: str, balancing: str) -> int:
    try:
        return SIMPLICITY_ORDER.index(f"{algorithm}-{balancing}")
    except ValueError:
        return len(SIMPLICITY_ORDER)


# --------------------------------------------------------------------------------------------
# Data, the held-out test applicants and the shared folds
# --------------------------------------------------------------------------------------------


def _rate(frame: pd.DataFrame) -> float:
    return round(float(frame["is_npl"].mean()), 4) if len(frame) else 0.0


def check_training_data(frame: pd.DataFrame, as_of_label: str = "") -> None:
    """Raise :class:`TrainingDataError` with an actionable message when ``frame`` cannot train."""
    when = f" as of {as_of_label}" if as_of_label else ""
    if frame is None or frame.empty:
        raise TrainingDataError(
            f"No labelled applicants{when}: import a loan file first (Applicants → Import), "
            "or choose a later as-of date."
        )
    missing = [c for c in ["app_id", *APPLICANT_ATTRIBUTES, "is_npl"] if c not in frame.columns]
    if missing:
        raise TrainingDataError(f"The applicant data lacks the column(s) {', '.join(missing)}.")
    if frame["app_id"].duplicated().any():
        dupes = frame.loc[frame["app_id"].duplicated(), "app_id"].head(5).tolist()
        raise TrainingDataError(f"Applicant ids appear more than once (e.g. {dupes}): one row per applicant expected.")
    npl = int(frame["is_npl"].sum())
    not_npl = len(frame) - npl
    if npl == 0 or not_npl == 0:
        only = "non-NPL" if npl == 0 else "NPL"
        raise TrainingDataError(
            f"All {len(frame)} labelled applicants{when} are {only}: a model needs both NPL and non-NPL "
            "applicants. Import more loan history or choose a later as-of date."
        )
    if min(npl, not_npl) < MIN_APPLICANTS_PER_CLASS:
        raise TrainingDataError(
            f"Only {npl} NPL and {not_npl} non-NPL applicants{when}: training needs at least "
            f"{MIN_APPLICANTS_PER_CLASS} of each to hold out test applicants and cross-validate."
        )


@dataclass
class DevelopmentSplit:
    """The development applicants (cross-validated, then fitted on) and the held-out test applicants."""

    development: pd.DataFrame
    test: pd.DataFrame
    method: str

    def summary(self) -> dict:
        def part(frame):
            return {"applicants": len(frame), "npl": int(frame["is_npl"].sum()), "npl_rate": _rate(frame)}

        return {"method": self.method, "development": part(self.development), "test": part(self.test)}


def split_development_test(
    frame: pd.DataFrame, *, seed: int, test_fraction: float = 0.2, out_of_time: bool = False
) -> DevelopmentSplit:
    """Hold out test applicants (one row each); no applicant is on both sides.

    Stratified on ``is_npl`` and seeded by default. ``out_of_time=True`` holds out the most
    recently disbursed applicants (ties by ``app_id``), which tests how the model ages — note that
    recent loans have had less time to reach 90+ DPD.
    """
    if frame["app_id"].duplicated().any():
        raise TrainingDataError("Applicant ids must be unique before splitting by applicant.")
    if out_of_time:
        ordered = frame.sort_values(["disbursement_date", "app_id"], kind="stable")
        n_test = round(len(ordered) * test_fraction)
        development, test = ordered.iloc[: len(ordered) - n_test], ordered.iloc[len(ordered) - n_test :]
        method = "out-of-time by disbursement_date"
    else:
        development, test = train_test_split(
            frame, test_size=test_fraction, stratify=frame["is_npl"].astype(bool), random_state=seed
        )
        method = "stratified on NPL"
    return DevelopmentSplit(
        development=development.sort_values("app_id").reset_index(drop=True),
        test=test.sort_values("app_id").reset_index(drop=True),
        method=method,
    )


def features_and_labels(frame: pd.DataFrame) -> tuple[pd.DataFrame, pd.Series]:
    """The nine attributes and the NPL label, both indexed by ``app_id``.

    The label keeps its index through cross-validation and the pipeline, so a sampler can tell
    which applicants it was given (see :func:`make_sampler`).
    """
    indexed = frame.set_index("app_id")
    return indexed[APPLICANT_ATTRIBUTES], indexed["is_npl"].astype(int)


@dataclass(frozen=True)
class Folds:
    """The shared cross-validation folds: ``splits`` (train rows, out-of-fold rows) by position, in
    ``repeats`` repeats of ``per_repeat`` folds each; every repeat's out-of-fold rows cover the
    development set once."""

    splits: tuple[tuple[np.ndarray, np.ndarray], ...]
    per_repeat: int
    repeats: int

    def first_repeat(self) -> list[tuple[np.ndarray, np.ndarray]]:
        return list(self.splits[: self.per_repeat])


def development_folds(
    y: pd.Series, *, seed: int, n_splits: int, min_predictions: int = 0, max_repeats: int = 1
) -> Folds:
    """Folds over the development applicants (``y`` indexed by ``app_id``), grouped by applicant and
    stratified on NPL, repeated with new shuffles until about ``min_predictions`` out-of-fold
    predictions (at most ``max_repeats`` repeats). Every candidate is evaluated on these."""
    n = len(y)
    repeats = max(1, min(int(max_repeats), math.ceil(min_predictions / n) if min_predictions else 1))
    groups = np.asarray(y.index)
    labels = np.asarray(y).astype(int)
    splits = []
    for repeat in range(repeats):
        splitter = StratifiedGroupKFold(n_splits=n_splits, shuffle=True, random_state=seed + 1000 * repeat)
        splits.extend(splitter.split(np.zeros(n), labels, groups))
    return Folds(splits=tuple(splits), per_repeat=n_splits, repeats=repeats)


# --------------------------------------------------------------------------------------------
# Candidates
# --------------------------------------------------------------------------------------------


def make_sampler(balancing: str, seed: int):
    """The resampler for a balancing strategy, or ``None`` when nothing is resampled.

    This is the default of ``search_best_model(sampler_factory=...)``, the public hook through which
    a caller can substitute its own sampler (e.g. one that records which rows it is given).
    """
    if balancing == "undersampling":
        return RandomUnderSampler(random_state=seed)
    if balancing == "oversampling":
        return RandomOverSampler(random_state=seed)
    if balancing == "smote":
        return SMOTE(random_state=seed, k_neighbors=5)
    if balancing in ("class_weight", AS_IT_IS):
        return None
    raise ValueError(f"Unknown balancing {balancing!r}: choose one of {', '.join(BALANCING_LABELS)}")


def make_classifier(
    algorithm: str,
    balancing: str,
    profile: SearchProfile,
    seed: int,
    y_train: pd.Series,
    score_scaling: ScorecardParameters | None = None,
):
    """The untuned classifier of a candidate; class weights only for the ``class_weight`` balancing.

    ``score_scaling``: the points scaling of the scorecard candidate (the product's credit score
    scaling, so its points table adds up to the score analysts see; the defaults when ``None``).

    KNeighborsClassifier cannot weight classes, so its ``class_weight`` candidate is the plain
    classifier: its threshold is what adapts it to the rare NPL class.
    """
    weighted = balancing == "class_weight"  # "none" and the resamplings: no weights
    class_weight = "balanced" if weighted else None
    if algorithm == "CreditScorecard":
        return CreditScorecard(scaling=score_scaling)
    if algorithm == "LogisticRegression":
        return LogisticRegression(max_iter=2000, class_weight=class_weight, random_state=seed)
    if algorithm == "DecisionTreeClassifier":
        return DecisionTreeClassifier(class_weight=class_weight, random_state=seed)
    if algorithm == "RandomForestClassifier":
        return RandomForestClassifier(
            n_estimators=profile.forest_trees, class_weight=class_weight, random_state=seed, n_jobs=1
        )
    if algorithm == "KNeighborsClassifier":
        return KNeighborsClassifier(n_jobs=1)
    if algorithm == "XGBClassifier":
        positives = int(y_train.sum())
        scale_pos_weight = (len(y_train) - positives) / positives if weighted and positives else 1.0
        return XGBClassifier(
            n_estimators=profile.boosting_rounds,
            tree_method="hist",
            n_jobs=1,
            random_state=seed,
            scale_pos_weight=scale_pos_weight,
            eval_metric="logloss",
            verbosity=0,
        )
    raise ValueError(f"Unknown algorithm {algorithm!r}: choose one of {', '.join(ALGORITHMS)}")


def parameter_distributions(algorithm: str, n_train: int) -> dict:
    """The hyperparameters RandomizedSearchCV samples, as pipeline parameters (``classifier__*``)."""
    if algorithm == "CreditScorecard":
        grid = {"max_n_bins": randint(3, 8), "min_bin_size": [0.05, 0.08, 0.1], "C": loguniform(0.05, 20)}
    elif algorithm == "LogisticRegression":
        # A grid around the textbook default C=1, so that the full profile's 8 settings try every value.
        grid = {"C": [0.01, 0.03, 0.1, 0.3, 1.0, 3.0, 10.0, 100.0]}
    elif algorithm == "DecisionTreeClassifier":
        grid = {
            "max_depth": randint(3, 11),
            "min_samples_leaf": randint(10, 150),
            "criterion": ["gini", "entropy"],
        }
    elif algorithm == "RandomForestClassifier":
        grid = {
            "max_depth": [6, 8, 10, 14, None],
            "min_samples_leaf": randint(5, 40),
            "max_features": ["sqrt", 0.5],
            # Each tree on a bootstrap sample of a third to a half of the rows: several times faster
            # on resampled data, and no worse for it.
            "max_samples": [0.33, 0.5],
        }
    elif algorithm == "KNeighborsClassifier":
        high = max(6, min(201, n_train // 10))
        grid = {"n_neighbors": randint(min(25, high - 1), high), "weights": ["uniform", "distance"]}
    elif algorithm == "XGBClassifier":
        grid = {
            "max_depth": randint(2, 6),
            "learning_rate": loguniform(0.02, 0.3),
            "subsample": uniform(0.6, 0.4),
            "colsample_bytree": uniform(0.6, 0.4),
            "min_child_weight": randint(1, 10),
            "reg_lambda": loguniform(0.1, 10),
        }
    else:
        raise ValueError(f"Unknown algorithm {algorithm!r}")
    return {f"classifier__{name}": values for name, values in grid.items()}


def build_candidate_pipeline(algorithm: str, balancing: str, classifier, sampler) -> Pipeline:
    """``Pipeline(encoder, sampler, classifier)``; the sampler step is skipped at prediction.

    The scorecard bins the encoder's features in their own units (no scaling) and reads them by
    name, so its encoder hands on a DataFrame.
    """
    if algorithm == "CreditScorecard":
        encoder = ApplicantFeatureEncoder(scale=False).set_output(transform="pandas")
    else:
        encoder = ApplicantFeatureEncoder(scale=True)
    return Pipeline(
        [
            ("encoder", encoder),
            ("sampler", sampler if sampler is not None else "passthrough"),
            ("classifier", classifier),
        ]
    )


# --------------------------------------------------------------------------------------------
# Thresholds and metrics
# --------------------------------------------------------------------------------------------


@dataclass
class ThresholdChoice:
    threshold: float
    precision: float
    recall: float
    f1: float
    reached_target: bool

    def as_dict(self) -> dict:
        return {
            "threshold": self.threshold,
            "precision": self.precision,
            "recall": self.recall,
            "f1": self.f1,
            "reached_target": self.reached_target,
        }


def choose_threshold(y_true, probability, recall_target: float) -> ThresholdChoice:
    """The threshold with the best precision among those whose recall is ≥ ``recall_target``.

    Ties in precision go to the higher recall. Predicting NPL means ``probability >= threshold``.
    """
    y_true = np.asarray(y_true).astype(int)
    probability = np.asarray(probability, dtype=float)
    precision, recall, thresholds = precision_recall_curve(y_true, probability)
    # The last point (precision 1, recall 0) has no threshold.
    precision, recall = precision[:-1], recall[:-1]
    eligible = np.flatnonzero(recall >= recall_target - 1e-12)
    reached = eligible.size > 0
    if not reached:  # cannot happen for a target ≤ 1 (the lowest threshold has recall 1), kept for safety
        eligible = np.arange(len(thresholds))
    best = eligible[np.lexsort((-recall[eligible], -precision[eligible]))[0]]
    p, r = float(precision[best]), float(recall[best])
    return ThresholdChoice(
        threshold=float(thresholds[best]),
        precision=round(p, 6),
        recall=round(r, 6),
        f1=round(2 * p * r / (p + r), 6) if p + r else 0.0,
        reached_target=reached,
    )


def recall_safety_margin(
    n_positive: int, recall_target: float, margin_se: float, n_evaluated_positive: int | None = None
) -> float:
    """``margin_se`` standard errors of the difference between a recall of ``recall_target``
    estimated on ``n_positive`` NPL and the same recall measured again on ``n_evaluated_positive``
    other NPL (left out: only the first estimate's noise)."""
    if n_positive <= 0 or margin_se <= 0:
        return 0.0
    variance = 1 / n_positive + (1 / n_evaluated_positive if n_evaluated_positive else 0.0)
    return margin_se * math.sqrt(recall_target * (1 - recall_target) * variance)


def precision_at_recall_score(estimator, X, y, *, recall_target: float) -> float:
    """A scorer: the best precision at which ``estimator`` reaches ``recall_target`` on (X, y)."""
    return choose_threshold(y, estimator.predict_proba(X)[:, 1], recall_target).precision


def metrics_at_threshold(y_true, probability, threshold: float) -> dict:
    y_true = np.asarray(y_true).astype(int)
    predicted = (np.asarray(probability) >= threshold).astype(int)
    return {
        "precision": round(float(precision_score(y_true, predicted, zero_division=0)), 6),
        "recall": round(float(recall_score(y_true, predicted, zero_division=0)), 6),
        "f1": round(float(f1_score(y_true, predicted, zero_division=0)), 6),
        "accuracy": round(float(accuracy_score(y_true, predicted)), 6),
    }


def _downsample(points: int, *arrays):
    n = len(arrays[0])
    keep = np.arange(n) if n <= points else np.unique(np.linspace(0, n - 1, points).round().astype(int))
    return [np.asarray(a)[keep] for a in arrays]


def calibration_table(y_true, probability, bins: int = 10) -> list[dict]:
    """Deciles of predicted probability: mean predicted vs observed NPL rate, and the count."""
    frame = pd.DataFrame({"y": np.asarray(y_true).astype(int), "p": np.asarray(probability, dtype=float)})
    ranks = frame["p"].rank(method="first")
    frame["bin"] = pd.qcut(ranks, q=min(bins, len(frame)), labels=False, duplicates="drop")
    rows = []
    for number, group in frame.groupby("bin", sort=True):
        rows.append(
            {
                "bin": int(number) + 1,
                "count": len(group),
                "mean_predicted": round(float(group["p"].mean()), 4),
                "observed_rate": round(float(group["y"].mean()), 4),
                "min_predicted": round(float(group["p"].min()), 4),
                "max_predicted": round(float(group["p"].max()), 4),
            }
        )
    return rows


def evaluate(y_true, probability, threshold: float, curve_points: int = 50) -> dict:
    """Every reported metric of a model on one set of applicants, at its decision threshold."""
    y_true = np.asarray(y_true).astype(int)
    probability = np.asarray(probability, dtype=float)
    predicted = (probability >= threshold).astype(int)
    tn, fp, fn, tp = confusion_matrix(y_true, predicted, labels=[0, 1]).ravel()
    fpr, tpr, roc_thresholds = roc_curve(y_true, probability)
    precision, recall, pr_thresholds = precision_recall_curve(y_true, probability)
    roc_fpr, roc_tpr, roc_thr = _downsample(curve_points, fpr, tpr, np.minimum(roc_thresholds, 1.0))
    pr_p, pr_r, pr_thr = _downsample(curve_points, precision[:-1], recall[:-1], pr_thresholds)
    metrics = metrics_at_threshold(y_true, probability, threshold)
    metrics.update(
        {
            "threshold": round(float(threshold), 6),
            "roc_auc": round(float(roc_auc_score(y_true, probability)), 6),
            "pr_auc": round(float(average_precision_score(y_true, probability)), 6),
            "brier": round(float(brier_score_loss(y_true, probability)), 6),
            "applicants": len(y_true),
            "npl": int(y_true.sum()),
            "npl_rate": round(float(y_true.mean()), 6),
            "mean_predicted_probability": round(float(probability.mean()), 6),
            "confusion_matrix": {"tn": int(tn), "fp": int(fp), "fn": int(fn), "tp": int(tp)},
            "roc_curve": [
                {"fpr": round(float(a), 4), "tpr": round(float(b), 4), "threshold": round(float(c), 4)}
                for a, b, c in zip(roc_fpr, roc_tpr, roc_thr, strict=True)
            ],
            "pr_curve": [
                {"precision": round(float(a), 4), "recall": round(float(b), 4), "threshold": round(float(c), 4)}
                for a, b, c in zip(pr_p, pr_r, pr_thr, strict=True)
            ],
            "calibration": calibration_table(y_true, probability),
        }
    )
    return metrics


# --------------------------------------------------------------------------------------------
# The search
# --------------------------------------------------------------------------------------------


@dataclass
class CandidateResult:
    algorithm: str
    balancing: str
    best_params: dict = field(default_factory=dict)
    # Per fold of the shared folds, at the best setting (NaN where the fold could not score).
    fold_scores: np.ndarray | None = None
    cv_pr_auc: float | None = None
    cv_precision_at_recall: float | None = None
    fit_seconds: float = 0.0
    error: str = ""
    pipeline: object = None  # the candidate at its best setting, not fitted

    @property
    def name(self) -> str:
        return f"{self.algorithm}-{self.balancing}"

    @property
    def simplicity(self) -> int:
        return simplicity_rank(self.algorithm, self.balancing)

    @property
    def scored(self) -> bool:
        return self.fold_scores is not None

    @property
    def cv_mean(self) -> float:
        return float(np.mean(self.fold_scores))

    def cv_standard_error(self, folds_per_repeat: int) -> float:
        """The standard error of the mean fold score. Folds of different repeats reuse the same
        applicants, so repeats are not independent evidence: the spread of all folds is divided by
        the number of folds of one repeat, not of all (conservative)."""
        if len(self.fold_scores) < 2:
            return 0.0
        return float(np.std(self.fold_scores, ddof=1) / math.sqrt(min(folds_per_repeat, len(self.fold_scores))))


def choose_candidate(
    candidates: list[CandidateResult], folds_per_repeat: int
) -> tuple[CandidateResult, CandidateResult]:
    """(chosen, best mean): the one-standard-error rule over scored candidates.

    The best mean's standard error sets the band; the simplest candidate (:data:`SIMPLICITY_ORDER`)
    whose mean is within it is chosen.
    """
    scored = [c for c in candidates if c.scored]
    best = max(scored, key=lambda c: (c.cv_mean, -c.simplicity))
    floor = best.cv_mean - best.cv_standard_error(folds_per_repeat)
    within = [c for c in scored if c.cv_mean >= floor - 1e-12]
    return min(within, key=lambda c: c.simplicity), best


@dataclass
class ScorecardCompanion:
    """The scorecard fitted beside every registered model, so a committee can compare the chosen model
    with the transparent one: its points table, settings, and its own NPL probability of each test
    applicant (uncalibrated: ranking figures — ROC AUC, Gini, KS — read it as they are).

    ``source``: ``chosen`` (the registered model is the scorecard), ``candidate`` (the search's
    scorecard candidate at its best setting, refitted on every development applicant) or ``default``
    (the profile did not search it: fitted with its default settings)."""

    source: str
    hyperparameters: dict
    points_table: list[dict]
    test_probability: np.ndarray
    cv_mean: float | None = None
    cv_se: float | None = None


def scorecard_companion(
    winner: CandidateResult,
    candidates: list[CandidateResult],
    pipeline,
    test_probability: np.ndarray,
    X_dev: pd.DataFrame,
    y_dev: pd.Series,
    X_test: pd.DataFrame,
    *,
    folds_per_repeat: int,
    profile: SearchProfile,
    seed: int,
    score_scaling: ScorecardParameters | None = None,
) -> ScorecardCompanion:
    """The scorecard beside the registered model (see :class:`ScorecardCompanion`)."""
    if winner.algorithm == SCORECARD:
        return ScorecardCompanion(
            source="chosen",
            hyperparameters=winner.best_params,
            points_table=pipeline.named_steps["classifier"].points_table(),
            test_probability=np.asarray(test_probability, dtype=float),
            cv_mean=winner.cv_mean,
            cv_se=winner.cv_standard_error(folds_per_repeat),
        )
    searched = next((c for c in candidates if c.algorithm == SCORECARD and c.scored), None)
    if searched is not None:
        unfitted, source = searched.pipeline, "candidate"
    else:
        classifier = make_classifier(SCORECARD, AS_IT_IS, profile, seed, y_dev, score_scaling)
        unfitted, source = build_candidate_pipeline(SCORECARD, AS_IT_IS, classifier, None), "default"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fitted = clone(unfitted).fit(X_dev, y_dev)
    classifier = fitted.named_steps["classifier"]
    return ScorecardCompanion(
        source=source,
        hyperparameters=searched.best_params if searched is not None else {},
        points_table=classifier.points_table(),
        test_probability=fitted.predict_proba(X_test)[:, 1],
        cv_mean=searched.cv_mean if searched is not None else None,
        cv_se=searched.cv_standard_error(folds_per_repeat) if searched is not None else None,
    )


@dataclass
class SearchResult:
    model: TrainedNplModel
    winner: CandidateResult
    best_mean: CandidateResult
    candidates: list[CandidateResult]
    split: DevelopmentSplit
    folds: Folds
    out_of_fold_metrics: dict
    test_metrics: dict
    training_data: dict
    seconds: float
    # The calibrated out-of-fold NPL probability of every development applicant (the first repeat's
    # folds, in fold order): what the model says of applicants it has not seen, the honest reference
    # of the score's distribution (the refitted model's own, in-sample, would flatter a forest).
    development_scores: np.ndarray | None = None
    # The registered model's calibrated NPL probability of each test applicant (``split.test`` order).
    test_probability: np.ndarray | None = None
    # The candidate the one-standard-error rule chose; ``winner`` differs from it only when a candidate
    # was requested (``requested``, e.g. the scorecard).
    rule_choice: CandidateResult | None = None
    requested: str | None = None
    # The scorecard, kept for every version for comparison with the registered model (None: it failed,
    # ``scorecard_error`` says why).
    scorecard: ScorecardCompanion | None = None
    scorecard_error: str = ""

    def leaderboard(self) -> list[dict]:
        """Every candidate, best cross-validated mean first, the chosen and the best-mean marked."""
        rows = []
        for candidate in self.candidates:
            row = {
                "name": candidate.name,
                "algorithm": candidate.algorithm,
                "balancing": candidate.balancing,
                "simplicity": candidate.simplicity,
                "best_params": candidate.best_params,
                "cv_metric": SELECTION_METRIC,
                "cv_mean": None,
                "cv_se": None,
                "cv_folds": 0,
                "fold_scores": [],
                "cv_pr_auc": candidate.cv_pr_auc,
                "cv_precision_at_recall": candidate.cv_precision_at_recall,
                "fit_seconds": round(candidate.fit_seconds, 3),
                "error": candidate.error,
                "chosen": candidate is self.winner,
                "best_mean": candidate is self.best_mean,
                "rule_choice": candidate is (self.rule_choice or self.winner),
            }
            if candidate.scored:
                row.update(
                    {
                        "cv_mean": round(candidate.cv_mean, 6),
                        "cv_se": round(candidate.cv_standard_error(self.folds.per_repeat), 6),
                        "cv_folds": len(candidate.fold_scores),
                        # Every fold's score as it is (JSON keeps a float exactly): the record that a
                        # search spread over workers gave what one process gives.
                        "fold_scores": [None if math.isnan(v) else float(v) for v in candidate.fold_scores],
                    }
                )
            rows.append(row)
        return sorted(rows, key=lambda r: (r["cv_mean"] is None, -(r["cv_mean"] or 0.0), r["simplicity"]))


def _clean_params(params: dict) -> dict:
    cleaned = {}
    for key, value in params.items():
        name = key.removeprefix("classifier__")
        if isinstance(value, np.generic):
            value = value.item()
        if isinstance(value, float):
            value = round(value, 6)
        cleaned[name] = value
    return cleaned


def json_params(params: dict) -> dict:
    """Sampled pipeline parameters as plain Python values (numpy scalars unwrapped; values unchanged), so
    that they travel as JSON and set the same pipeline in whichever process rebuilds it."""
    return {key: value.item() if isinstance(value, np.generic) else value for key, value in params.items()}


def _candidate_search(
    algorithm: str,
    balancing: str,
    profile: SearchProfile,
    seed: int,
    X: pd.DataFrame,
    y: pd.Series,
    splits: list,
    sampler_factory: SamplerFactory,
    recall_target: float,
    score_scaling: ScorecardParameters | None,
    n_jobs: int,
) -> tuple[Pipeline, RandomizedSearchCV, tuple[int, ...]]:
    """(the candidate's untuned pipeline, its unfitted RandomizedSearchCV over ``splits``, the forest's
    tree counts): one definition for the whole search in one process and for one fold of it on a worker."""
    classifier = make_classifier(algorithm, balancing, profile, seed, y, score_scaling)
    pipeline = build_candidate_pipeline(algorithm, balancing, classifier, sampler_factory(balancing, seed))
    scoring = {
        "roc_auc": "roc_auc",
        "average_precision": "average_precision",
        "precision_at_recall": functools.partial(precision_at_recall_score, recall_target=recall_target),
    }
    tree_counts = forest_tree_counts(profile) if algorithm == "RandomForestClassifier" else ()
    for trees in tree_counts[:-1]:  # each fold's fitted forest, judged again on its first trees only
        for metric in ("roc_auc", "average_precision", "precision_at_recall"):
            scoring[f"{metric}_{trees}_trees"] = functools.partial(
                forest_prefix_score, metric=metric, trees=trees, recall_target=recall_target
            )
    search = RandomizedSearchCV(
        pipeline,
        parameter_distributions(algorithm, len(X)),
        n_iter=profile.n_iter,
        scoring=scoring,
        cv=splits,
        refit=False,
        random_state=seed,
        n_jobs=n_jobs,
        error_score="raise",
    )
    return pipeline, search, tree_counts


def _fit_search(search: RandomizedSearchCV, X: pd.DataFrame, y: pd.Series) -> dict:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", category=ConvergenceWarning)
        warnings.simplefilter("ignore", category=UserWarning)  # "the total space of parameters is smaller than n_iter"
        search.fit(X, y)
    return search.cv_results_


def _search_candidate(
    candidate: CandidateResult,
    profile: SearchProfile,
    seed: int,
    X: pd.DataFrame,
    y: pd.Series,
    folds: Folds,
    sampler_factory: SamplerFactory,
    recall_target: float,
    score_scaling: ScorecardParameters | None = None,
) -> None:
    """Tune one candidate on the shared folds and record its per-fold scores at its best setting."""
    pipeline, search, tree_counts = _candidate_search(
        candidate.algorithm,
        candidate.balancing,
        profile,
        seed,
        X,
        y,
        list(folds.splits),
        sampler_factory,
        recall_target,
        score_scaling,
        profile.n_jobs,
    )
    _record_best(candidate, _fit_search(search, X, y), tree_counts, folds, pipeline)


def search_candidate_fold(
    X: pd.DataFrame,
    y: pd.Series,
    folds: Folds,
    fold: int,
    *,
    algorithm: str,
    balancing: str,
    profile: SearchProfile,
    seed: int,
    recall_target: float,
    score_scaling: ScorecardParameters | None = None,
) -> dict:
    """One candidate's search on one of the shared folds: the unit of work a worker does.

    The same ``RandomizedSearchCV`` as :func:`search_best_model` runs for the candidate (the same
    sampled settings: the same seed draws them), on the fold ``fold`` of ``folds`` only, in this
    process (``n_jobs=1``: the parallelism is across folds and candidates). Each fit is seeded and
    independent of the others, so every score equals the one the whole search gives for that
    setting and fold. BLAS and OpenMP use one thread (k-NN's neighbour search would take every core).
    Returns JSON: ``params`` (the sampled settings, in order), ``scores`` (per
    scorer, the fold's score of each setting; ``None`` for NaN), ``seconds`` and ``error`` (the
    exception, in words, instead of raising: one failing candidate must not end the search);
    :func:`candidate_from_folds` puts a candidate's folds together.
    """
    started = time.perf_counter()
    outcome = {"algorithm": algorithm, "balancing": balancing, "fold": int(fold), "params": [], "scores": {}}
    try:
        _, search, _ = _candidate_search(
            algorithm,
            balancing,
            profile,
            seed,
            X,
            y,
            [folds.splits[fold]],
            make_sampler,
            recall_target,
            score_scaling,
            1,
        )
        # One fit, one core: the parallelism is across the worker processes (as joblib limits each of
        # its workers when the whole search runs with n_jobs=2 on two cores).
        with threadpool_limits(limits=1):
            results = _fit_search(search, X, y)
        outcome["params"] = [json_params(params) for params in results["params"]]
        outcome["scores"] = {
            key.removeprefix("split0_test_"): [None if math.isnan(v) else float(v) for v in values]
            for key, values in results.items()
            if key.startswith("split0_test_")
        }
        outcome["error"] = ""
    except Exception as exc:  # recorded on the candidate, as the search in one process does
        outcome["error"] = f"{type(exc).__name__}: {exc}"[:500]
    outcome["seconds"] = time.perf_counter() - started
    return outcome


def candidate_from_folds(
    algorithm: str,
    balancing: str,
    outcomes: list[dict],
    *,
    profile: SearchProfile,
    seed: int,
    X: pd.DataFrame,
    y: pd.Series,
    folds: Folds,
    recall_target: float,
    score_scaling: ScorecardParameters | None = None,
) -> CandidateResult:
    """A candidate's result from its folds' :func:`search_candidate_fold` outcomes (any order): the
    scores laid out and averaged exactly as ``RandomizedSearchCV`` does over all folds at once, then
    the best setting recorded as in :func:`search_best_model` — the same fold scores, to the bit.
    ``fit_seconds`` is the sum of the folds' seconds; ``error`` the first failing fold's."""
    candidate = CandidateResult(algorithm=algorithm, balancing=balancing)
    outcomes = sorted(outcomes, key=lambda outcome: outcome["fold"])
    candidate.fit_seconds = float(sum(outcome["seconds"] for outcome in outcomes))
    failed = [outcome["error"] for outcome in outcomes if outcome["error"]]
    if failed:
        candidate.error = failed[0]
        return candidate
    if [outcome["fold"] for outcome in outcomes] != list(range(len(folds.splits))):
        candidate.error = f"Folds missing: got {[outcome['fold'] for outcome in outcomes]} of {len(folds.splits)}"
        return candidate
    settings = outcomes[0]["params"]
    if any(outcome["params"] != settings for outcome in outcomes):
        raise ValueError(f"{algorithm}-{balancing}: the folds sampled different settings (not the same seed?)")
    results: dict = {"params": settings}
    n_settings, n_splits = len(settings), len(outcomes)
    for name in outcomes[0]["scores"]:
        # RandomizedSearchCV's layout: setting by setting, each setting's folds in order.
        flat = [
            np.nan if (value := outcome["scores"][name][index]) is None else value
            for index in range(n_settings)
            for outcome in outcomes
        ]
        table = np.array(flat, dtype=np.float64).reshape(n_settings, n_splits)
        for split in range(n_splits):
            results[f"split{split}_test_{name}"] = table[:, split]
        results[f"mean_test_{name}"] = np.average(table, axis=1)
    pipeline, _, tree_counts = _candidate_search(
        algorithm, balancing, profile, seed, X, y, [], make_sampler, recall_target, score_scaling, 1
    )
    _record_best(candidate, results, tree_counts, folds, pipeline)
    return candidate


def _record_best(candidate: CandidateResult, results: dict, tree_counts: tuple[int, ...], folds: Folds, pipeline):
    """Record the candidate's best setting (by mean ROC AUC over the folds; for a forest, at the fewest
    trees without a gain), its per-fold scores there and its unfitted pipeline at that setting."""
    best = int(np.argmax(results[f"mean_test_{SELECTION_METRIC}"]))
    suffix = ""  # the scores of the forest's smallest tree count without a gain (below), or the model's
    params = json_params(results["params"][best])
    if tree_counts:
        trees = smallest_forest_without_a_gain(results, best, tree_counts, folds)
        suffix = "" if trees == tree_counts[-1] else f"_{trees}_trees"
        params["classifier__n_estimators"] = trees
    candidate.best_params = _clean_params(params)
    candidate.fold_scores = np.array(
        [results[f"split{k}_test_{SELECTION_METRIC}{suffix}"][best] for k in range(len(folds.splits))], dtype=float
    )
    candidate.cv_pr_auc = round(float(results[f"mean_test_average_precision{suffix}"][best]), 6)
    candidate.cv_precision_at_recall = round(float(results[f"mean_test_precision_at_recall{suffix}"][best]), 6)
    candidate.pipeline = clone(pipeline).set_params(**params)


# The fewest trees a forest is judged with: fewer make its probabilities coarse.
MIN_FOREST_TREES = 20


def forest_tree_counts(profile: SearchProfile) -> tuple[int, ...]:
    """The tree counts a random forest candidate is judged with, fewest first: a quarter, a half and
    all of ``profile.forest_trees`` (none below :data:`MIN_FOREST_TREES`)."""
    most = profile.forest_trees
    return tuple(sorted({most, *(count for count in (most // 4, most // 2) if count >= MIN_FOREST_TREES)}))


def forest_prefix_score(pipeline, X, y, *, metric: str, trees: int, recall_target: float) -> float:
    """A scorer: ``metric`` of the fitted forest ``pipeline`` on (X, y) with only its first ``trees`` trees.

    A random forest grown with more trees from the same seed starts with the same trees (each tree's
    seed is drawn in turn from the forest's), so the first ``trees`` trees of the fitted forest are the
    forest that ``n_estimators=trees`` grows: every tree count is judged on every fold from one fit.
    """
    forest = pipeline.named_steps["classifier"]
    matrix = np.asarray(pipeline.named_steps["encoder"].transform(X), dtype=np.float32)
    probability = np.mean(
        [tree.predict_proba(matrix, check_input=False) for tree in forest.estimators_[:trees]], axis=0
    )
    npl = probability[:, list(forest.classes_).index(1)]
    if metric == "roc_auc":
        return float(roc_auc_score(y, npl))
    if metric == "average_precision":
        return float(average_precision_score(y, npl))
    return choose_threshold(y, npl, recall_target).precision


def smallest_forest_without_a_gain(results: dict, best: int, tree_counts: tuple[int, ...], folds: Folds) -> int:
    """The fewest trees the folds show no gain over (at the search's ``best`` setting): fold by fold,
    the largest forest's score minus this one's, whose mean must be within one standard error of
    zero (the same folds and the same first trees, so the comparison is paired: a small gain that
    every fold shows counts; one the folds disagree about does not). More trees than that cost
    prediction time in every score (each tree is evaluated for every applicant) for nothing."""
    splits = range(len(folds.splits))
    most = np.array([results[f"split{k}_test_{SELECTION_METRIC}"][best] for k in splits], dtype=float)
    for trees in tree_counts[:-1]:
        fewer = np.array([results[f"split{k}_test_{SELECTION_METRIC}_{trees}_trees"][best] for k in splits])
        gains = most - fewer
        noise = float(np.std(gains, ddof=1) / math.sqrt(min(folds.per_repeat, len(gains)))) if len(gains) > 1 else 0.0
        if float(np.mean(gains)) <= noise + 1e-12:
            return trees
    return tree_counts[-1]


def out_of_fold_scores(pipeline, X: pd.DataFrame, y: pd.Series, folds: Folds) -> tuple[np.ndarray, np.ndarray]:
    """(labels, scores) pooled over every fold of every repeat: the score calibration reads
    (``decision_function`` where the pipeline has one, else the NPL probability), each from a
    copy of ``pipeline`` fitted without that applicant (:func:`calibration_scores`)."""
    labels, scores = [], []
    for train_rows, held_out in folds.splits:
        fitted = clone(pipeline).fit(X.iloc[train_rows], y.iloc[train_rows])
        part = X.iloc[held_out]
        scores.append(calibration_scores(fitted, part))
        labels.append(y.iloc[held_out].to_numpy())
    return np.concatenate(labels), np.concatenate(scores)


@dataclass
class SearchPlan:
    """What every part of a search shares, decided before any candidate is fitted: the profile (with a
    requested candidate added), the seed, the held-out split and the shared folds, and the book's
    counts. :func:`plan_search` makes it; :func:`plan_to_bytes` hands it to other processes once."""

    profile: SearchProfile
    seed: int
    requested: str | None
    split: DevelopmentSplit
    folds: Folds
    applicants: int
    npl: int
    npl_rate: float

    @functools.cached_property
    def development(self) -> tuple[pd.DataFrame, pd.Series]:
        return features_and_labels(self.split.development)

    @functools.cached_property
    def test(self) -> tuple[pd.DataFrame, pd.Series]:
        return features_and_labels(self.split.test)

    @property
    def candidates(self) -> list[tuple[str, str]]:
        return candidate_names(self.profile)

    def fits(self) -> list[tuple[str, str, int]]:
        """(algorithm, balancing, fold) of every candidate on every shared fold: the search's units of work."""
        return [(a, b, fold) for a, b in self.candidates for fold in range(len(self.folds.splits))]


def plan_search(
    frame: pd.DataFrame,
    *,
    profile: str | SearchProfile = "quick",
    seed: int = 7,
    out_of_time: bool = False,
    candidate: str | None = None,
) -> SearchPlan:
    """Check the data, hold out the test applicants and make the shared folds (steps 1 and 2 of the
    module docstring). Raises :class:`TrainingDataError` when the data cannot train a model."""
    profile = get_profile(profile)
    if candidate is not None and candidate not in REQUESTABLE_CANDIDATES:
        raise ValueError(f"Unknown candidate {candidate!r}: choose one of {', '.join(REQUESTABLE_CANDIDATES)}")
    if candidate is not None and candidate not in profile.algorithms:
        profile = replace(profile, algorithms=(*profile.algorithms, candidate))
    check_training_data(frame)
    split = split_development_test(frame, seed=seed, out_of_time=out_of_time)
    for part_name, part in (("development", split.development), ("test", split.test)):
        positives = int(part["is_npl"].sum())
        if positives < 2 or positives == len(part):
            raise TrainingDataError(
                f"The {part_name} applicants include {positives} NPL among {len(part)}: both classes are needed "
                "on both sides (with an out-of-time split, choose an as-of date that leaves the latest loans time "
                "to mature)."
            )
    _, y_dev = features_and_labels(split.development)
    folds = development_folds(
        y_dev,
        seed=seed,
        n_splits=profile.cv_folds,
        min_predictions=profile.min_oof_predictions,
        max_repeats=profile.max_repeats,
    )
    return SearchPlan(
        profile=profile,
        seed=seed,
        requested=candidate,
        split=split,
        folds=folds,
        applicants=len(frame),
        npl=int(frame["is_npl"].sum()),
        npl_rate=_rate(frame),
    )


def plan_to_bytes(plan: SearchPlan) -> bytes:
    """The plan as bytes (joblib), to hand a search's data to other processes once: see
    :func:`plan_from_bytes`. Only for a trusted store (it is a pickle, like a model artifact)."""
    buffer = io.BytesIO()
    state = {name: getattr(plan, name) for name in SearchPlan.__dataclass_fields__}
    joblib.dump(state, buffer, compress=3)
    return buffer.getvalue()


def plan_from_bytes(data: bytes) -> SearchPlan:
    return SearchPlan(**joblib.load(io.BytesIO(data)))


def _reporter(progress: ProgressCallback | None, progress_range: tuple[int, int]) -> Callable[[float, str], None]:
    low, high = progress_range

    def report(fraction: float, step: str):
        if progress is not None:
            progress(int(low + (high - low) * min(max(fraction, 0.0), 1.0)), step)

    return report


def search_best_model(
    frame: pd.DataFrame,
    *,
    profile: str | SearchProfile = "quick",
    seed: int = 7,
    recall_target: float = DEFAULT_RECALL_TARGET,
    recall_margin_se: float = DEFAULT_RECALL_MARGIN_SE,
    calibration_method: str = "sigmoid",
    out_of_time: bool = False,
    progress: ProgressCallback | None = None,
    sampler_factory: SamplerFactory = make_sampler,
    progress_range: tuple[int, int] = (0, 100),
    score_scaling: ScorecardParameters | None = None,
    candidate: str | None = None,
) -> SearchResult:
    """Search, choose, calibrate, refit and test a model on labelled applicants, in this process; see
    the module docstring.

    ``candidate``: ``None`` registers what the one-standard-error rule chooses; ``"CreditScorecard"``
    registers the scorecard candidate deliberately (searched even when the profile leaves it out; the
    rule's own choice is still reported as ``rule_choice``). Whatever is registered, the scorecard is
    fitted beside it (``scorecard``: its points table and test probabilities, for comparison).
    ``score_scaling``: the credit score's scaling, for the scorecard candidate's points (the
    active decision policy's, from whoever starts training; the defaults when ``None``).
    ``progress(percent, step)`` is called as the search goes, with percents within ``progress_range``.
    ``sampler_factory(balancing, seed)`` builds each candidate's sampler (``None``: no resampling).
    Raises :class:`TrainingDataError` when the data cannot train a model.

    The same search spread over processes or machines is :func:`plan_search`, then
    :func:`search_candidate_fold` for each of the plan's ``fits()`` anywhere, then
    :func:`candidate_from_folds` and :func:`finish_search`: it gives the same result.
    """
    started = time.time()
    report = _reporter(progress, progress_range)
    report(0.0, steps.SPLITTING.text())
    plan = plan_search(frame, profile=profile, seed=seed, out_of_time=out_of_time, candidate=candidate)
    X_dev, y_dev = plan.development
    pairs = plan.candidates
    candidates: list[CandidateResult] = []
    for number, (algorithm, balancing) in enumerate(pairs):
        step = steps.CANDIDATE.text(number=number + 1, total=len(pairs), algorithm=algorithm, balancing=balancing)
        report(0.02 + 0.78 * number / len(pairs), step)
        searched = CandidateResult(algorithm=algorithm, balancing=balancing)
        fit_started = time.perf_counter()
        try:
            _search_candidate(
                searched,
                plan.profile,
                seed,
                X_dev,
                y_dev,
                plan.folds,
                sampler_factory,
                recall_target,
                score_scaling,
            )
        except Exception as exc:  # one failing candidate (e.g. SMOTE on a tiny fold) must not end the search
            searched.error = f"{type(exc).__name__}: {exc}"[:500]
            searched.fold_scores = searched.pipeline = None
        searched.fit_seconds = time.perf_counter() - fit_started
        candidates.append(searched)
    return finish_search(
        plan,
        candidates,
        recall_target=recall_target,
        recall_margin_se=recall_margin_se,
        calibration_method=calibration_method,
        score_scaling=score_scaling,
        progress=progress,
        progress_range=progress_range,
        started=started,
    )


def finish_search(
    plan: SearchPlan,
    candidates: list[CandidateResult],
    *,
    recall_target: float = DEFAULT_RECALL_TARGET,
    recall_margin_se: float = DEFAULT_RECALL_MARGIN_SE,
    calibration_method: str = "sigmoid",
    score_scaling: ScorecardParameters | None = None,
    progress: ProgressCallback | None = None,
    progress_range: tuple[int, int] = (0, 100),
    started: float | None = None,
) -> SearchResult:
    """Choose among the searched ``candidates`` (in the plan's order), calibrate and threshold out of
    fold, refit and test once (steps 5 to 8 of the module docstring). ``started``: when the search
    began (``time.time()``), for the result's ``seconds``."""
    started = time.time() if started is None else started
    report = _reporter(progress, progress_range)
    profile, seed, requested, split, folds = plan.profile, plan.seed, plan.requested, plan.split, plan.folds
    X_dev, y_dev = plan.development
    X_test, y_test = plan.test

    if not any(c.scored for c in candidates):
        errors = "; ".join(f"{c.name}: {c.error}" for c in candidates[:3])
        raise TrainingDataError(f"No candidate model could be trained on this data ({errors}).")
    rule_choice, best_mean = choose_candidate(candidates, folds.per_repeat)
    winner = rule_choice
    if requested is not None:
        winner = next((c for c in candidates if c.algorithm == requested and c.scored), None)
        if winner is None:
            failed = next((c.error for c in candidates if c.algorithm == requested), "")
            raise TrainingDataError(
                f"The requested candidate {requested} could not be trained on this data ({failed})."
            )

    report(0.82, steps.CALIBRATING.text(name=winner.name))
    margin = recall_safety_margin(int(y_dev.sum()), recall_target, recall_margin_se, int(y_test.sum()))
    selection_recall = min(1.0, recall_target + margin)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", category=ConvergenceWarning)
        oof_labels, oof_scores = out_of_fold_scores(winner.pipeline, X_dev, y_dev, folds)
        # The first repeat's folds hold out every development applicant once: the calibrator learns
        # from those scores (out_of_fold_scores lists the folds in order, the first repeat first).
        once = sum(len(held_out) for _, held_out in folds.first_repeat())
        calibrator = ScoreCalibrator(calibration_method).fit(oof_scores[:once], oof_labels[:once])
        pipeline = clone(winner.pipeline).fit(X_dev, y_dev)
    # The calibrator maps the pooled out-of-fold scores to probabilities, on which the threshold is chosen.
    oof_probability = calibrator.predict(oof_scores)
    choice = choose_threshold(oof_labels, oof_probability, selection_recall)
    out_of_fold_metrics = evaluate(oof_labels, oof_probability, choice.threshold)
    raw_is_probability = bool(oof_scores.min() >= 0.0 and oof_scores.max() <= 1.0)
    out_of_fold_metrics.update(
        {
            "brier_before_calibration": (
                round(float(brier_score_loss(oof_labels, oof_scores)), 6) if raw_is_probability else None
            ),
            "recall_target": recall_target,
            "selection_recall": round(selection_recall, 6),
            "recall_margin": round(margin, 6),
            "folds": len(folds.splits),
            "repeats": folds.repeats,
        }
    )

    report(0.93, steps.TESTING.text(name=winner.name))
    test_probability = calibrator.predict(calibration_scores(pipeline, X_test))
    test_metrics = evaluate(y_test, test_probability, choice.threshold)
    test_metrics["intervals"] = bootstrap_intervals(y_test, test_probability, choice.threshold, seed=seed)
    test_metrics["recall_target"] = recall_target
    test_metrics["reached_recall_target"] = test_metrics["recall"] >= recall_target

    npl_total = plan.npl
    training_data = split.summary()
    training_data.update(
        {
            "applicants": plan.applicants,
            "npl": npl_total,
            "npl_rate": plan.npl_rate,
            "uncertain": npl_total < UNCERTAIN_BELOW_NPL,
            "test_app_ids_sha256": applicant_ids_digest(split.test["app_id"]),
        }
    )
    model = TrainedNplModel(
        pipeline=pipeline,
        calibrator=calibrator,
        threshold=choice.threshold,
        algorithm=winner.algorithm,
        balancing=winner.balancing,
        hyperparameters=winner.best_params,
        recall_target=recall_target,
        metadata={
            "profile": profile.name,
            "seed": seed,
            "selection_metric": SELECTION_METRIC,
            "selection_rule": "one standard error" if requested is None else f"requested: {requested}",
            "cv_folds": profile.cv_folds,
            "cv_repeats": folds.repeats,
            "n_iter": profile.n_iter,
            "calibration_method": calibration_method,
            "selection_recall": round(selection_recall, 6),
            "split_method": split.method,
            "reference_values": reference_values(split.development),
            "training_ranges": training_ranges(split.development),
        },
    )
    try:
        scorecard = scorecard_companion(
            winner,
            candidates,
            pipeline,
            test_probability,
            X_dev,
            y_dev,
            X_test,
            folds_per_repeat=folds.per_repeat,
            profile=profile,
            seed=seed,
            score_scaling=score_scaling,
        )
        scorecard_error = ""
    except Exception as exc:  # the comparison must not cost the model it accompanies
        scorecard, scorecard_error = None, f"{type(exc).__name__}: {exc}"[:500]
    report(1.0, steps.CHOSE.text(name=winner.name))
    return SearchResult(
        model=model,
        winner=winner,
        best_mean=best_mean,
        candidates=candidates,
        split=split,
        folds=folds,
        out_of_fold_metrics=out_of_fold_metrics,
        test_metrics=test_metrics,
        training_data=training_data,
        seconds=time.time() - started,
        development_scores=oof_probability[:once],
        test_probability=test_probability,
        rule_choice=rule_choice,
        requested=requested,
        scorecard=scorecard,
        scorecard_error=scorecard_error,
    )


def reference_values(development: pd.DataFrame) -> dict:
    """A typical development applicant: the median of each number and of dp/otr, the most frequent category.

    Stored in the artifact's metadata; the scoring engine compares each applicant with it for reasons.
    """
    values = {
        name: int(round(float(development[name].median())))
        for name in ("monthly_income", "num_of_dependent", "lama_bekerja", "otr", "tenor", "dp")
    }
    otr = development["otr"].astype(float)
    values["dp_ratio"] = round(float((development["dp"].astype(float) / otr.where(otr > 0)).median()), 6)
    for name in ("housing_type", "status_pernikahan", "pekerjaan"):
        values[name] = str(development[name].astype(str).mode().iloc[0])
    return values


def applicant_ids_digest(app_ids) -> str:
    """SHA-256 of the sorted applicant ids: recorded for the test split (``test_app_ids_sha256``), so
    the test applicants rebuilt later (``scoring.strategy``) can be checked to be the same ones."""
    text = ",".join(str(int(i)) for i in sorted(app_ids))
    return hashlib.sha256(text.encode()).hexdigest()
