"""The feature encoder: readable features, ratios an analyst recognises, robust to unseen input."""

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone

from training.encoder import (
    DERIVED_FEATURES,
    MAX_INSTALLMENT_TO_INCOME,
    ApplicantFeatureEncoder,
    derived_applicant_features,
)


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
    assert encoder.readable_feature_name("dp_ratio") == "Down-payment ratio (DP / OTR)"
    assert encoder.readable_feature_name("pekerjaan=Buruh") == "Pekerjaan: Buruh"


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


def test_missing_attribute_is_named():
    frame = pd.DataFrame([applicant()]).drop(columns=["tenor"])
    with pytest.raises(ValueError, match="tenor"):
        ApplicantFeatureEncoder().fit(frame)


def test_it_is_a_proper_scikit_learn_estimator(small_frame):
    encoder = ApplicantFeatureEncoder(scale=False)
    copy = clone(encoder)
    assert copy.get_params() == {"scale": False}
    np.testing.assert_array_equal(copy.fit_transform(small_frame), encoder.fit(small_frame).transform(small_frame))
