"""The score form: rupiah spellings, the shared validation messages inline, the result, saving."""

import html
import re

import pytest

from applicants.attributes import label
from applicants.models import Applicant
from applicants.validation import validate_applicant_attributes
from scoring.models import Prediction
from scoring.reason_wording import worded_reasons
from tests.web.conftest import VALID_FORM
from tests.web.pagecheck import checked_page, text_of

pytestmark = pytest.mark.django_db

PARSED_VALID = {
    "monthly_income": 12_000_000,
    "housing_type": "milik sendiri",
    "num_of_dependent": 1,
    "lama_bekerja": 8,
    "otr": 150_000_000,
    "status_pernikahan": "Nikah",
    "pekerjaan": "PNS",
    "tenor": 24,
    "dp": 60_000_000,
}


def field_error(response, field: str) -> str | None:
    match = re.search(rf'<p class="field-error" id="id_{field}_error">(.*?)</p>', response.content.decode(), re.S)
    return html.unescape(match[1]).strip() if match else None


def test_valid_form_shows_probability_score_grade_loss_recommendation_and_reasons(
    analyst_client, analyst, active_version
):
    response = analyst_client.post("/score/", VALID_FORM)

    page = checked_page(response)
    prediction = Prediction.objects.get()
    assert prediction.input_attributes == PARSED_VALID
    assert prediction.channel == "web" and prediction.user == analyst and prediction.applicant is None
    text = text_of(response)
    assert f"{prediction.npl_probability * 100:.1f} %" in text
    assert f"Credit score {prediction.credit_score}" in text
    assert f'data-testid="grade">{prediction.risk_grade}<' in response.content.decode()
    assert f"Rp {prediction.expected_loss:,}" in text
    assert prediction.get_recommendation_display() in text
    assert prediction.reasons
    for reason in worded_reasons(prediction.reasons, prediction.input_attributes, "en"):
        assert reason["text"] in text and "; typical " in reason["text"]
    # The model's NPL flag, in its own words and colour: not the policy's recommendation (issue 22, item 11).
    flag, colour = ("Flagged NPL by the model", "danger") if prediction.is_npl else ("Not flagged NPL", "neutral")
    assert f'badge-{colour}" data-testid="npl-flag">{flag}<' in response.content.decode()
    assert "Customer quality" not in text and "Predicted NPL" not in text
    gauge = [attrs for attrs in page.all("svg") if "gauge" in (attrs.get("class") or "")]
    assert gauge and gauge[0]["role"] == "img"
    # The form keeps what was typed, for another try.
    assert 'value="12.000.000"' in response.content.decode()


@pytest.mark.parametrize("spelling", ["12.000.000", "12000000", "12,000,000", "Rp 12.000.000", "Rp12000000.0"])
def test_rupiah_amounts_are_read_in_every_usual_spelling(analyst_client, active_version, spelling):
    analyst_client.post("/score/", {**VALID_FORM, "monthly_income": spelling})
    assert Prediction.objects.get().input_attributes["monthly_income"] == 12_000_000


INVALID_VALUES = {
    "monthly_income": "-5.000.000",
    "housing_type": "istana",
    "num_of_dependent": "25",
    "lama_bekerja": "-1",
    "otr": "200.000.000.000",
    "status_pernikahan": "Cerai",
    "pekerjaan": "Astronot",
    "tenor": "0",
    "dp": "160.000.000",
}
PARSED_INVALID = {
    "monthly_income": -5_000_000,
    "housing_type": "istana",
    "num_of_dependent": 25,
    "lama_bekerja": -1,
    "otr": 200_000_000_000,
    "status_pernikahan": "Cerai",
    "pekerjaan": "Astronot",
    "tenor": 0,
    "dp": 160_000_000,
}


