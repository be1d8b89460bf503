"""The deprecated /predict/ of the original project: same body, same three keys, same meaning."""

import json

import pytest

from nplsite.tokens import issue_api_token
from scoring.models import Prediction
from tests.scoring.conftest import RISKY_APPLICANT
from tests.support import VALID_APPLICANT

# What the original Streamlit front end sent: every number a float, as pandas gave them.
ORIGINAL_BODY = {
    "monthly_income": 9295094.0,
    "housing_type": "milik sendiri",
    "num_of_dependent": 3.0,
    "lama_bekerja": 2.0,
    "otr": 800000000.0,
    "status_pernikahan": "Belum Nikah",
    "pekerjaan": "Karyawan Swasta",
    "tenor": 60.0,
    "dp": 80000000.0,
}


@pytest.fixture
def token(analyst):
    return issue_api_token(analyst)[1]


def predict(client, token, body, content_type="application/json"):
    data = body if isinstance(body, str | bytes) else json.dumps(body)
    headers = {"HTTP_AUTHORIZATION": f"Token {token}"} if token else {}
    return client.post("/predict/", data=data, content_type=content_type, **headers)


@pytest.mark.parametrize("body", [ORIGINAL_BODY, VALID_APPLICANT, RISKY_APPLICANT])
def test_answers_res_prob_and_error_msg_with_the_original_meaning(client, token, active_version, body):
    response = predict(client, token, body)
    assert response.status_code == 200
    answer = response.json()
    assert set(answer) == {"res", "prob", "error_msg"} and answer["error_msg"] == ""
    prediction = Prediction.objects.get()
    assert answer["res"] == ("Ya" if prediction.is_npl else "Tidak")
    assert answer["prob"] == round(100 * (1 - prediction.npl_probability), 2)  # quality: NOT becoming NPL
    assert prediction.channel == "api"
    assert prediction.input_attributes == {k: int(v) if isinstance(v, float) else v for k, v in body.items()}


def test_risky_applicant_has_lower_quality(client, token, active_version):
    safe = predict(client, token, VALID_APPLICANT).json()
    risky = predict(client, token, RISKY_APPLICANT).json()
    assert risky["prob"] < safe["prob"] and risky["res"] == "Ya"


def test_marked_deprecated(client, token, active_version):
    response = predict(client, token, ORIGINAL_BODY)
    assert response["Deprecation"] == "true" and "/api/v1/score" in response["Link"]
    assert predict(client, token, {}).get("Deprecation") == "true"


def test_numeric_strings_and_other_fields_are_accepted_as_the_original_did(client, token, active_version):
    body = {**ORIGINAL_BODY, "monthly_income": "9295094.0", "tenor": "60", "dp": "Rp80.000.000", "extra": "x"}
    response = predict(client, token, body)
    assert response.status_code == 200, response.content
    assert Prediction.objects.get().input_attributes["dp"] == 80_000_000


@pytest.mark.parametrize("content_type", ["text/plain", ""])
def test_json_body_is_read_whatever_the_content_type(client, token, active_version, content_type):
    # requests.post(url, data=json.dumps(body)) sends no JSON content type; the original accepted it.
    response = predict(client, token, json.dumps(ORIGINAL_BODY), content_type=content_type)
    assert response.status_code == 200, response.content


@pytest.mark.parametrize(
    ("body", "named"),
    [
        ({**ORIGINAL_BODY, "housing_type": "castle"}, "housing_type"),
        ({**ORIGINAL_BODY, "monthly_income": -1.0}, "monthly_income"),
        ({**ORIGINAL_BODY, "dp": 900000000.0}, "dp"),
        ({**ORIGINAL_BODY, "tenor": 60.5}, "tenor"),
        ({**ORIGINAL_BODY, "tenor": "sixty"}, "tenor"),
        ({**ORIGINAL_BODY, "otr": None}, "otr"),
        ({**ORIGINAL_BODY, "otr": 1e30}, "otr"),
        ({**ORIGINAL_BODY, "lama_bekerja": True}, "lama_bekerja"),
        ({k: v for k, v in ORIGINAL_BODY.items() if k != "pekerjaan"}, "pekerjaan"),
        ([ORIGINAL_BODY], "JSON object"),
        ("null", "JSON object"),
        ('{"monthly_income": ', "JSON parse error"),
        ("", "monthly_income: Monthly income is required."),
        ('{"otr": 1e999}', "otr"),
        ("[" * 100_000 + "]" * 100_000, "nested too deeply"),
    ],
    ids=lambda value: (value if isinstance(value, str) else json.dumps(value))[:30],
)
def test_invalid_input_answers_the_original_error_body_with_400(client, token, active_version, body, named):
    response = predict(client, token, body)
    assert response.status_code == 400, response.content
    answer = response.json()
    assert answer["res"] == [] and named in answer["error_msg"]
    assert not Prediction.objects.exists()


def test_without_credentials_401_in_the_same_shape(client, db):
    response = predict(client, None, ORIGINAL_BODY)
    assert response.status_code == 401 and response.json()["res"] == []
    assert "credentials" in response.json()["error_msg"]


def test_no_active_model_503_in_the_same_shape(client, token):
    response = predict(client, token, ORIGINAL_BODY)
    assert response.status_code == 503
    assert response.json() == {"res": [], "error_msg": response.json()["error_msg"]}
    assert "No model version is active" in response.json()["error_msg"]


def test_session_authenticated_browser_client(analyst_client, active_version):
    response = analyst_client.post("/predict/", data=ORIGINAL_BODY, content_type="application/json")
    assert response.status_code == 200 and response.json()["res"] in ("Ya", "Tidak")
