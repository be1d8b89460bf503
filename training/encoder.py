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

**Speed.** Scoring one applicant (and its nine occlusion variants) must take milliseconds, so
:meth:`ApplicantFeatureEncoder.transform` works on numpy arrays: one array per attribute, the
derived features computed column by column into the output matrix, which is allocated once; the
median fill, the standardisation (``(x − mean) / scale``, the fitted ``StandardScaler``'s own
statistics and operations) and the one-hot columns (a dict per attribute, from the fitted
``OneHotEncoder``'s categories) are applied to it in place. ``fit`` still fits a ``StandardScaler``
and a ``OneHotEncoder`` and keeps them (``scaler_``, ``one_hot_``): their fitted statistics are
the definition, and the artifact keeps its attributes. Training and serving run the same
``transform``, so the classifier sees the same float64 matrix in both.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence

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

# Up to this many rows, categories are looked up value by value (see category_columns).
FEW_ROWS = 64
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
    """One numeric attribute as float64; anything that is not a number becomes NaN."""
    column = frame[name]
    if not isinstance(column, pd.Series):  # a mapping of columns (the scoring engine's arrays)
        column = np.asarray(column)
        if column.dtype.kind in "iufb":
            return column.astype(np.float64)
        column = pd.Series(column)
    dtype = column.dtype
    if isinstance(dtype, np.dtype) and dtype.kind in "iufb":
        return column.to_numpy(dtype=np.float64)
    return pd.to_numeric(column, errors="coerce").astype("float64").to_numpy(dtype=np.float64)


def categorical_attribute(frame: pd.DataFrame, name: str) -> list[str] | np.ndarray:
    """One categorical attribute as strings with surrounding blanks removed; missing → ``""``."""
    column = frame[name]
    values = column.to_numpy()
    if values.dtype == object and all(isinstance(value, str) for value in values):
        return [value.strip() for value in values]
    return column.astype("string").str.strip().fillna("").to_numpy(dtype=object)


def category_columns(values, columns: dict[str, int]) -> np.ndarray:
    """The output column of each value (−1 when unseen), reading values as :func:`categorical_attribute`
    does: blanks around a value removed, a missing one (``None``, NaN, ``pd.NA``) as ``""``.

    Many rows (a batch and its scoring variants repeat a handful of categories over a million rows):
    each distinct value is read and looked up once, through pandas' hashing ``factorize``. A few
    rows (one applicant): value by value, which costs less than setting up the hashing.
    """
    values = np.asarray(values, dtype=object)
    if len(values) <= FEW_ROWS:
        return np.fromiter((columns.get(text, -1) for text in _category_texts(values)), np.intp, len(values))
    row_codes, distinct = pd.factorize(values)  # missing → −1
    lookup = [columns.get(text, -1) for text in _category_texts(distinct)]
    lookup.append(columns.get("", -1))  # row code −1 (missing) indexes this last entry
    return np.asarray(lookup, dtype=np.intp)[row_codes]


def _check_fitted(encoder) -> None:
    """``check_is_fitted`` for the encoding methods, only called when the encoder is not fitted:
    scikit-learn's check costs more than encoding one applicant."""
    if "category_columns_" not in encoder.__dict__:
        check_is_fitted(encoder, "category_columns_")


def _category_texts(values):
    for value in values:
        if isinstance(value, str):
            yield value.strip()
        elif pd.api.types.is_scalar(value) and pd.isna(value):  # None, NaN of any width, pd.NA, NaT
            yield ""
        else:
            yield str(value).strip()


def variant_columns(
    X, variants: Sequence[Mapping[str, object]], rows: Sequence[np.ndarray | None] | None = None
) -> dict[str, np.ndarray]:
    """The applicants followed by each variant of them, as columns of the nine attributes (see
    :meth:`ApplicantFeatureEncoder.transform_variants`, which encodes the same rows faster)."""
    n = len(X) if isinstance(X, pd.DataFrame) else len(X[APPLICANT_ATTRIBUTES[0]])
    rows = [None] * len(variants) if rows is None else list(rows)
    columns = {}
    for name in APPLICANT_ATTRIBUTES:
        parts = [np.asarray(X[name])]
        for variant, chosen in zip(variants, rows, strict=True):
            if name not in variant:
                part = parts[0]
            elif name in CATEGORICAL_ATTRIBUTES:
                part = np.full(n, variant[name], dtype=object)
            else:
                part = np.asarray(variant[name])
            parts.append(part if chosen is None else part[chosen])
        columns[name] = np.concatenate(parts)
    return columns


def write_derived_features(frame: pd.DataFrame, out: np.ndarray) -> None:
    """Write the :data:`DERIVED_FEATURES` of each applicant, unscaled, into ``out[:, :12]``.

    NaN where an input is missing (or not a number) and the feature depends on it.
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
    ``categories_``), ``feature_names_``; and the tables :meth:`transform` reads, derived from
    them: ``fill_values_``, ``numeric_mean_``, ``numeric_scale_`` (``None`` when not scaling) and
    ``category_columns_`` (per categorical attribute, category → output column).
    """

    def __init__(self, scale: bool = True):
        self.scale = scale

    def fit(self, X: pd.DataFrame, y=None):
        derived = derived_applicant_features(X)
        self.numeric_medians_ = derived.median().fillna(0.0)
        filled = derived.fillna(self.numeric_medians_)
        self.scaler_ = StandardScaler().fit(filled.to_numpy()) if self.scale else None
        self.one_hot_ = OneHotEncoder(handle_unknown="ignore", sparse_output=False, dtype=np.float64)
        categories = {name: pd.Series(categorical_attribute(X, name), dtype=object) for name in CATEGORICAL_ATTRIBUTES}
        self.one_hot_.fit(pd.DataFrame(categories))
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
        self._set_transform_tables()
        return self

    def _set_transform_tables(self) -> None:
        """The plain arrays and dicts :meth:`transform` applies, from the fitted scaler and one-hot encoder."""
        self.fill_values_ = self.numeric_medians_.reindex(DERIVED_FEATURES).to_numpy(dtype=np.float64)
        if self.scaler_ is not None:
            self.numeric_mean_ = np.asarray(self.scaler_.mean_, dtype=np.float64)
            self.numeric_scale_ = np.asarray(self.scaler_.scale_, dtype=np.float64)
        else:
            self.numeric_mean_ = self.numeric_scale_ = None
        offset = len(DERIVED_FEATURES)
        tables = []
        for categories in self.one_hot_.categories_:
            tables.append({category: offset + code for code, category in enumerate(categories)})
            offset += len(categories)
        self.category_columns_ = tuple(tables)

    def __setstate__(self, state):
        super().__setstate__(state)
        # Artifacts pickled before the transform tables existed: derive them from what they kept.
        if "one_hot_" in self.__dict__ and "category_columns_" not in self.__dict__:
            self._set_transform_tables()

    def transform(self, X) -> np.ndarray:
        """Encode a DataFrame of applicants, or a mapping of the nine attribute names to equal-length
        columns (arrays or lists: the scoring engine skips building a DataFrame for a few rows)."""
        _check_fitted(self)
        check_applicant_columns(X)
        n = len(X) if isinstance(X, pd.DataFrame) else len(X[APPLICANT_ATTRIBUTES[0]])
        out = np.zeros((n, len(self.feature_names_)), dtype=np.float64)
        self._write_numeric(X, out[:, : len(DERIVED_FEATURES)])
        self._write_one_hot(X, out)
        return out

    def transform_variants(
        self, X, variants: Sequence[Mapping[str, object]], rows: Sequence[np.ndarray | None] | None = None
    ) -> np.ndarray:
        """Encode the applicants and then each *variant* of them, one block of rows after another:
        block 0 the applicants, block ``k`` the applicants with the attributes of ``variants[k − 1]``
        replaced.

        A variant maps attribute names to replacements: a number attribute to an array of one value
        per applicant, a categorical attribute to one category for every applicant. ``rows[k − 1]``,
        when given and not ``None``, limits block ``k`` to those applicants (indices, in that order;
        the scoring engine leaves out the applicants a variant would not change). The result is
        ``transform(variant_columns(X, variants, rows))`` (a test holds them equal), computed
        without reading anything twice and in few numpy steps: the numeric features of every block
        in one pass, written
        straight into the result; the applicants' categories read once and copied into every
        block; then each variant that changes a category rewrites only that attribute's one-hot
        columns. This is what the scoring engine's occlusion reasons cost, ten blocks per applicant.
        """
        _check_fitted(self)
        check_applicant_columns(X)
        n = len(X) if isinstance(X, pd.DataFrame) else len(X[APPLICANT_ATTRIBUTES[0]])
        rows = [None] * len(variants) if rows is None else list(rows)
        if n == 0:
            return np.zeros((0, len(self.feature_names_)), dtype=np.float64)
        sizes = [n] + [n if chosen is None else len(chosen) for chosen in rows]
        starts = [0, *itertools.accumulate(sizes)]
        numbers = len(DERIVED_FEATURES)
        out = np.empty((starts[-1], len(self.feature_names_)), dtype=np.float64)  # every value is written below
        # Every block's numbers: the applicants' own, with each variant's replacements.
        stacked = {}
        for name in NUMERIC_ATTRIBUTES:
            column = np.asarray(X[name])
            parts = [column]
            for variant, chosen in zip(variants, rows, strict=True):
                part = np.asarray(variant[name]) if name in variant else column
                parts.append(part if chosen is None else part[chosen])
            stacked[name] = np.concatenate(parts)
        self._write_numeric(stacked, out[:, :numbers])
        # The applicants' categories, read once into block 0 and copied into the others.
        base = out[:n, numbers:]
        base[:] = 0.0
        self._write_one_hot(X, out[:n])
        if all(chosen is None for chosen in rows):  # every block has all applicants: copy them at once
            out.reshape(1 + len(variants), n, -1)[1:, :, numbers:] = base
        else:
            for k, chosen in enumerate(rows, 1):
                out[starts[k] : starts[k + 1], numbers:] = base if chosen is None else base[chosen]
        for k, variant in enumerate(variants, 1):
            for name, category in variant.items():
                if name in CATEGORICAL_ATTRIBUTES:
                    block = out[starts[k] : starts[k + 1]]
                    columns = self.category_columns_[CATEGORICAL_ATTRIBUTES.index(name)]
                    if columns:
                        block[:, min(columns.values()) : max(columns.values()) + 1] = 0.0
                    column = columns.get(next(_category_texts([category])), -1)
                    if column >= 0:
                        block[:, column] = 1.0
        return out

    def _write_one_hot(self, X, out: np.ndarray) -> None:
        """A 1 in ``out``'s column of each applicant's known categories (its one-hot columns are 0
        before); an unseen category leaves its attribute's columns at 0."""
        if len(out) <= FEW_ROWS:  # value by value, as category_columns reads a few: no arrays to build
            for name, columns in zip(CATEGORICAL_ATTRIBUTES, self.category_columns_, strict=True):
                for row, text in enumerate(_category_texts(X[name])):
                    column = columns.get(text, -1)
                    if column >= 0:
                        out[row, column] = 1.0
            return
        codes = np.stack(
            [
                category_columns(X[name], columns)
                for name, columns in zip(CATEGORICAL_ATTRIBUTES, self.category_columns_, strict=True)
            ]
        )  # attributes × applicants
        attribute, row = np.nonzero(codes >= 0)
        out[row, codes[attribute, row]] = 1.0

    def _write_numeric(self, X, numeric: np.ndarray) -> None:
        """The derived features of ``X`` into ``numeric``: missing ones filled, standardised when scaling."""
        write_derived_features(X, numeric)
        missing = np.isnan(numeric)
        if missing.any():
            np.copyto(numeric, self.fill_values_, where=missing)
        if self.numeric_mean_ is not None:
            numeric -= self.numeric_mean_
            numeric /= self.numeric_scale_

    def get_feature_names_out(self, input_features=None) -> np.ndarray:
        check_is_fitted(self, "feature_names_")
        return self.feature_names_.copy()

    def readable_feature_name(self, feature_name: str) -> str:
        """``"pekerjaan=Buruh"`` → ``"Pekerjaan: Buruh"``; ``"dp_ratio"`` → ``"Down-payment ratio (DP / OTR)"``."""
        if "=" in feature_name:
            attribute, value = feature_name.split("=", 1)
            return f"{attribute.replace('_', ' ').capitalize()}: {value}"
        return FEATURE_LABELS.get(feature_name, feature_name)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.string = True
        tags.input_tags.categorical = True
        return tags
