"""The model search: split, search every algorithm × balancing, choose, calibrate, test.

:func:`search_best_model` does the whole thing on a frame of labelled applicants (one row per
applicant, as :func:`applicants.selectors.labelled_applicants_frame` returns it):

1. **Split by applicant** (:func:`split_by_applicant`) into train / validation / test (60/20/20,
   stratified on NPL, seeded; or out-of-time by ``disbursement_date``). No applicant is in two splits.
2. **Search** every algorithm in :data:`ALGORITHMS` × balancing in :data:`BALANCINGS` with a
   ``RandomizedSearchCV`` over an imblearn ``Pipeline(encoder, sampler, classifier)`` on the
   training split with ``StratifiedKFold``. The sampler runs only inside ``fit``, so resampling
   touches training-fold rows only — never a CV scoring fold, the validation or the test split.
3. **Threshold per candidate on validation** (:func:`choose_threshold`): the best precision among
   thresholds whose validation recall is ≥ the recall target (default 0.90) plus a safety margin.
   The margin is ``recall_margin_se`` (default 1.0) standard errors of a recall estimated on the
   validation split's NPL count, √(t·(1−t)/n) — about 0.02 with 240 validation NPL. Validation
   recall is itself an estimate, and picking the winner by validation precision favours candidates
   whose validation NPL happened to rank well; chosen exactly at the target, the untouched test
   recall would fall below it about half of the time. Each standard error costs precision (about
   2–3 % on the generated book), so the margin is configurable (``TRAINING_RECALL_MARGIN_SE``).
4. **Winner**: best validation precision at that recall, ties broken by F1.
5. **Calibration** of the winner's probabilities to the real NPL rate (resampling and class
   weights distort them): ``CalibratedClassifierCV(FrozenEstimator(pipeline))`` fitted on the
   validation split, ``sigmoid`` (Platt) by default: it is strictly monotone, so it keeps the
   validated ranking (isotonic would merge applicants into ties); the threshold is then chosen
   again on the calibrated validation probabilities. Brier scores before and after are reported.
6. **Test**: the untouched test split gives precision, recall, F1, accuracy, ROC AUC, PR AUC, the
   confusion matrix, ROC and PR curve points, a calibration table and the Brier score.

Everything is seeded: the same frame, profile and seed give the same model and numbers.
"""

from __future__ import annotations

import hashlib
import math
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd
from imblearn.over_sampling import SMOTE, RandomOverSampler
from imblearn.pipeline import Pipeline
from imblearn.under_sampling import RandomUnderSampler
from scipy.stats import loguniform, randint, uniform
from sklearn.calibration import CalibratedClassifierCV
from sklearn.ensemble import RandomForestClassifier
from sklearn.exceptions import ConvergenceWarning
from sklearn.frozen import FrozenEstimator
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
from sklearn.model_selection import RandomizedSearchCV, StratifiedKFold, train_test_split
from sklearn.neighbors import KNeighborsClassifier
from sklearn.tree import DecisionTreeClassifier
from xgboost import XGBClassifier

from . import steps
from .encoder import APPLICANT_ATTRIBUTES, ApplicantFeatureEncoder
from .trained_model import TrainedNplModel

ALGORITHMS = (
    "LogisticRegression",
    "DecisionTreeClassifier",
    "RandomForestClassifier",
    "KNeighborsClassifier",
    "XGBClassifier",
)
BALANCINGS = ("undersampling", "oversampling", "smote", "class_weight")
BALANCING_LABELS = {
    "undersampling": "random undersampling of non-NPL",
    "oversampling": "random oversampling of NPL",
    "smote": "SMOTE synthetic NPL",
    "class_weight": "class weights, no resampling",
}

DEFAULT_RECALL_TARGET = 0.90
DEFAULT_RECALL_MARGIN_SE = 1.0
# Fewer applicants than this in either class cannot be split three ways and cross-validated.
MIN_APPLICANTS_PER_CLASS = 30

ProgressCallback = Callable[[int, str], None]
SamplerFactory = Callable[[str, int], object | None]


