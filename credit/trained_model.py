"""What a model artifact holds: the fitted, calibrated pipeline and everything needed to use it.

The scoring engine loads one :class:`TrainedNplModel` per model version (through
:func:`training.artifacts.load_artifact`) and calls :meth:`TrainedNplModel.predict_npl_probability`
with the nine raw applicant attributes; the encoder inside the pipeline does the rest.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import sklearn

from credit.encoder import ApplicantFeatureEncoder

ARTIFACT_FORMAT_VERSION = 1


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
        attributes (or a mapping of the nine attribute names to equal-length columns): the fitted
        calibrator's ``predict`` of the pipeline's score, which is what
        ``calibrated.predict_proba(applicants)[:, 1]`` computes (a test holds them equal to 1e-12)
        without the calibration wrapper's per-call checks, which cost more than the model itself
        on one applicant. Score many rows in one call: the libraries' per-call cost is then shared
        by all of them."""
        # The pipeline's first step, the encoder, reads the attributes by name from either.
        # Its matrix is finite by construction (missing numbers take the training medians, ratios
        # are capped), so scikit-learn's finiteness scans of it are skipped.
        with sklearn.config_context(assume_finite=True):
            return calibrated_probability(self.calibrated, calibration_scores(self.pipeline, applicants))

    def predict_is_npl(self, applicants) -> np.ndarray:
        return self.predict_npl_probability(applicants) >= self.threshold


def calibrated_probability(calibrated, scores: np.ndarray) -> np.ndarray:
    """The NPL probability of :func:`calibration_scores`: the ``predict`` of the one calibrator of a
    ``CalibratedClassifierCV`` fitted with ``ensemble=False`` (its public ``calibrated_classifiers_``),
    clipped to [0, 1]."""
    (calibration,) = calibrated.calibrated_classifiers_
    return np.clip(np.asarray(calibration.calibrators[0].predict(scores), dtype=np.float64), 0.0, 1.0)


def calibration_scores(pipeline, X) -> np.ndarray:
    """The score a calibrator maps to a probability, as ``CalibratedClassifierCV`` reads it: the
    fitted pipeline's ``decision_function`` where it has one, else its NPL probability."""
    if hasattr(pipeline, "decision_function"):
        return np.asarray(pipeline.decision_function(X), dtype=np.float64)
    return pipeline.predict_proba(X)[:, 1]