@pytest.mark.parametrize("field", list(INVALID_VALUES))
def test_each_invalid_field_shows_the_shared_rule_message_inline(analyst_client, active_version, field):
    expected = validate_applicant_attributes({**PARSED_VALID, field: PARSED_INVALID[field]})[field][0]

    response = analyst_client.post("/score/", {**VALID_FORM, field: INVALID_VALUES[field]})

    page = checked_page(response, status=400)
    assert field_error(response, field) == expected
    control = next(attrs for _, attrs in page.tags if attrs.get("name") == field)
    assert control["aria-invalid"] == "true"
    assert f"id_{field}_error" in control["aria-describedby"]
    assert "Please correct the field marked below." in text_of(response)
    assert Prediction.objects.count() == 0


@pytest.mark.parametrize("field", list(INVALID_VALUES))
def test_a_missing_field_is_required(analyst_client, active_version, field):
    response = analyst_client.post("/score/", {**VALID_FORM, field: ""})
    assert field_error(response, field) == f"{label(field)} is required."


def test_unreadable_amount_and_number_have_their_own_messages(analyst_client, active_version):
    response = analyst_client.post("/score/", {**VALID_FORM, "otr": "seratus juta", "tenor": "dua"})
    assert field_error(response, "otr") == "Enter an amount in rupiah, for example 12.000.000 or 12000000."
    assert field_error(response, "tenor") == "Enter a whole number."


def test_score_and_save_creates_the_applicant_and_links_the_prediction(analyst_client, active_version):
    response = analyst_client.post("/score/", {**VALID_FORM, "save_applicant": "on", "app_id": "5001"})

    applicant = Applicant.objects.get(app_id=5001)
    assert applicant.source == "web" and applicant.monthly_income == 12_000_000
    assert Prediction.objects.get().applicant == applicant
    assert 'href="/applicants/5001/"' in response.content.decode()

    again = analyst_client.post("/score/", {**VALID_FORM, "save_applicant": "on", "app_id": "5001"})
    assert again.status_code == 200 and Prediction.objects.filter(applicant=applicant).count() == 2


def test_saving_under_a_stored_id_with_other_attributes_is_refused(analyst_client, active_version):
    analyst_client.post("/score/", {**VALID_FORM, "save_applicant": "on", "app_id": "5001"})

    response = analyst_client.post(
        "/score/", {**VALID_FORM, "monthly_income": "9.000.000", "save_applicant": "on", "app_id": "5001"}
    )

    assert response.status_code == 400
    assert "Application 5001 is stored with different attributes (monthly_income)" in field_error(response, "app_id")
    assert Prediction.objects.count() == 1


def test_saving_needs_an_app_id(analyst_client, active_version):
    response = analyst_client.post("/score/", {**VALID_FORM, "save_applicant": "on"})
    assert field_error(response, "app_id") == "Enter an application id to save the applicant."
    assert Prediction.objects.count() == 0


def test_without_an_active_model_the_form_says_so(analyst_client):
    get = text_of(analyst_client.get("/score/"))
    assert "No model is active yet" in get
    response = analyst_client.post("/score/", VALID_FORM)
    assert response.status_code == 400
    assert "No model version is active" in text_of(response)


def test_rupiah_inputs_carry_the_formatting_hook_and_script(analyst_client):
    page = checked_page(analyst_client.get("/score/"))
    rupiah = [attrs["name"] for attrs in page.all("input") if "data-rupiah" in attrs]
    assert rupiah == ["monthly_income", "otr", "dp"]
    assert {"src": "/static/js/rupiah-input.js", "defer": None} in page.all("script")


def test_the_reasons_and_the_flag_are_worded_in_indonesian(analyst_client, active_version):
    risky = {**VALID_FORM, "monthly_income": "3.000.000", "dp": "5.000.000", "lama_bekerja": "0", "tenor": "60"}
    response = analyst_client.post("/score/", risky, HTTP_ACCEPT_LANGUAGE="id")
    prediction = Prediction.objects.get()
    text = text_of(response)
    assert prediction.is_npl and "Ditandai NPL oleh model" in text
    worded = worded_reasons(prediction.reasons, prediction.input_attributes, "id")
    assert worded and all("; biasanya " in reason["text"] for reason in worded)
    for reason in worded:
        assert reason["text"] in text