class TrainingDataError(ValueError):
    """The labelled data cannot train a model (none, one class, too few NPL); the message says why."""


# --------------------------------------------------------------------------------------------
# Profiles
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SearchProfile:
    """How hard to search. Every profile runs all algorithms × balancings unless narrowed."""

    name: str
    n_iter: int
    cv_folds: int
    forest_trees: int
    boosting_rounds: int
    algorithms: tuple[str, ...] = ALGORITHMS
    balancings: tuple[str, ...] = BALANCINGS
    scoring: str = "average_precision"
    n_jobs: int = 1
    description: str = ""


PROFILES: dict[str, SearchProfile] = {
    "quick": SearchProfile(
        name="quick",
        n_iter=1,
        cv_folds=3,
        forest_trees=40,
        boosting_rounds=60,
        description="every algorithm × balancing, one sampled setting each, 3-fold CV, small ensembles",
    ),
    "full": SearchProfile(
        name="full",
        n_iter=8,
        cv_folds=4,
        forest_trees=100,
        boosting_rounds=200,
        n_jobs=2,
        description="every algorithm × balancing, 8 sampled settings each, 4-fold CV, two processes",
    ),
    "smoke": SearchProfile(
        name="smoke",
        n_iter=1,
        cv_folds=3,
        forest_trees=10,
        boosting_rounds=10,
        algorithms=("LogisticRegression", "DecisionTreeClassifier"),
        balancings=("class_weight", "undersampling"),
        description="two algorithms × two balancings, for tests and demos: seconds on small data",
    ),
}


def get_profile(profile: str | SearchProfile) -> SearchProfile:
    if isinstance(profile, SearchProfile):
        return profile
    try:
        return PROFILES[profile]
    except KeyError:
        raise ValueError(f"Unknown training profile {profile!r}: choose one of {', '.join(PROFILES)}") from None


# --------------------------------------------------------------------------------------------
# Splitting
# --------------------------------------------------------------------------------------------


@dataclass
class ApplicantSplit:
    train: pd.DataFrame
    validation: pd.DataFrame
    test: pd.DataFrame
    method: str

    def summary(self) -> dict:
        def part(frame):
            return {"applicants": len(frame), "npl": int(frame["is_npl"].sum()), "npl_rate": _rate(frame)}

        return {
            "method": self.method,
            "train": part(self.train),
            "validation": part(self.validation),
            "test": part(self.test),
        }


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
            f"{MIN_APPLICANTS_PER_CLASS} of each to split into train, validation and test and cross-validate."
        )


