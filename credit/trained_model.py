"""What a model artifact holds: the fitted, calibrated pipeline and everything needed to use it.

The scoring engine loads one :class:`TrainedNplModel` per model version (through
:func:`training.artifacts.load_artifact`) and calls :meth:`TrainedNplModel.predict_npl_probability`
with the nine raw applicant attributes; the encoder inside the pipeline does the rest.

**How a fitted pipeline is evaluated at scoring time** (:func:`pipeline_scorer`). At prediction the
pipeline ``(encoder, sampler, classifier)`` is the encoder's ``transform`` followed by the
classifier's ``decision_function`` (or ``predict_proba``): the sampler only acts in ``fit``. The
engine calls those two public methods itself, once per model call, rather than the imblearn
pipeline's, whose per-call checks (fitted-ness, metadata routing, estimator tags) cost about as
much as the encoder on the ten rows of one applicant. Two classifiers are evaluated through other
public calls, because their own ``predict_proba`` spends most of its time on per-call machinery:

- a **random forest**: the mean of its trees' probabilities — ``estimators_``, each fitted
  ``DecisionTreeClassifier``'s ``predict_proba(X, check_input=False)`` on the float32 matrix, summed
  in the forest's order and divided by their number, which is what ``RandomForestClassifier.predict_proba``
  computes (its definition), without the joblib dispatch it pays per tree even with ``n_jobs=1``
  (about 40 µs a tree, 4 ms for a forest of 100, against 10 µs);
- the **credit scorecard**: its weight-of-evidence tables
  (:meth:`credit.credit_scorecard.CreditScorecard.decision_function_of_features`).

Tests hold every algorithm's scores equal to the pipeline's own (``calibration_scores``) to 1e-12;
a pipeline of another shape is evaluated through its own methods.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import sklearn
from sklearn.ensemble import RandomForestClassifier
from sklearn.isotonic import IsotonicRegression
from sklearn.linear_model import LogisticRegression

from credit.credit_scorecard import CreditScorecard
from credit.encoder import ApplicantFeatureEncoder

# 2: the model owns its calibrator (ScoreCalibrator), fitted with public estimators. Format 1 held a
# CalibratedClassifierCV whose calibrator was read through a private class; it is refused at load.
ARTIFACT_FORMAT_VERSION = 2
CALIBRATION_METHODS = ("sigmoid", "isotonic")


class ScoreCalibrator:
    """Maps the pipeline's score (:func:`calibration_scores`) to a calibrated NPL probability.

    Fitted on out-of-fold scores of the development applicants, with public scikit-learn estimators:

    - ``sigmoid`` (Platt scaling): an unpenalised ``LogisticRegression`` on the score, with Platt's
      smoothed targets — strictly monotone, two parameters, safe on small books;
    - ``isotonic``: ``IsotonicRegression(out_of_bounds="clip")`` — monotone, free-form, needs more data.
    """

    def __init__(self, method: str = "sigmoid"):
        if method not in CALIBRATION_METHODS:
            raise ValueError(
                f"Unknown calibration method {method!r}; expected one of {', '.join(CALIBRATION_METHODS)}."
            )
        self.method = method

    def fit(self, scores, labels) -> ScoreCalibrator:
        scores = np.asarray(scores, dtype=np.float64)
        labels = np.asarray(labels).astype(int)
        if self.method == "sigmoid":
            # Platt's targets: (N+ + 1)/(N+ + 2) for NPL, 1/(N- + 2) for the others, a prior that keeps a
            # small book's probabilities off 0 and 1. As sample weights of each score seen once as NPL
            # and once as not: the same likelihood, so the same fit as Platt's method.
            positives = int(labels.sum())
            negatives = len(labels) - positives
            target = np.where(labels == 1, (positives + 1.0) / (positives + 2.0), 1.0 / (negatives + 2.0))
            both = np.concatenate([scores, scores]).reshape(-1, 1)
            classes = np.concatenate([np.ones(len(scores), dtype=int), np.zeros(len(scores), dtype=int)])
            weights = np.concatenate([target, 1.0 - target])
            self.estimator_ = LogisticRegression(C=np.inf, tol=1e-10, max_iter=1000).fit(
                both, classes, sample_weight=weights
            )
        else:
            self.estimator_ = IsotonicRegression(out_of_bounds="clip", y_min=0.0, y_max=1.0).fit(scores, labels)
        return self

    def predict(self, scores) -> np.ndarray:
        """The NPL probability of each score, in [0, 1]."""
        scores = np.asarray(scores, dtype=np.float64)
        if self.method == "sigmoid":
            probability = self.estimator_.predict_proba(scores.reshape(-1, 1))[:, 1]
        else:
            probability = self.estimator_.predict(scores)
        return np.clip(np.asarray(probability, dtype=np.float64), 0.0, 1.0)


@dataclass
class TrainedNplModel:
    """A trained NPL classifier with its decision threshold.

    - ``pipeline``: the fitted imblearn ``Pipeline(encoder, sampler, classifier)``; the sampler only
      acts during ``fit``, so prediction is encoder → classifier.
    - ``calibrator``: the :class:`ScoreCalibrator` fitted on the pipeline's out-of-fold scores; its
      probabilities match the real NPL rate (resampling during training distorts the raw ones).
    - ``threshold``: an applicant whose calibrated NPL probability is ≥ this is predicted NPL.
    """

    pipeline: object
    calibrator: ScoreCalibrator
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

    @property
    def encoder(self) -> ApplicantFeatureEncoder:
        return self.pipeline.named_steps["encoder"]

    @property
    def classifier(self):
        return self.pipeline.named_steps["classifier"]

    @property
    def feature_names(self) -> list[str]:
        return [str(name) for name in self.encoder.get_feature_names_out()]

    def predict_npl_probability(self, applicants) -> np.ndarray:
        """Calibrated probability of becoming NPL, one per applicant, for a DataFrame with the nine
        attributes (or a mapping of the nine attribute names to equal-length columns): the
        calibrator's ``predict`` of the pipeline's score. Score many rows in one call: the
        libraries' per-call cost is then shared by all of them."""
        # The pipeline's first step, the encoder, reads the attributes by name from either.
        # Its matrix is finite by construction (missing numbers take the training medians, ratios
        # are capped), so scikit-learn's finiteness scans of it are skipped.
        scores = self._scorer()
        with sklearn.config_context(assume_finite=True):
            return self.calibrator.predict(scores(applicants))

    def predict_is_npl(self, applicants) -> np.ndarray:
        return self.predict_npl_probability(applicants) >= self.threshold

    def _scorer(self) -> Callable:
        """:func:`pipeline_scorer` of the pipeline, made on first use (not stored in the artifact)."""
        scorer = self.__dict__.get("_pipeline_scorer")
        if scorer is None:
            scorer = self.__dict__["_pipeline_scorer"] = pipeline_scorer(self.pipeline)
        return scorer

    def __getstate__(self) -> dict:
        state = dict(self.__dict__)
        state.pop("_pipeline_scorer", None)
        return state


