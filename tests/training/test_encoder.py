"""The feature encoder: readable features, ratios an analyst recognises, robust to unseen input."""

import math

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.calibration import CalibratedClassifierCV
from sklearn.frozen import FrozenEstimator
from sklearn.linear_model import LogisticRegression

from applicants.generator import HOUSING_TYPES, PEKERJAAN
from credit.encoder import (
    APPLICANT_ATTRIBUTES,
    CATEGORICAL_ATTRIBUTES,
    DERIVED_FEATURES,
    MAX_INSTALLMENT_TO_INCOME,
    MAX_LOAN_TO_INCOME,
    ApplicantFeatureEncoder,
    categorical_attribute,
    derived_applicant_features,
)
from credit.model_search import build_candidate_pipeline, features_and_labels, make_sampler


def applicant(**changes):
    values = {
        "monthly_income": 10_000_000,
        "housing_type": "kontrak",
        "num_of_dependent": 2,
        "lama_bekerja": 3,
        "otr": 200_000_000,
        "status_pernikahan": "Nikah",
        "pekerjaan": "Buruh",
        "tenor": 36,
        "dp": 50_000_000,
    }
    values.update(changes)
    return values


def test_ratios_are_the_ones_an_analyst_computes():
    derived = derived_applicant_features(pd.DataFrame([applicant()])).iloc[0]

    assert derived["dp_ratio"] == pytest.approx(0.25)
    assert derived["log_financed_amount"] == pytest.approx(np.log1p(150_000_000))
    assert derived["log_monthly_installment"] == pytest.approx(np.log1p(150_000_000 / 36))
    assert derived["installment_to_income"] == pytest.approx(150_000_000 / 36 / 10_000_000)
    assert derived["loan_to_income"] == pytest.approx(15.0)
    assert derived["log_income_per_household_member"] == pytest.approx(np.log1p(10_000_000 / 3))


def test_no_income_is_as_bad_as_the_cap_instead_of_infinite():
    derived = derived_applicant_features(pd.DataFrame([applicant(monthly_income=0)])).iloc[0]
    assert derived["installment_to_income"] == MAX_INSTALLMENT_TO_INCOME
    assert np.isfinite(derived.to_numpy(dtype=float)).all()


def test_feature_names_are_readable_and_match_the_columns(small_frame):
    encoder = ApplicantFeatureEncoder().fit(small_frame)
    names = list(encoder.get_feature_names_out())
    matrix = encoder.transform(small_frame)

    assert matrix.shape == (len(small_frame), len(names))
    assert names[: len(DERIVED_FEATURES)] == DERIVED_FEATURES
    assert "housing_type=kos" in names and "pekerjaan=PNS" in names and "status_pernikahan=Nikah" in names


def test_numbers_are_scaled_with_the_training_statistics_only(small_frame):
    train, other = small_frame.iloc[:400], small_frame.iloc[400:]
    encoder = ApplicantFeatureEncoder(scale=True).fit(train)
    numeric = len(DERIVED_FEATURES)

    on_train = encoder.transform(train)[:, :numeric]
    np.testing.assert_allclose(on_train.mean(axis=0), 0, atol=1e-9)
    # Transforming other applicants does not refit: the same row encodes the same way in any company.
    alone = encoder.transform(other.iloc[[0]])
    among_others = encoder.transform(other)[[0]]
    np.testing.assert_array_equal(alone, among_others)

    unscaled = ApplicantFeatureEncoder(scale=False).fit(train).transform(train)[:, :numeric]
    np.testing.assert_allclose(unscaled, derived_applicant_features(train).to_numpy(), rtol=1e-12)


def test_unseen_category_and_missing_numbers_encode_without_failing(small_frame):
    encoder = ApplicantFeatureEncoder().fit(small_frame)
    names = list(encoder.get_feature_names_out())
    odd = pd.DataFrame([applicant(housing_type="rumah dinas", lama_bekerja=None)])

    row = encoder.transform(odd)[0]

    housing = [i for i, name in enumerate(names) if name.startswith("housing_type=")]
    assert (row[housing] == 0).all()
    assert np.isfinite(row).all()


