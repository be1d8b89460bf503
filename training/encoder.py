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
indifferent to it). Missing numbers are filled with the training median.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.preprocessing import OneHotEncoder, StandardScaler
from sklearn.utils.validation import check_is_fitted

NUMERIC_ATTRIBUTES = ["monthly_income", "num_of_dependent", "lama_bekerja", "otr", "tenor", "dp"]
CATEGORICAL_ATTRIBUTES = ["housing_type", "status_pernikahan", "pekerjaan"]
APPLICANT_ATTRIBUTES = [
    "monthly_income",
    "housing_type",
    "num_of_dependent",
    "lama_bekerja",
    "otr",
    "status_pernikahan",
    "pekerjaan",
    "tenor",
    "dp",
]

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


def derived_applicant_features(frame: pd.DataFrame) -> pd.DataFrame:
    """The numeric features of each applicant before scaling, in readable units.

    Also useful on its own: the scoring pages show e.g. the installment-to-income ratio as is.
    """
    missing = [name for name in APPLICANT_ATTRIBUTES if name not in frame.columns]
    if missing:
        raise ValueError(f"Applicant data is missing the attribute(s): {', '.join(missing)}")
    numbers = {name: pd.to_numeric(frame[name], errors="coerce").astype("float64") for name in NUMERIC_ATTRIBUTES}
    income = numbers["monthly_income"].clip(lower=0)
    otr = numbers["otr"].clip(lower=0)
    dp = numbers["dp"].clip(lower=0)
    tenor = numbers["tenor"].where(numbers["tenor"] > 0)
    financed = (otr - dp).clip(lower=0)
    installment = financed / tenor
    with np.errstate(divide="ignore", invalid="ignore"):
        dp_ratio = (dp / otr.where(otr > 0)).clip(0, 1)
        installment_to_income = (installment / income.where(income > 0)).clip(upper=MAX_INSTALLMENT_TO_INCOME)
        loan_to_income = (financed / income.where(income > 0)).clip(upper=MAX_LOAN_TO_INCOME)
    # No income at all but something to pay: as bad as the cap says.
    installment_to_income = installment_to_income.mask(income.eq(0) & installment.gt(0), MAX_INSTALLMENT_TO_INCOME)
    loan_to_income = loan_to_income.mask(income.eq(0) & financed.gt(0), MAX_LOAN_TO_INCOME)
    dependants = numbers["num_of_dependent"].clip(lower=0)
    derived = pd.DataFrame(
        {
            "log_monthly_income": np.log1p(income),
            "log_otr": np.log1p(otr),
            "log_financed_amount": np.log1p(financed),
            "log_monthly_installment": np.log1p(installment),
            "num_of_dependent": dependants,
            "lama_bekerja": numbers["lama_bekerja"].clip(lower=0),
            "tenor": tenor,
            "dp_ratio": dp_ratio,
            "installment_to_income": installment_to_income,
            "loan_to_income": loan_to_income,
            "log_lama_bekerja": np.log1p(numbers["lama_bekerja"].clip(lower=0)),
            "log_income_per_household_member": np.log1p(income / (1.0 + dependants)),
        },
        index=frame.index,
    )
    return derived[DERIVED_FEATURES]


class ApplicantFeatureEncoder(TransformerMixin, BaseEstimator):
    """Turns a DataFrame of the nine raw applicant attributes into a float feature matrix.

    ``scale``: standardise the numeric features (fitted on the data given to :meth:`fit`).
    """

    def __init__(self, scale: bool = True):
        self.scale = scale

    def fit(self, X: pd.DataFrame, y=None):
        derived = derived_applicant_features(X)
        self.numeric_medians_ = derived.median().fillna(0.0)
        filled = derived.fillna(self.numeric_medians_)
        self.scaler_ = StandardScaler().fit(filled.to_numpy()) if self.scale else None
        self.one_hot_ = OneHotEncoder(handle_unknown="ignore", sparse_output=False, dtype=np.float64)
        self.one_hot_.fit(self._categories(X))
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

    def transform(self, X: pd.DataFrame) -> np.ndarray:
        check_is_fitted(self, "one_hot_")
        numeric = derived_applicant_features(X).fillna(self.numeric_medians_).to_numpy()
        if self.scaler_ is not None:
            numeric = self.scaler_.transform(numeric)
        categorical = self.one_hot_.transform(self._categories(X))
        return np.hstack([numeric, categorical]).astype(np.float64)

    def get_feature_names_out(self, input_features=None) -> np.ndarray:
        check_is_fitted(self, "feature_names_")
        return self.feature_names_.copy()

    def readable_feature_name(self, feature_name: str) -> str:
        """``"pekerjaan=Buruh"`` → ``"Pekerjaan: Buruh"``; ``"dp_ratio"`` → ``"Down-payment ratio (DP / OTR)"``."""
        if "=" in feature_name:
            attribute, value = feature_name.split("=", 1)
            return f"{attribute.replace('_', ' ').capitalize()}: {value}"
        return FEATURE_LABELS.get(feature_name, feature_name)

    @staticmethod
    def _categories(X: pd.DataFrame) -> pd.DataFrame:
        # Strings with surrounding blanks removed; a missing value becomes an unknown category.
        return pd.DataFrame(
            {name: X[name].astype("string").str.strip().fillna("").astype(object) for name in CATEGORICAL_ATTRIBUTES}
        )

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.string = True
        tags.input_tags.categorical = True
        return tags
