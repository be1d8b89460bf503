"""What a model artifact holds: the fitted, calibrated pipeline and everything needed to use it.

The scoring engine loads one :class:`TrainedNplModel` per model version (through
:func:`training.artifacts.load_artifact`) and calls :meth:`TrainedNplModel.predict_npl_probability`
with the nine raw applicant attributes; the encoder inside the pipeline does the rest.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import sklearn

from .encoder import APPLICANT_ATTRIBUTES, ApplicantFeatureEncoder

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
        """Calibrated probability of becoming NPL, one per applicant: ``calibrated.predict_proba``'s
        NPL column for a DataFrame with the nine attributes (or a mapping of the nine attribute
        names to equal-length columns). Score many rows in one call: the libraries' per-call cost
        is then shared by all of them."""
        frame = applicants if isinstance(applicants, pd.DataFrame) else pd.DataFrame(applicants)
        if list(frame.columns) != APPLICANT_ATTRIBUTES:
            frame = frame[APPLICANT_ATTRIBUTES]
        # The encoder's matrix is finite by construction (missing numbers take the training medians,
        # ratios are capped), so scikit-learn's finiteness scans of it are skipped.
        with sklearn.config_context(assume_finite=True):
            return self.calibrated.predict_proba(frame)[:, 1]

    def predict_is_npl(self, applicants) -> np.ndarray:
        return self.predict_npl_probability(applicants) >= self.threshold