def test_an_infinite_number_encodes_as_a_missing_one(small_frame):
    """The scoring engine skips scikit-learn's finiteness checks because the matrix is finite by construction."""
    encoder = ApplicantFeatureEncoder().fit(small_frame)
    infinite = pd.DataFrame([applicant(monthly_income=math.inf, otr=math.inf)])
    missing = pd.DataFrame([applicant(monthly_income=None, otr=None)])

    row = encoder.transform(infinite)[0]

    assert np.isfinite(row).all()
    np.testing.assert_array_equal(row, encoder.transform(missing)[0])


def test_missing_attribute_is_named():
    frame = pd.DataFrame([applicant()]).drop(columns=["tenor"])
    with pytest.raises(ValueError, match="tenor"):
        ApplicantFeatureEncoder().fit(frame)


def test_it_is_a_proper_scikit_learn_estimator(small_frame):
    encoder = ApplicantFeatureEncoder(scale=False)
    copy = clone(encoder)
    assert copy.get_params() == {"scale": False}
    np.testing.assert_array_equal(copy.fit_transform(small_frame), encoder.fit(small_frame).transform(small_frame))


# --------------------------------------------------------------------------------------------
# The array transform against a straightforward reference, and its place in the pipeline
# --------------------------------------------------------------------------------------------


def reference_derived_row(row: dict) -> list[float]:
    """The derived features of one applicant, written out with plain Python floats (NaN = missing)."""

    def number(value):
        try:
            return float(value) if value is not None else math.nan
        except (TypeError, ValueError):
            return math.nan

    def at_least_zero(value):
        return value if math.isnan(value) else max(value, 0.0)

    def log1p(value):
        return math.nan if math.isnan(value) else math.log1p(value)

    income = at_least_zero(number(row["monthly_income"]))
    otr = at_least_zero(number(row["otr"]))
    dp = at_least_zero(number(row["dp"]))
    tenor = number(row["tenor"])
    tenor = tenor if tenor > 0 else math.nan
    dependants = at_least_zero(number(row["num_of_dependent"]))
    years = at_least_zero(number(row["lama_bekerja"]))
    financed = at_least_zero(otr - dp)
    installment = financed / tenor if not math.isnan(tenor) else math.nan
    dp_ratio = min(max(dp / otr, 0.0), 1.0) if otr > 0 and not math.isnan(dp) else math.nan
    if income > 0:
        installment_to_income = min(installment / income, MAX_INSTALLMENT_TO_INCOME)
        loan_to_income = min(financed / income, MAX_LOAN_TO_INCOME)
        if math.isnan(installment):
            installment_to_income = math.nan
        if math.isnan(financed):
            loan_to_income = math.nan
    elif income == 0:
        installment_to_income = MAX_INSTALLMENT_TO_INCOME if installment > 0 else math.nan
        loan_to_income = MAX_LOAN_TO_INCOME if financed > 0 else math.nan
    else:  # income unknown
        installment_to_income = loan_to_income = math.nan
    return [
        log1p(income),
        log1p(otr),
        log1p(financed),
        log1p(installment),
        dependants,
        years,
        tenor,
        dp_ratio,
        installment_to_income,
        loan_to_income,
        log1p(years),
        log1p(income / (1.0 + dependants)),
    ]


def reference_category(value) -> str:
    return value.strip() if isinstance(value, str) else ""


def reference_encoding(train: pd.DataFrame, other: pd.DataFrame) -> np.ndarray:
    """What the encoder fitted on ``train`` must give for ``other``, computed the obvious way."""
    train_derived = np.array([reference_derived_row(row) for row in train.to_dict("records")])
    medians = np.array(
        [np.median(column[~np.isnan(column)]) if (~np.isnan(column)).any() else 0.0 for column in train_derived.T]
    )
    filled_train = np.where(np.isnan(train_derived), medians, train_derived)
    mean = filled_train.mean(axis=0)
    spread = filled_train.std(axis=0)
    spread[spread == 0] = 1.0
    derived = np.array([reference_derived_row(row) for row in other.to_dict("records")])
    numeric = (np.where(np.isnan(derived), medians, derived) - mean) / spread
    blocks = [numeric]
    for attribute in CATEGORICAL_ATTRIBUTES:
        known = sorted({reference_category(value) for value in train[attribute]})
        values = [reference_category(value) for value in other[attribute]]
        blocks.append(np.array([[1.0 if value == category else 0.0 for category in known] for value in values]))
    return np.hstack(blocks)


