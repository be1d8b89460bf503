"""The one feature encoder: the nine applicant attributes → the numbers every model is trained on.

:class:`ApplicantFeatureEncoder` is a scikit-learn transformer. It is fitted on the training split
only, stored inside the model artifact as the first step of the fitted pipeline, and used unchanged
by the scoring engine, so training and serving cannot disagree about what a feature means.

Features, in :meth:`ApplicantFeatureEncoder.get_feature_names_out` order:

- amounts on a log scale (rupiah spans orders of magnitude): ``log_monthly_income``, ``log_otr``,
  ``log_financed_amount`` (otr − dp), ``log_monthly_installment`` (financed amount / tenor, the
  installment before interest);
- counts as they are: ``num_of_dependent``, ``lama_bekerja``, ``tenor``;
- ratios a credit analyst reads: ``dp_ratio`` (dp / otr), ``installment_to_income``
  (monthly installment / monthly income, capped at :data:`MAX_INSTALLMENT_TO_INCOME`),
  ``loan_to_income`` (financed amount in months of income: with the installment ratio it lets a
  linear model rebuild an installment that includes interest), ``log_lama_bekerja`` (the first
  years in a job matter most),
  ``income_per_household_member`` (log of income / (1 + dependants));
- one-hot ``housing_type``, ``status_pernikahan`` and ``pekerjaan``; a category never seen in
  training encodes as all zeros instead of failing (``handle_unknown="ignore"``).

Numeric features are standardised with the training split's mean and spread when ``scale=True``
(the default: distance- and gradient-based models and SMOTE's neighbours need it; trees are
indifferent to it). Missing numbers are filled with the training median, so the matrix is finite.

Training fits a ``StandardScaler`` (``scaler_``) and a ``OneHotEncoder`` (``one_hot_``); ``transform``
applies what they fitted in one small numpy path — ``(x − mean_) / scale_``, and each category
compared with ``categories_`` — because the transformers' input checks cost more than the
transform itself on the few rows of one applicant. Tests hold both parts equal to
``scaler_.transform`` and ``one_hot_.transform``. Training and serving run the same ``transform``,
so the classifier sees the same float64 matrix in both.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.preprocessing import OneHotEncoder, StandardScaler
from sklearn.utils.validation import check_is_fitted

from credit.attributes import ATTRIBUTE_FIELDS, CATEGORY_FIELDS, NUMERIC_FIELDS

# The nine attributes, as applicants.attributes defines them (the encoder's categories are the
# ones seen in training: fitted by the OneHotEncoder).
NUMERIC_ATTRIBUTES = list(NUMERIC_FIELDS)
CATEGORICAL_ATTRIBUTES = list(CATEGORY_FIELDS)
APPLICANT_ATTRIBUTES = list(ATTRIBUTE_FIELDS)

DERIVED_FEATURES = [
    "log_monthly_income",
    "log_otr",
    "log_financed_amount",
    "log_monthly_installment",
    "num_of_dependent",
    "lama_bekerja",
    "tenor",
    "dp_ratio",
    "installment_to_income",
    "loan_to_income",
    "log_lama_bekerja",
    "log_income_per_household_member",
]

# An installment ten times the income is already hopeless; larger ratios (or no income) add only noise.
MAX_INSTALLMENT_TO_INCOME = 10.0
# The same for the financed amount: more than 50 years of income.
MAX_LOAN_TO_INCOME = 600.0

FEATURE_LABELS = {
    "log_monthly_income": "Monthly income",
    "log_otr": "Vehicle price (OTR)",
    "log_financed_amount": "Financed amount (OTR − DP)",
    "log_monthly_installment": "Monthly installment (financed / tenor)",
    "num_of_dependent": "Number of dependants",
    "lama_bekerja": "Years in current job",
    "tenor": "Tenor (months)",
    "dp_ratio": "Down-payment ratio (DP / OTR)",
    "installment_to_income": "Installment-to-income ratio",
    "loan_to_income": "Financed amount in months of income",
    "log_lama_bekerja": "Years in current job",
    "log_income_per_household_member": "Income per household member",
}


def check_applicant_columns(frame) -> None:
    """Raise a ``ValueError`` naming every applicant attribute the frame (or mapping of columns) lacks."""
    columns = frame.columns if isinstance(frame, pd.DataFrame) else frame.keys()
    missing = [name for name in APPLICANT_ATTRIBUTES if name not in columns]
    if missing:
        raise ValueError(f"Applicant data is missing the attribute(s): {', '.join(missing)}")


def numeric_attribute(frame, name: str) -> np.ndarray:
    """One numeric attribute of a DataFrame (or of a mapping of attribute names to columns) as
    float64; anything that is not a finite number becomes NaN (missing)."""
    column = frame[name]
    if not isinstance(column, pd.Series):
        column = np.asarray(column)
        if column.dtype.kind not in "iufb":
            column = pd.Series(column, dtype=object)
    if column.dtype.kind in "iu":
        return np.asarray(column, dtype=np.float64)
    if column.dtype.kind in "fb":
        values = np.asarray(column, dtype=np.float64)
    else:
        values = pd.to_numeric(column, errors="coerce").astype("float64").to_numpy(dtype=np.float64)
    return np.where(np.isfinite(values), values, np.nan)


def categorical_attribute(frame, name: str) -> list[str] | np.ndarray:
    """One categorical attribute of a DataFrame (or of a mapping of attribute names to columns) as
    strings with surrounding blanks removed; missing → ``""``."""
    values = np.asarray(frame[name], dtype=object)
    if all(isinstance(value, str) for value in values):
        return [value.strip() for value in values]
    return pd.Series(values, dtype=object).astype("string").str.strip().fillna("").to_numpy(dtype=object)


def write_derived_features(frame, out: np.ndarray) -> None:
    """Write the :data:`DERIVED_FEATURES` of each applicant, unscaled, into ``out[:, :12]``.

    NaN where an input is missing (or not a number, or infinite) and the feature depends on it.
    """
    income = np.maximum(numeric_attribute(frame, "monthly_income"), 0.0)
    otr = np.maximum(numeric_attribute(frame, "otr"), 0.0)
    dp = np.maximum(numeric_attribute(frame, "dp"), 0.0)
    tenor = numeric_attribute(frame, "tenor")
    dependants = np.maximum(numeric_attribute(frame, "num_of_dependent"), 0.0)
    years = np.maximum(numeric_attribute(frame, "lama_bekerja"), 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        tenor = np.where(tenor > 0, tenor, np.nan)
        financed = np.maximum(otr - dp, 0.0)
        installment = financed / tenor
        income_or_nan = np.where(income > 0, income, np.nan)
        installment_to_income = np.minimum(installment / income_or_nan, MAX_INSTALLMENT_TO_INCOME)
        loan_to_income = np.minimum(financed / income_or_nan, MAX_LOAN_TO_INCOME)
        # No income at all but something to pay: as bad as the cap says.
        no_income = income == 0
        installment_to_income[no_income & (installment > 0)] = MAX_INSTALLMENT_TO_INCOME
        loan_to_income[no_income & (financed > 0)] = MAX_LOAN_TO_INCOME
        out[:, 0] = np.log1p(income)
        out[:, 1] = np.log1p(otr)
        out[:, 2] = np.log1p(financed)
        out[:, 3] = np.log1p(installment)
        out[:, 4] = dependants
        out[:, 5] = years
        out[:, 6] = tenor
        out[:, 7] = np.minimum(np.maximum(dp / np.where(otr > 0, otr, np.nan), 0.0), 1.0)  # NaN stays NaN
        out[:, 8] = installment_to_income
        out[:, 9] = loan_to_income
        out[:, 10] = np.log1p(years)
        out[:, 11] = np.log1p(income / (1.0 + dependants))


def derived_applicant_features(frame: pd.DataFrame) -> pd.DataFrame:
    """The numeric features of each applicant before scaling, in readable units.

    Also useful on its own: the scoring pages show e.g. the installment-to-income ratio as is.
    """
    check_applicant_columns(frame)
    derived = np.empty((len(frame), len(DERIVED_FEATURES)), dtype=np.float64)
    write_derived_features(frame, derived)
    return pd.DataFrame(derived, columns=DERIVED_FEATURES, index=frame.index)


class ApplicantFeatureEncoder(TransformerMixin, BaseEstimator):
    """Turns a DataFrame of the nine raw applicant attributes into a float feature matrix.

    ``scale``: standardise the numeric features (fitted on the data given to :meth:`fit`).

    Fitted attributes: ``numeric_medians_`` (Series: the fill value of each derived feature),
    ``scaler_`` (``StandardScaler`` or ``None``), ``one_hot_`` (``OneHotEncoder``: its
    ``categories_``), ``feature_names_``.
    """

    def __init__(self, scale: bool = True):
        self.scale = scale

    def fit(self, X: pd.DataFrame, y=None):
        derived = derived_applicant_features(X)
        self.numeric_medians_ = derived.median().fillna(0.0)
        filled = derived.fillna(self.numeric_medians_)
        self.scaler_ = StandardScaler().fit(filled.to_numpy()) if self.scale else None
        self.one_hot_ = OneHotEncoder(handle_unknown="ignore", sparse_output=False, dtype=np.float64)
        self.one_hot_.fit(_categories(X))
        self.feature_names_ = np.array(
            DERIVED_FEATURES
            + [
                f"{attribute}={value}"
                for attribute, values in zip(CATEGORICAL_ATTRIBUTES, self.one_hot_.categories_, strict=True)
                for value in values
            ],
            dtype=object,
        )
        self.n_features_in_ = len(APPLICANT_ATTRIBUTES)
        self.feature_names_in_ = np.array(APPLICANT_ATTRIBUTES, dtype=object)
        return self

    def transform(self, X) -> np.ndarray:
        """Encode applicants — a DataFrame, or a mapping of the nine attribute names to equal-length
        columns (what the scoring engine passes: building a DataFrame for a few rows costs more
        than encoding them) — into the derived numbers (missing ones filled with the training
        medians, then scaled by ``scaler_``) followed by ``one_hot_``'s columns. Attributes are read
        by name; other columns are ignored."""
        check_is_fitted(self, "one_hot_")
        check_applicant_columns(X)
        numeric = np.empty((len(X[APPLICANT_ATTRIBUTES[0]]), len(DERIVED_FEATURES)), dtype=np.float64)
        write_derived_features(X, numeric)
        fill = self.numeric_medians_.to_numpy(dtype=np.float64)  # indexed by DERIVED_FEATURES, in order (fit)
        numeric = np.where(np.isnan(numeric), fill, numeric)
        if self.scaler_ is not None:  # what scaler_.transform computes (tested equal), without its input checks
            numeric = (numeric - self.scaler_.mean_) / self.scaler_.scale_
        return np.hstack([numeric, *self._one_hot_blocks(X)])

    def _one_hot_blocks(self, X) -> list[np.ndarray]:
        """``one_hot_.transform`` of the categories as :func:`categorical_attribute` reads them (a
        test holds them equal), compared with the fitted ``categories_`` in numpy: the
        ``OneHotEncoder``'s input checks on a DataFrame of strings cost more than the rest of
        scoring one applicant. An unseen category matches no column (``handle_unknown="ignore"``)."""
        return [
            (np.asarray(categorical_attribute(X, name), dtype=object)[:, None] == categories[None, :]).astype(
                np.float64
            )
            for name, categories in zip(CATEGORICAL_ATTRIBUTES, self.one_hot_.categories_, strict=True)
        ]

    def get_feature_names_out(self, input_features=None) -> np.ndarray:
        check_is_fitted(self, "feature_names_")
        return self.feature_names_.copy()

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.string = True
        tags.input_tags.categorical = True
        return tags


def _categories(frame: pd.DataFrame) -> pd.DataFrame:
    """The categorical attributes as :func:`categorical_attribute` reads them, for ``one_hot_``."""
    return pd.DataFrame(
        {name: pd.Series(categorical_attribute(frame, name), dtype=object) for name in CATEGORICAL_ATTRIBUTES}
    )
