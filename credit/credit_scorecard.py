"""The credit scorecard candidate: binning, weight of evidence, logistic regression, points.

This is the model credit-risk teams and their regulators already read. Each feature the encoder
produces (amounts, counts, the ratios an analyst reads, and the three categories) is cut into a
few bins by optbinning's optimal binning — numeric features with a monotonic trend whose direction
the data chooses, since on real books risk mostly rises or falls steadily with income, down
payment or years in the job — each bin is replaced by its weight of evidence, and a logistic
regression weighs the features. optbinning's ``Scorecard`` then scales the result to points:
``pdo`` points double the good:bad odds, and ``base_odds`` good:bad odds score ``base_points`` —
one :class:`credit.scorecard.ScorecardParameters`, the scaling of the product's credit score — so
an applicant's points add up to a score on the familiar 300–850 scale.

:class:`CreditScorecard` is a scikit-learn classifier: it sits in the same
``Pipeline(encoder, sampler, classifier)`` as every other candidate, is tuned, cross-validated,
calibrated and refitted like them, and scores through its public ``predict_proba``.
:meth:`CreditScorecard.points_table` lists attribute, bin and points;
:meth:`CreditScorecard.probability_from_points` turns an applicant's total points back into the
classifier's probability, which the tests hold equal to ``predict_proba``.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from optbinning import BinningProcess, Scorecard
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.linear_model import LogisticRegression
from sklearn.utils.validation import check_is_fitted

from credit.encoder import CATEGORICAL_ATTRIBUTES, FEATURE_LABELS
from credit.scorecard import ScorecardParameters

# The encoder's log_lama_bekerja bins exactly like lama_bekerja (binning ignores monotone changes of scale).
REDUNDANT_FEATURES = ("log_lama_bekerja",)
UNSEEN_CATEGORY = "(other)"


class CreditScorecard(ClassifierMixin, BaseEstimator):
    """A points scorecard on the encoder's features (a DataFrame: use ``encoder.set_output(transform="pandas")``).

    ``max_n_bins``/``min_bin_size``: how finely each feature may be cut; ``C``: the inverse
    regularisation of the logistic regression; ``scaling``: the points scaling (its ``base_points``,
    ``base_odds`` and ``pdo``; the product's defaults when ``None``).
    """

    def __init__(
        self,
        max_n_bins: int = 5,
        min_bin_size: float = 0.05,
        C: float = 1.0,
        scaling: ScorecardParameters | None = None,
    ):
        self.max_n_bins = max_n_bins
        self.min_bin_size = min_bin_size
        self.C = C
        self.scaling = scaling

    @property
    def _scaling(self) -> ScorecardParameters:
        return self.scaling or ScorecardParameters()

    # -- scikit-learn API ---------------------------------------------------------------------

    def fit(self, X: pd.DataFrame, y):
        frame = self._attributes(X, fitting=True)
        numeric = list(self.numeric_features_)
        binning = BinningProcess(
            list(frame.columns),
            categorical_variables=list(self.categorical_features_),
            max_n_bins=self.max_n_bins,
            min_bin_size=self.min_bin_size,
            binning_fit_params={name: {"monotonic_trend": "auto_asc_desc"} for name in numeric},
        )
        self.scorecard_ = Scorecard(
            binning_process=binning,
            estimator=LogisticRegression(C=self.C, max_iter=1000),
            scaling_method="pdo_odds",
            scaling_method_params={
                "pdo": self._scaling.pdo,
                "odds": self._scaling.base_odds,
                "scorecard_points": self._scaling.base_points,
            },
        )
        self.scorecard_.fit(frame, np.asarray(y).astype(int))
        self.classes_ = np.array([0, 1])
        return self

    def predict_proba(self, X) -> np.ndarray:
        check_is_fitted(self, "scorecard_")
        return self.scorecard_.predict_proba(self._attributes(X))

    def decision_function(self, X) -> np.ndarray:
        """The log-odds of NPL (what calibration reads, as for a logistic regression)."""
        check_is_fitted(self, "scorecard_")
        return self.scorecard_.decision_function(self._attributes(X))

    def predict(self, X) -> np.ndarray:
        return (self.predict_proba(X)[:, 1] >= 0.5).astype(int)

    # -- points -------------------------------------------------------------------------------

    def points(self, X) -> np.ndarray:
        """Each applicant's total points (higher is safer)."""
        check_is_fitted(self, "scorecard_")
        return np.asarray(self.scorecard_.score(self._attributes(X)), dtype=float)

    def points_by_attribute(self, X) -> pd.DataFrame:
        """Each applicant's points per feature (one column each): the bin it falls in, looked up in
        :meth:`points_table`'s underlying table. The row sums are :meth:`points`."""
        check_is_fitted(self, "scorecard_")
        frame = self._attributes(X)
        bins = self.scorecard_.binning_process_.transform(frame, metric="bins")
        table = self.scorecard_.table(style="summary")
        columns = {}
        for feature in frame.columns:
            rows = table[table["Variable"] == feature]
            lookup = {_bin_key(value): points for value, points in zip(rows["Bin"], rows["Points"], strict=True)}
            columns[feature] = [lookup[_bin_key(value)] for value in bins[feature]]
        return pd.DataFrame(columns, index=X.index)

    def probability_from_points(self, points) -> np.ndarray:
        """The NPL probability that a total of ``points`` stands for: the scaling read backwards."""
        scaling = self._scaling
        factor = scaling.pdo / math.log(2)
        log_good_bad_odds = (
            math.log(scaling.base_odds) + (np.asarray(points, dtype=float) - scaling.base_points) / factor
        )
        return 1.0 / (1.0 + np.exp(log_good_bad_odds))

    def points_table(self) -> list[dict]:
        """``[{"attribute", "feature", "bin", "points"}, …]``: every bin of every feature with its points.

        Amounts the encoder takes logarithms of are shown in rupiah again; bins that no training
        applicant fell in (optbinning's "Special" and "Missing") are left out.
        """
        check_is_fitted(self, "scorecard_")
        table = self.scorecard_.table(style="summary")
        rows = []
        for feature, group in table.groupby("Variable", sort=False):
            for _, row in group.iterrows():
                if str(row["Bin"]) in ("Special", "Missing"):
                    continue
                rows.append(
                    {
                        "attribute": str(FEATURE_LABELS.get(feature, feature)),
                        "feature": str(feature),
                        "bin": _bin_text(feature, row["Bin"]),
                        "points": round(float(row["Points"]), 2),
                    }
                )
        return rows

    # -- inputs -------------------------------------------------------------------------------

    def _attributes(self, X, fitting: bool = False) -> pd.DataFrame:
        """The scorecard's variables from the encoder's columns: numeric features as they are, and
        each one-hot group back into one categorical variable (a category the encoder did not know
        becomes ``UNSEEN_CATEGORY``)."""
        if not isinstance(X, pd.DataFrame):
            raise TypeError(
                "CreditScorecard needs the encoder's output as a DataFrame (set_output(transform='pandas'))."
            )
        if fitting:
            self.numeric_features_ = [c for c in X.columns if "=" not in c and c not in REDUNDANT_FEATURES]
            self.categorical_features_ = [a for a in CATEGORICAL_ATTRIBUTES if any(c.startswith(f"{a}=") for c in X)]
        frame = X[self.numeric_features_].copy()
        for attribute in self.categorical_features_:
            columns = [c for c in X.columns if c.startswith(f"{attribute}=")]
            one_hot = X[columns].to_numpy()
            names = np.array([c.split("=", 1)[1] for c in columns] + [UNSEEN_CATEGORY], dtype=object)
            chosen = np.where(one_hot.max(axis=1) > 0, one_hot.argmax(axis=1), len(columns))
            frame[attribute] = names[chosen]
        return frame


def _bin_key(value) -> str:
    """One spelling of a bin, whether optbinning gives it as a string or as the categories it holds."""
    if isinstance(value, list | tuple | np.ndarray):
        return "|".join(sorted(str(item) for item in value))
    return str(value)


def _bin_text(feature: str, bin_value) -> str:
    # Categories sharing a bin: a list, an array, or (pandas ≥ 3 strings) a pandas extension array.
    if isinstance(bin_value, list | tuple | np.ndarray | pd.api.extensions.ExtensionArray):
        return ", ".join(str(value) for value in bin_value)
    text = str(bin_value)
    if not feature.startswith("log_"):
        return text

    def rupiah(number: str) -> str:
        value = float(number)
        return number if math.isinf(value) else f"Rp {math.expm1(value):,.0f}"

    opening, closing = text[0], text[-1]
    low, high = (part.strip() for part in text[1:-1].split(","))
    return f"{opening}{rupiah(low)}, {rupiah(high)}{closing}"
