"""Issue 22, item 16: an applicant outside what the model has seen is scored with a warning — in the
stored prediction, the API answer and the result page — instead of a confident probability alone."""

import numpy as np
import pytest

from credit.training_range import outside_training, training_ranges
from scoring.models import Prediction
from tests.support import VALID_APPLICANT

RANGES = {
    "numbers": {
        "monthly_income": [2_000_000, 60_000_000],
        "num_of_dependent": [0, 6],
        "lama_bekerja": [0, 30],
        "otr": [10_000_000, 900_000_000],
        "tenor": [6, 60],
        "dp": [0, 400_000_000],
    },
    "categories": {
        "housing_type": ["kos", "milik sendiri"],
        "status_pernikahan": ["Belum Nikah", "Nikah"],
        "pekerjaan": ["Buruh", "PNS"],
    },
}


def columns(*applicants) -> dict:
    return {name: np.array([a[name] for a in applicants], dtype=object) for name in applicants[0]}


def test_each_applicant_s_attributes_outside_the_training_range_are_named():
    inside = {**VALID_APPLICANT}
    far = {**VALID_APPLICANT, "otr": 5_000_000_000, "monthly_income": 0, "pekerjaan": "Wiraswasta"}
    edge = {**VALID_APPLICANT, "otr": 900_000_000, "tenor": 6}  # the extremes themselves were seen

    assert outside_training(columns(inside, far, edge), RANGES) == [[], ["monthly_income", "otr", "pekerjaan"], []]
    assert outside_training(columns(far), None) == [[]]  # a model that recorded no ranges: no claim


def test_training_ranges_are_the_development_applicants_extremes_and_categories():
    import pandas as pd

    frame = pd.DataFrame([VALID_APPLICANT, {**VALID_APPLICANT, "otr": 50_000_000, "pekerjaan": "Buruh"}])
    ranges = training_ranges(frame)
    assert ranges["numbers"]["otr"] == [50_000_000, 150_000_000]
    assert ranges["categories"]["pekerjaan"] == ["Buruh", "PNS"]


@pytest.fixture
def far_applicant():
    from applicants.attributes import MAX_OTR

    return {**VALID_APPLICANT, "otr": MAX_OTR, "dp": 1_000_000}


def test_the_api_answer_the_stored_prediction_and_the_page_say_so(analyst_client, active_version, far_applicant):
    answer = analyst_client.post("/api/v1/score", far_applicant, content_type="application/json").json()
    assert answer["outside_training"] == ["otr"]
    typical = analyst_client.post("/api/v1/score", VALID_APPLICANT, content_type="application/json").json()
    assert typical["outside_training"] == []
    stored = Prediction.objects.get(pk=answer["id"])
    assert stored.outside_training == ["otr"]

    page = analyst_client.get(f"/score/predictions/{stored.pk}/").content.decode()
    assert 'data-testid="outside-training"' in page and "Outside what the model has seen" in page
    assert "Vehicle price (OTR)" in page.split('data-testid="outside-training"')[1].split("</div>")[0]
    typical_page = analyst_client.get(f"/score/predictions/{typical['id']}/").content.decode()
    assert 'data-testid="outside-training"' not in typical_page