def odd_applicants() -> pd.DataFrame:
    """Applicants the generator never makes: unseen and missing categories, missing and edge numbers."""
    return pd.DataFrame(
        [
            applicant(housing_type="rumah dinas"),
            applicant(housing_type=None, pekerjaan="  PNS  "),
            applicant(status_pernikahan=np.nan, pekerjaan="Astronot"),
            applicant(monthly_income=0),
            applicant(monthly_income=0, otr=50_000_000, dp=50_000_000),
            applicant(otr=0, dp=0),
            applicant(tenor=0),
            applicant(dp=-5, num_of_dependent=-1),
            applicant(otr=40_000_000, dp=50_000_000),
            applicant(lama_bekerja=None, monthly_income=None),
            applicant(tenor=None, otr=None),
            applicant(num_of_dependent="3 orang", dp="10000000"),
        ]
    )


@pytest.mark.parametrize("scale", [True, False])
def test_transform_matches_a_straightforward_reference(small_frame, scale):
    attributes = small_frame[APPLICANT_ATTRIBUTES]
    train = pd.concat([attributes.iloc[:500], odd_applicants().iloc[[7, 9, 10]]], ignore_index=True)
    other = pd.concat([odd_applicants(), attributes.iloc[500:]], ignore_index=True)
    encoder = ApplicantFeatureEncoder(scale=scale).fit(train)
    names = list(encoder.get_feature_names_out())
    for attribute, values in (
        ("housing_type", HOUSING_TYPES),
        ("pekerjaan", PEKERJAAN),
        ("status_pernikahan", ["Nikah", "Belum Nikah"]),
    ):
        assert {f"{attribute}={value}" for value in values} <= set(names)  # every category is in training

    expected = reference_encoding(train, other)
    if not scale:
        numeric = len(DERIVED_FEATURES)
        medians = np.nanmedian(np.array([reference_derived_row(r) for r in train.to_dict("records")]), axis=0)
        derived = np.array([reference_derived_row(r) for r in other.to_dict("records")])
        expected[:, :numeric] = np.where(np.isnan(derived), medians, derived)
    encoded = encoder.transform(other)

    assert encoded.dtype == np.float64 and encoded.shape == expected.shape
    np.testing.assert_allclose(encoded, expected, rtol=1e-12, atol=1e-12)
    # Row by row (the scoring engine's case) the same numbers as in a batch.
    for i in (0, 1, 2, 8, 9, 10, 11, 12):
        np.testing.assert_array_equal(encoder.transform(other.iloc[[i]]), encoded[[i]])
    # An unseen occupation, an unseen housing type and a missing status leave their columns at zero.
    for i, attribute in ((0, "housing_type"), (2, "pekerjaan"), (2, "status_pernikahan")):
        columns = [j for j, name in enumerate(names) if name.startswith(f"{attribute}=")]
        assert encoded[i, columns].sum() == 0


def test_transform_leaves_its_input_as_it_was(small_frame):
    encoder = ApplicantFeatureEncoder().fit(small_frame)
    frame = odd_applicants()
    before = frame.copy()
    encoder.transform(frame)
    pd.testing.assert_frame_equal(frame, before)


def test_pandas_output_has_the_feature_names(small_frame):
    encoder = ApplicantFeatureEncoder().fit(small_frame)
    as_array = encoder.transform(small_frame)

    as_frame = clone(encoder).set_output(transform="pandas").fit(small_frame).transform(small_frame)

    assert list(as_frame.columns) == list(encoder.get_feature_names_out())
    np.testing.assert_array_equal(as_frame.to_numpy(), as_array)


