"""What a model artifact holds: the fitted, calibrated pipeline and everything needed to use it.

The scoring engine loads one :class:`TrainedNplModel` per model version (through
:func:`training.artifacts.load_artifact`) and calls :meth:`TrainedNplModel.predict_npl_probability`
with the nine raw applicant attributes; the encoder inside the pipeline does the rest.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy.special import expit
from sklearn.calibration import _SigmoidCalibration
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.tree import DecisionTreeClassifier
from xgboost import XGBClassifier

from .compiled_trees import few_rows_npl_probability, forest_tree_sums
from .encoder import APPLICANT_ATTRIBUTES, ApplicantFeatureEncoder, variant_columns

ARTIFACT_FORMAT_VERSION = 1
# From this many rows on, a random forest's rows are shared between the prediction threads.
THREADED_FOREST_ROWS = 8192


@dataclass
class TrainedNplModel:
    """A trained NPL classifier with its decision threshold.

    - ``calibrated``: ``CalibratedClassifierCV`` around the frozen ``pipeline``; its probabilities
      match the real NPL rate (resampling during training distorts the raw ones).
    - ``pipeline``: the fitted imblearn ``Pipeline(encoder, sampler, classifier)``; the sampler only
      acts during ``fit``, so prediction is encoder → classifier.
    - ``threshold``: an applicant whose calibrated NPL probability is ≥ this is predicted NPL.
    """

    calibrated: object
    pipeline: object
    threshold: float
    algorithm: str
    balancing: str
    hyperparameters: dict
    recall_target: float
    metadata: dict = field(default_factory=dict)
    format_version: int = ARTIFACT_FORMAT_VERSION

    @property
    def name(self) -> str:
        return f"{self.algorithm}-{self.balancing}"

    # The first and last steps by position: ``named_steps`` builds a new Bunch on every access,
    # and these are read on every score.
    @property
    def encoder(self) -> ApplicantFeatureEncoder:
        return self.pipeline.steps[0][1]

    @property
    def classifier(self):
        return self.pipeline.steps[-1][1]

    @property
    def feature_names(self) -> list[str]:
        return [str(name) for name in self.encoder.get_feature_names_out()]

    def predict_npl_probability(self, applicants) -> np.ndarray:
        """Calibrated probability of becoming NPL, one per applicant: a DataFrame with the nine
        attributes, or a mapping of the nine attribute names to equal-length columns.

        The same numbers as ``calibrated.predict_proba(...)[:, 1]``, computed directly for the
        shape training produces — one sigmoid or isotonic calibrator over the frozen pipeline of a
        binary classifier: encoder → classifier score (``decision_function`` when the classifier
        has one, else the NPL column of ``predict_proba``, the order scikit-learn's calibration
        uses) → calibrator. That skips about 1 ms of scikit-learn's per-call checks and wrappers
        on every scored request. Any other shape goes through ``CalibratedClassifierCV``.

        Some classifiers are evaluated outside their library's checks for speed, each identical
        to what it replaces: a logistic regression's score is the expression ``decision_function``
        computes, a random forest's trees are summed in one loop, and for a few rows the trees of an
        XGBoost model, a forest or a decision tree are evaluated in numpy (:mod:`training.compiled_trees`). A
        sigmoid calibrator is applied as the expression it computes.
        """
        attributes = applicants
        if isinstance(applicants, pd.DataFrame) and list(applicants.columns) != APPLICANT_ATTRIBUTES:
            attributes = applicants[APPLICANT_ATTRIBUTES]
        calibrator = self._single_binary_calibrator()
        if calibrator is None:
            if not isinstance(attributes, pd.DataFrame):
                attributes = pd.DataFrame({name: attributes[name] for name in APPLICANT_ATTRIBUTES})
            return self.calibrated.predict_proba(attributes)[:, 1]
        return self._calibrated_probability(self.encoder.transform(attributes), calibrator)

    def predict_npl_probability_of_variants(
        self, applicants, variants: Sequence[Mapping[str, object]], rows: Sequence[np.ndarray | None] | None = None
    ) -> np.ndarray:
        """:meth:`predict_npl_probability` of the applicants followed by each variant of them (see
        :meth:`ApplicantFeatureEncoder.transform_variants` for what a variant and its ``rows`` are).
        The encoder builds the variants' features from the applicants' own instead of encoding
        every variant from scratch; the probabilities are the same."""
        calibrator = self._single_binary_calibrator()
        if calibrator is None:
            return self.predict_npl_probability(variant_columns(applicants, variants, rows))
        return self._calibrated_probability(self.encoder.transform_variants(applicants, variants, rows), calibrator)

    def _calibrated_probability(self, features: np.ndarray, calibrator) -> np.ndarray:
        classifier = self.classifier
        if type(classifier) is LogisticRegression and classifier.coef_.shape[0] == 1:
            # LogisticRegression.decision_function without its input checks: the same expression.
            raw = (features @ classifier.coef_.T + classifier.intercept_).reshape(-1)
        elif hasattr(classifier, "decision_function"):
            raw = classifier.decision_function(features)
        elif _is_sequential_binary_forest(classifier):
            raw = _forest_npl_probability(classifier, features, self.__dict__.get("_prediction_threads", 1))
        elif type(classifier) in (XGBClassifier, DecisionTreeClassifier):
            raw = few_rows_npl_probability(classifier, features)
            if raw is None:
                raw = classifier.predict_proba(features)[:, 1]
        else:
            raw = classifier.predict_proba(features)[:, 1]
        if type(calibrator) is _SigmoidCalibration:
            # _SigmoidCalibration.predict without its input check: the same expression.
            probability = np.asarray(expit(-(calibrator.a_ * np.asarray(raw) + calibrator.b_)), dtype=np.float64)
        else:
            probability = np.asarray(calibrator.predict(raw), dtype=np.float64)
        # As scikit-learn does: a probability a rounding error above 1 is 1.
        probability[(probability > 1.0) & (probability <= 1.0 + 1e-5)] = 1.0
        return probability

    def use_prediction_threads(self, threads: int) -> None:
        """Let prediction use up to ``threads`` threads on large inputs: XGBoost's ``nthread``, and
        a random forest's rows split between threads (:func:`_forest_npl_probability`). Each row is
        computed the same way on any thread, so the results do not change."""
        self.__dict__["_prediction_threads"] = max(1, int(threads))
        if type(self.classifier) is XGBClassifier:
            self.classifier.get_booster().set_param("nthread", threads)

    def _single_binary_calibrator(self):
        """The calibrator when ``calibrated`` is one sigmoid/isotonic calibration of this binary pipeline."""
        calibrated_classifiers = getattr(self.calibrated, "calibrated_classifiers_", ())
        if len(calibrated_classifiers) != 1:
            return None
        calibrated = calibrated_classifiers[0]
        frozen = getattr(calibrated.estimator, "estimator", None)  # FrozenEstimator(pipeline)
        if (
            calibrated.method not in ("sigmoid", "isotonic")
            or frozen is not self.pipeline
            or len(calibrated.classes) != 2
            or len(calibrated.calibrators) != 1
            or list(self.classifier.classes_) != [0, 1]
            or [name for name, _ in self.pipeline.steps] != ["encoder", "sampler", "classifier"]
            or not _skipped_at_prediction(self.pipeline.steps[1][1])
        ):
            return None
        return calibrated.calibrators[0]

    def predict_is_npl(self, applicants: pd.DataFrame) -> np.ndarray:
        return self.predict_npl_probability(applicants) >= self.threshold


def _skipped_at_prediction(step) -> bool:
    """imblearn applies a pipeline step at prediction unless it is a sampler (or absent)."""
    return step is None or step == "passthrough" or hasattr(step, "fit_resample")


def _is_sequential_binary_forest(classifier) -> bool:
    return (
        type(classifier) is RandomForestClassifier
        and classifier.n_outputs_ == 1
        and classifier.n_classes_ == 2
        and classifier.n_jobs in (None, 1)
    )


def _forest_npl_probability(forest: RandomForestClassifier, features: np.ndarray, threads: int = 1) -> np.ndarray:
    """``forest.predict_proba(features)[:, 1]``, the trees summed in one loop.

    scikit-learn sends every tree through joblib even with ``n_jobs=1`` — about 35 µs a tree, so
    3.8 ms for the 100 trees of the full search profile on the few rows of one scoring request,
    against 0.5 ms here. The sums are the same, in the same order (estimator order, as joblib runs
    them one by one with ``n_jobs=1``), divided the same way, so the result is identical. Up to
    :data:`~training.compiled_trees.MAX_ROWS` rows, the forest's compiled trees give the same sums
    when they are faster (:func:`~training.compiled_trees.few_rows_npl_probability`). From
    :data:`THREADED_FOREST_ROWS` rows on, ``threads`` threads each take a share of the rows (the
    trees' traversal runs without the GIL); every row is still summed in estimator order.
    """
    rows = np.asarray(features, dtype=np.float32)
    compiled = few_rows_npl_probability(forest, rows)
    if compiled is not None:
        return compiled
    if threads > 1 and len(rows) >= THREADED_FOREST_ROWS:
        parts = np.array_split(rows, threads)
        with ThreadPoolExecutor(max_workers=threads) as pool:
            return np.concatenate(list(pool.map(functools.partial(forest_tree_sums, forest), parts)))
    return forest_tree_sums(forest, rows)