def calibration_scores(pipeline, X) -> np.ndarray:
    """The score the calibrator maps to a probability: the fitted pipeline's ``decision_function``
    where it has one, else its NPL probability."""
    if hasattr(pipeline, "decision_function"):
        return np.asarray(pipeline.decision_function(X), dtype=np.float64)
    return pipeline.predict_proba(X)[:, 1]


def pipeline_scorer(pipeline) -> Callable:
    """A function of applicants giving ``calibration_scores(pipeline, applicants)``, through the
    encoder's and the classifier's own public methods (see the module docstring)."""
    steps = getattr(pipeline, "named_steps", {})
    encoder, classifier = steps.get("encoder"), steps.get("classifier")
    if list(steps) != ["encoder", "sampler", "classifier"] or not isinstance(encoder, ApplicantFeatureEncoder):
        return lambda applicants: calibration_scores(pipeline, applicants)
    # A numpy matrix whatever the encoder hands on inside the pipeline (the scorecard's: a DataFrame).
    encoder = copy.deepcopy(encoder).set_output(transform="default")
    if isinstance(classifier, CreditScorecard) and classifier.reads_features(encoder.get_feature_names_out()):
        return lambda applicants: classifier.decision_function_of_features(encoder.transform(applicants))
    if type(classifier) is RandomForestClassifier:
        return lambda applicants: forest_npl_probability(classifier, encoder.transform(applicants))
    if isinstance(classifier, CreditScorecard):  # fitted before it kept its tables: its own methods
        return lambda applicants: calibration_scores(pipeline, applicants)
    if hasattr(classifier, "decision_function"):
        return lambda applicants: np.asarray(classifier.decision_function(encoder.transform(applicants)), np.float64)
    return lambda applicants: classifier.predict_proba(encoder.transform(applicants))[:, 1]


def forest_npl_probability(forest: RandomForestClassifier, features: np.ndarray) -> np.ndarray:
    """``forest.predict_proba(features)[:, 1]``: the mean of its trees' probabilities, summed in the
    forest's order on the float32 matrix the forest itself converts to (see the module docstring)."""
    matrix = np.asarray(features, dtype=np.float32)
    total = np.zeros((matrix.shape[0], len(forest.classes_)), dtype=np.float64)
    for tree in forest.estimators_:
        total += tree.predict_proba(matrix, check_input=False)
    total /= len(forest.estimators_)
    return total[:, 1]