def split_by_applicant(
    frame: pd.DataFrame,
    *,
    seed: int,
    validation_fraction: float = 0.2,
    test_fraction: float = 0.2,
    out_of_time: bool = False,
) -> ApplicantSplit:
    """Split applicants (one row each) into train / validation / test; no applicant is in two.

    Stratified on ``is_npl`` and seeded by default. ``out_of_time=True`` puts the most recently
    disbursed applicants in test and the ones before them in validation (ties by ``app_id``),
    which tests how the model ages — note that recent loans have had less time to reach 90+ DPD.
    """
    if frame["app_id"].duplicated().any():
        raise TrainingDataError("Applicant ids must be unique before splitting by applicant.")
    if out_of_time:
        ordered = frame.sort_values(["disbursement_date", "app_id"], kind="stable")
        n = len(ordered)
        n_test = round(n * test_fraction)
        n_validation = round(n * validation_fraction)
        train = ordered.iloc[: n - n_test - n_validation]
        validation = ordered.iloc[n - n_test - n_validation : n - n_test]
        test = ordered.iloc[n - n_test :]
        method = "out-of-time by disbursement_date"
    else:
        labels = frame["is_npl"].astype(bool)
        rest, test = train_test_split(frame, test_size=test_fraction, stratify=labels, random_state=seed)
        train, validation = train_test_split(
            rest,
            test_size=validation_fraction / (1 - test_fraction),
            stratify=rest["is_npl"].astype(bool),
            random_state=seed + 1,
        )
        method = "stratified on NPL"
    return ApplicantSplit(
        train=train.sort_values("app_id").reset_index(drop=True),
        validation=validation.sort_values("app_id").reset_index(drop=True),
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


# --------------------------------------------------------------------------------------------
# Candidates
# --------------------------------------------------------------------------------------------


def make_sampler(balancing: str, seed: int):
    """The resampler for a balancing strategy, or ``None`` for class weights (no resampling).

    This is the default of ``search_best_model(sampler_factory=...)``, the public hook through which
    a caller can substitute its own sampler (e.g. one that records which rows it is given).
    """
    if balancing == "undersampling":
        return RandomUnderSampler(random_state=seed)
    if balancing == "oversampling":
        return RandomOverSampler(random_state=seed)
    if balancing == "smote":
        return SMOTE(random_state=seed, k_neighbors=5)
    if balancing == "class_weight":
        return None
    raise ValueError(f"Unknown balancing {balancing!r}: choose one of {', '.join(BALANCINGS)}")


def make_classifier(algorithm: str, balancing: str, profile: SearchProfile, seed: int, y_train: pd.Series):
    """The untuned classifier of a candidate; class weights only for the ``class_weight`` balancing.

    KNeighborsClassifier cannot weight classes, so its ``class_weight`` candidate is the plain
    classifier: its validation-chosen threshold is what adapts it to the rare NPL class.
    """
    weighted = balancing == "class_weight"
    class_weight = "balanced" if weighted else None
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
    if algorithm == "LogisticRegression":
        grid = {"C": loguniform(0.05, 50)}
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
    """``Pipeline(encoder, sampler, classifier)``; the sampler step is skipped at prediction."""
    return Pipeline(
        [
            ("encoder", ApplicantFeatureEncoder(scale=True)),
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


def recall_safety_margin(n_positive: int, recall_target: float, margin_se: float) -> float:
    """``margin_se`` standard errors of a recall of ``recall_target`` estimated on ``n_positive`` NPL."""
    if n_positive <= 0 or margin_se <= 0:
        return 0.0
    return margin_se * math.sqrt(recall_target * (1 - recall_target) / n_positive)


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
    """Every reported metric of a model on one split, at its decision threshold."""
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
    cv_score: float | None = None
    validation: ThresholdChoice | None = None
    validation_pr_auc: float | None = None
    fit_seconds: float = 0.0
    error: str = ""
    pipeline: object = None

    @property
    def name(self) -> str:
        return f"{self.algorithm}-{self.balancing}"

    def leaderboard_row(self, scoring: str) -> dict:
        row = {
            "name": self.name,
            "algorithm": self.algorithm,
            "balancing": self.balancing,
            "best_params": self.best_params,
            "cv_metric": scoring,
            "cv_score": self.cv_score,
            "validation_pr_auc": self.validation_pr_auc,
            "threshold": None,
            "validation_precision": None,
            "validation_recall": None,
            "validation_f1": None,
            "fit_seconds": round(self.fit_seconds, 3),
            "error": self.error,
        }
        if self.validation is not None:
            row.update(
                {
                    "threshold": round(self.validation.threshold, 6),
                    "validation_precision": self.validation.precision,
                    "validation_recall": self.validation.recall,
                    "validation_f1": self.validation.f1,
                }
            )
        return row


@dataclass
class SearchResult:
    model: TrainedNplModel
    winner: CandidateResult
    candidates: list[CandidateResult]
    split: ApplicantSplit
    validation_metrics: dict
    test_metrics: dict
    training_data: dict
    seconds: float

    def leaderboard(self) -> list[dict]:
        """Every candidate, best first (validation precision at the recall target, then F1)."""
        rows = [c.leaderboard_row(self.model.metadata.get("scoring", "")) for c in self.candidates]
        for row in rows:
            row["winner"] = row["name"] == self.winner.name
        return sorted(rows, key=_leaderboard_sort_key)


def _leaderboard_sort_key(row: dict):
    if row.get("validation_precision") is None:
        return (1, 0.0, 0.0, row["name"])
    return (0, -round(row["validation_precision"], 4), -row["validation_f1"], row["name"])


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


def _search_candidate(
    algorithm: str,
    balancing: str,
    profile: SearchProfile,
    seed: int,
    X_train: pd.DataFrame,
    y_train: pd.Series,
    sampler_factory: SamplerFactory,
) -> RandomizedSearchCV:
    classifier = make_classifier(algorithm, balancing, profile, seed, y_train)
    pipeline = build_candidate_pipeline(algorithm, balancing, classifier, sampler_factory(balancing, seed))
    search = RandomizedSearchCV(
        pipeline,
        parameter_distributions(algorithm, len(X_train)),
        n_iter=profile.n_iter,
        scoring=profile.scoring,
        cv=StratifiedKFold(n_splits=profile.cv_folds, shuffle=True, random_state=seed),
        refit=True,
        random_state=seed,
        n_jobs=profile.n_jobs,
        error_score="raise",
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", category=ConvergenceWarning)
        search.fit(X_train, y_train)
    return search


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
) -> SearchResult:
    """Search, choose, calibrate and test a model on labelled applicants; see the module docstring.

    ``progress(percent, step)`` is called as the search goes, with percents within ``progress_range``.
    ``sampler_factory(balancing, seed)`` builds each candidate's sampler (``None``: no resampling).
    Raises :class:`TrainingDataError` when the data cannot train a model.
    """
    started = time.perf_counter()
    profile = get_profile(profile)
    low, high = progress_range

    def report(fraction: float, step: str):
        if progress is not None:
            progress(int(low + (high - low) * min(max(fraction, 0.0), 1.0)), step)

    check_training_data(frame)
    report(0.0, steps.SPLITTING.text())
    split = split_by_applicant(frame, seed=seed, out_of_time=out_of_time)
    for part_name, part in (("train", split.train), ("validation", split.validation), ("test", split.test)):
        positives = int(part["is_npl"].sum())
        if positives < 2 or positives == len(part):
            raise TrainingDataError(
                f"The {part_name} split has {positives} NPL among {len(part)} applicants: both classes are needed "
                "in every split (with an out-of-time split, choose an as-of date that leaves the latest loans time "
                "to mature)."
            )
    X_train, y_train = features_and_labels(split.train)
    X_val, y_val = features_and_labels(split.validation)
    X_test, y_test = features_and_labels(split.test)
    margin = recall_safety_margin(int(y_val.sum()), recall_target, recall_margin_se)
    selection_recall = min(1.0, recall_target + margin)

    combos = [(a, b) for a in profile.algorithms for b in profile.balancings]
    candidates: list[CandidateResult] = []
    for number, (algorithm, balancing) in enumerate(combos):
        step = steps.CANDIDATE.text(number=number + 1, total=len(combos), algorithm=algorithm, balancing=balancing)
        report(0.02 + 0.83 * number / len(combos), step)
        candidate = CandidateResult(algorithm=algorithm, balancing=balancing)
        fit_started = time.perf_counter()
        try:
            search = _search_candidate(algorithm, balancing, profile, seed, X_train, y_train, sampler_factory)
            candidate.pipeline = search.best_estimator_
            candidate.best_params = _clean_params(search.best_params_)
            candidate.cv_score = round(float(search.best_score_), 6)
            val_probability = candidate.pipeline.predict_proba(X_val)[:, 1]
            candidate.validation = choose_threshold(y_val, val_probability, selection_recall)
            candidate.validation_pr_auc = round(float(average_precision_score(y_val, val_probability)), 6)
        except Exception as exc:  # one failing candidate (e.g. SMOTE on a tiny fold) must not end the search
            candidate.error = f"{type(exc).__name__}: {exc}"[:500]
            candidate.pipeline = None
        candidate.fit_seconds = time.perf_counter() - fit_started
        candidates.append(candidate)

    fitted = [c for c in candidates if c.validation is not None]
    if not fitted:
        errors = "; ".join(f"{c.name}: {c.error}" for c in candidates[:3])
        raise TrainingDataError(f"No candidate model could be trained on this data ({errors}).")
    winner = min(fitted, key=lambda c: (-round(c.validation.precision, 4), -c.validation.f1, c.name))

    report(0.86, steps.CALIBRATING.text(name=winner.name))
    raw_val_probability = winner.pipeline.predict_proba(X_val)[:, 1]
    calibrated = CalibratedClassifierCV(FrozenEstimator(winner.pipeline), method=calibration_method)
    calibrated.fit(X_val, y_val)
    val_probability = calibrated.predict_proba(X_val)[:, 1]
    choice = choose_threshold(y_val, val_probability, selection_recall)
    validation_metrics = evaluate(y_val, val_probability, choice.threshold)
    validation_metrics.update(
        {
            "brier_before_calibration": round(float(brier_score_loss(y_val, raw_val_probability)), 6),
            "recall_target": recall_target,
            "selection_recall": round(selection_recall, 6),
            "recall_margin": round(margin, 6),
        }
    )

    report(0.93, steps.TESTING.text(name=winner.name))
    test_probability = calibrated.predict_proba(X_test)[:, 1]
    test_metrics = evaluate(y_test, test_probability, choice.threshold)
    test_metrics["recall_target"] = recall_target
    test_metrics["reached_recall_target"] = test_metrics["recall"] >= recall_target

    training_data = split.summary()
    training_data.update(
        {
            "applicants": len(frame),
            "npl": int(frame["is_npl"].sum()),
            "npl_rate": _rate(frame),
            "test_app_ids_sha256": applicant_ids_digest(split.test["app_id"]),
        }
    )
    model = TrainedNplModel(
        calibrated=calibrated,
        pipeline=winner.pipeline,
        threshold=choice.threshold,
        algorithm=winner.algorithm,
        balancing=winner.balancing,
        hyperparameters=winner.best_params,
        recall_target=recall_target,
        metadata={
            "profile": profile.name,
            "seed": seed,
            "scoring": profile.scoring,
            "cv_folds": profile.cv_folds,
            "n_iter": profile.n_iter,
            "calibration_method": calibration_method,
            "selection_recall": round(selection_recall, 6),
            "split_method": split.method,
            "reference_values": reference_values(split.train),
        },
    )
    report(1.0, steps.CHOSE.text(name=winner.name))
    return SearchResult(
        model=model,
        winner=winner,
        candidates=candidates,
        split=split,
        validation_metrics=validation_metrics,
        test_metrics=test_metrics,
        training_data=training_data,
        seconds=time.perf_counter() - started,
    )


def reference_values(train: pd.DataFrame) -> dict:
    """A typical training applicant: the median of each number and of dp/otr, the most frequent category.

    Stored in the artifact's metadata; the scoring engine compares each applicant with it for reasons.
    """
    values = {
        name: int(round(float(train[name].median())))
        for name in ("monthly_income", "num_of_dependent", "lama_bekerja", "otr", "tenor", "dp")
    }
    otr = train["otr"].astype(float)
    values["dp_ratio"] = round(float((train["dp"].astype(float) / otr.where(otr > 0)).median()), 6)
    for name in ("housing_type", "status_pernikahan", "pekerjaan"):
        values[name] = str(train[name].astype(str).mode().iloc[0])
    return values


def applicant_ids_digest(app_ids) -> str:
    """SHA-256 of the sorted applicant ids: recorded for the test split (``test_app_ids_sha256``), so
    the test applicants rebuilt later (``scoring.strategy``) can be checked to be the same ones."""
    text = ",".join(str(int(i)) for i in sorted(app_ids))
    return hashlib.sha256(text.encode()).hexdigest()


def narrowed_profile(profile: str | SearchProfile, **changes) -> SearchProfile:
    """A copy of a profile with some fields changed (e.g. fewer algorithms for a test)."""
    return replace(get_profile(profile), **changes)