def test_smote_pipeline_calibrates_and_scores_one_applicant_like_a_batch(small_frame):
    X, y = features_and_labels(small_frame)
    train, validation = slice(0, 500), slice(500, None)
    classifier = LogisticRegression(max_iter=500)
    pipeline = build_candidate_pipeline("LogisticRegression", "smote", classifier, make_sampler("smote", 1))
    pipeline.fit(X.iloc[train], y.iloc[train])
    calibrated = CalibratedClassifierCV(FrozenEstimator(pipeline), method="sigmoid").fit(
        X.iloc[validation], y.iloc[validation]
    )

    batch = calibrated.predict_proba(X.iloc[validation])[:, 1]
    one = calibrated.predict_proba(X.iloc[validation].iloc[[3]])[:, 1]

    assert np.isfinite(batch).all() and 0 < batch.mean() < 1
    assert one[0] == pytest.approx(batch[3], abs=1e-12)


def test_the_one_hot_block_is_the_fitted_one_hot_encoder_s(small_frame):
    encoder = ApplicantFeatureEncoder().fit(small_frame)
    frame = pd.concat([odd_applicants(), small_frame[APPLICANT_ATTRIBUTES].iloc[:200]], ignore_index=True)
    expected = encoder.transform(frame)
    # What the fitted OneHotEncoder makes of categorical_attribute's reading (blanks stripped, missing → "").
    reading = pd.DataFrame({name: categorical_attribute(frame, name) for name in CATEGORICAL_ATTRIBUTES})
    np.testing.assert_array_equal(expected[:, len(DERIVED_FEATURES) :], encoder.one_hot_.transform(reading))
    with pytest.raises(ValueError, match="missing the attribute"):
        encoder.transform(frame.drop(columns="tenor"))


def test_categories_are_read_with_blanks_stripped_and_missing_as_empty():
    odd = ["PNS", "  Buruh ", None, np.nan, pd.NA, "Astronot", 5, "", " PNS", np.float32("nan"), pd.NaT]
    reading = categorical_attribute(pd.DataFrame({"pekerjaan": pd.Series(odd, dtype=object)}), "pekerjaan")
    assert list(reading) == ["PNS", "Buruh", "", "", "", "Astronot", "5", "", "PNS", "", ""]


def test_a_mapping_of_columns_encodes_as_the_same_frame_does(small_frame):
    """The scoring engine passes plain columns (numpy arrays, or lists) instead of a DataFrame: the
    matrix is the same, odd values included, and columns are read by name."""
    encoder = ApplicantFeatureEncoder().fit(small_frame)
    frame = pd.concat([odd_applicants(), small_frame[APPLICANT_ATTRIBUTES].iloc[:50]], ignore_index=True)
    expected = encoder.transform(frame)

    as_arrays = {name: frame[name].to_numpy() for name in reversed(APPLICANT_ATTRIBUTES)}
    as_lists = {name: frame[name].tolist() for name in APPLICANT_ATTRIBUTES} | {"extra": [1] * len(frame)}
    typed = {name: frame[name].to_numpy(dtype=object) for name in APPLICANT_ATTRIBUTES}
    typed["otr"], typed["tenor"] = np.full(len(frame), 150_000_000), np.full(len(frame), 24)
    np.testing.assert_array_equal(encoder.transform(as_arrays), expected)
    np.testing.assert_array_equal(encoder.transform(as_lists), expected)
    np.testing.assert_array_equal(encoder.transform(typed), encoder.transform(frame.assign(otr=150_000_000, tenor=24)))
    with pytest.raises(ValueError, match="missing the attribute.*tenor"):
        encoder.transform({name: as_arrays[name] for name in APPLICANT_ATTRIBUTES if name != "tenor"})


def test_the_scaled_block_is_the_fitted_standard_scaler_s(small_frame):
    """The encoder applies the fitted ``StandardScaler``'s ``mean_`` and ``scale_`` itself: exactly
    ``scaler_.transform`` of the filled derived features, odd applicants included."""
    encoder = ApplicantFeatureEncoder().fit(small_frame)
    frame = pd.concat([odd_applicants(), small_frame[APPLICANT_ATTRIBUTES].iloc[:200]], ignore_index=True)
    filled = derived_applicant_features(frame).fillna(encoder.numeric_medians_).to_numpy()

    np.testing.assert_array_equal(
        encoder.transform(frame)[:, : len(DERIVED_FEATURES)], encoder.scaler_.transform(filled)
    )
