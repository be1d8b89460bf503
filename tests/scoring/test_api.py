"""The REST API under /api/v1/: authentication, roles, validation, scoring, listings, models."""

import json
from datetime import date, timedelta

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.utils import timezone

from applicants.generator import write_loan_book
from applicants.models import Applicant
from applicants.services import import_loan_file
from nplsite.roles import ANALYST, MODEL_ADMIN
from nplsite.tokens import issue_api_token
from scoring import services
from scoring.models import Prediction
from tests.conftest import make_user
from tests.scoring.conftest import RISKY_APPLICANT
from tests.support import VALID_APPLICANT

SCORE = "/api/v1/score"
BATCH = "/api/v1/score/batch"
APPLICANTS = "/api/v1/applicants"


class Api:
    """The Django test client speaking JSON with a token, like an API client."""

    def __init__(self, client, token: str | None):
        self.client = client
        self.headers = {"HTTP_AUTHORIZATION": f"Token {token}"} if token else {}

    def get(self, path, params=None, **headers):
        return self.client.get(path, params or {}, **self.headers, **headers)

    def post(self, path, body, content_type="application/json", **headers):
        data = body if isinstance(body, str | bytes) else json.dumps(body)
        return self.client.post(path, data=data, content_type=content_type, **self.headers, **headers)


@pytest.fixture
def analyst_api(client, analyst):
    return Api(client, issue_api_token(analyst)[1])


@pytest.fixture
def admin_api(client, model_admin):
    return Api(client, issue_api_token(model_admin)[1])


@pytest.fixture
def roleless_api(client, db):
    return Api(client, issue_api_token(make_user("nobody", None))[1])


# ---------------------------------------------------------------------------------------------
# Authentication and roles
# ---------------------------------------------------------------------------------------------

ENDPOINTS = [
    ("post", SCORE),
    ("post", BATCH),
    ("get", "/api/v1/predictions"),
    ("get", APPLICANTS),
    ("post", APPLICANTS),
    ("get", "/api/v1/applicants/1001"),
    ("get", "/api/v1/models"),
    ("get", "/api/v1/models/active"),
    ("get", "/api/v1/schema/"),
    ("post", "/predict/"),
]  # /api/v1/docs/ is a page for people: an anonymous visit gets the login page (tests/security)


@pytest.mark.django_db
@pytest.mark.parametrize(("method", "path"), ENDPOINTS)
def test_no_credentials_is_401(client, method, path):
    response = getattr(Api(client, None), method)(path, *([VALID_APPLICANT] if method == "post" else []))
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Token")


@pytest.mark.django_db
@pytest.mark.parametrize(("method", "path"), ENDPOINTS)
def test_wrong_token_is_401(client, method, path):
    response = getattr(Api(client, "0" * 40), method)(path, *([VALID_APPLICANT] if method == "post" else []))
    assert response.status_code == 401


@pytest.mark.parametrize(("method", "path"), [e for e in ENDPOINTS if "/schema/" not in e[1]])
def test_user_without_a_role_is_403(roleless_api, method, path):
    response = getattr(roleless_api, method)(path, *([VALID_APPLICANT] if method == "post" else []))
    assert response.status_code == 403
    assert not Prediction.objects.exists()


def test_a_deactivated_users_token_is_401(analyst_api, analyst, active_version):
    assert analyst_api.post(SCORE, VALID_APPLICANT).status_code == 200
    analyst.is_active = False
    analyst.save()
    response = analyst_api.post(SCORE, VALID_APPLICANT)
    assert response.status_code == 401 and response.json()["detail"] == "Invalid token."  # revoked
    analyst.is_active = True
    analyst.save()
    assert analyst_api.post(SCORE, VALID_APPLICANT).status_code == 401  # and stays revoked
    assert Prediction.objects.count() == 1


def test_a_role_granted_or_taken_counts_from_the_next_request(roleless_api, active_version):
    user = get_user_model().objects.get(username="nobody")
    assert roleless_api.post(SCORE, VALID_APPLICANT).status_code == 403
    user.groups.add(Group.objects.get(name=ANALYST))
    assert roleless_api.post(SCORE, VALID_APPLICANT).status_code == 200
    user.groups.clear()
    user.groups.add(Group.objects.get(name=MODEL_ADMIN))  # Model admins may score too
    assert roleless_api.post(SCORE, VALID_APPLICANT).status_code == 200
    assert roleless_api.get("/api/v1/models").status_code == 200
    user.groups.clear()
    assert roleless_api.post(SCORE, VALID_APPLICANT).status_code == 403


def test_a_token_request_makes_a_fixed_number_of_queries(
    analyst_api, analyst, active_version, django_assert_num_queries, settings
):
    settings.SCORING_ACTIVE_VERSION_RECHECK_SECONDS = 60  # however slow the machine, no recheck below
    settings.API_AUTH_CACHE_SECONDS = 1  # nor of the token
    analyst_api.post(SCORE, VALID_APPLICANT)  # the artifact is loaded (two queries) once per process
    # The token was checked just before (knox's queries and the roles, remembered for up to a
    # second): only the prediction INSERT (the active version was read just before too).
    with django_assert_num_queries(1):
        response = analyst_api.post(SCORE, VALID_APPLICANT)
    assert response.status_code == 200 and Prediction.objects.latest("id").user == analyst
    settings.API_AUTH_CACHE_SECONDS = 0
    # Checked on every request: knox's token with its user and the user's other tokens (expired
    # ones are deleted), then the roles.
    with django_assert_num_queries(4):
        response = analyst_api.post(SCORE, VALID_APPLICANT)
    assert response.status_code == 200 and Prediction.objects.latest("id").user == analyst
    settings.SCORING_ACTIVE_VERSION_RECHECK_SECONDS = 0
    # ... and with a recheck on every score: the active version and the active decision policy too.
    with django_assert_num_queries(6):
        response = analyst_api.post(SCORE, VALID_APPLICANT)
    assert response.status_code == 200


def test_session_login_works_too(analyst_client, active_version):
    response = analyst_client.post(SCORE, data=VALID_APPLICANT, content_type="application/json")
    assert response.status_code == 200


def test_analyst_sees_only_the_active_version_summary(analyst_api, make_version):
    make_version("XGBClassifier", activate=False)
    active = make_version("LogisticRegression")
    assert analyst_api.get("/api/v1/models").status_code == 403
    response = analyst_api.get("/api/v1/models/active")
    assert response.status_code == 200
    body = response.json()
    assert body["id"] == active.pk and body["name"] == active.name and body["threshold"] == active.threshold
    assert set(body["test_metrics"]) >= {"precision", "recall", "roc_auc"}
    for internal in ("hyperparameters", "metrics", "leaderboard", "artifact_sha256", "training_data"):
        assert internal not in body


def test_model_admin_sees_every_version_with_internals(admin_api, make_version):
    make_version("XGBClassifier", activate=False)
    active = make_version("LogisticRegression")
    listing = admin_api.get("/api/v1/models").json()
    assert listing["count"] == 2
    assert {"hyperparameters", "metrics", "leaderboard", "artifact_sha256"} <= set(listing["results"][0])
    detail = admin_api.get("/api/v1/models/active").json()
    assert detail["id"] == active.pk and "hyperparameters" in detail and "roc_curve" in detail["metrics"]


def test_no_active_version_is_404_on_models_active(analyst_api):
    response = analyst_api.get("/api/v1/models/active")
    assert response.status_code == 404 and "No model version is active" in response.json()["detail"]


# ---------------------------------------------------------------------------------------------
# Scoring
# ---------------------------------------------------------------------------------------------


def test_score_one_applicant(analyst_api, analyst, active_version):
    response = analyst_api.post(SCORE, VALID_APPLICANT)
    assert response.status_code == 200, response.content
    body = response.json()
    prediction = Prediction.objects.get()
    assert body["id"] == prediction.pk and body["app_id"] is None
    assert body["npl_probability"] == pytest.approx(prediction.npl_probability)
    assert body["is_npl"] == prediction.is_npl and body["threshold"] == active_version.threshold
    assert 300 <= body["credit_score"] <= 850 and body["risk_grade"] in "ABCDE"
    assert isinstance(body["expected_loss"], int) and body["recommendation"] in ("approve", "review", "decline")
    assert body["model_version"] == {"id": active_version.pk, "name": active_version.name}
    assert body["attributes"] == VALID_APPLICANT
    assert prediction.user == analyst and prediction.channel == "api"
    for reason in body["reasons"]:
        assert {
            "attribute",
            "label",
            "value",
            "typical_value",
            "value_text",
            "typical_text",
            "direction",
            "effect",
            "text",
        } == set(reason)
        assert reason["value"] == VALID_APPLICANT[reason["attribute"]]
        assert f"{reason['value_text']}; typical {reason['typical_text']}" in reason["text"]


def test_reasons_are_worded_in_the_language_of_each_request_that_reads_them(analyst_api, active_version):
    """Scored by the API in English, read in Indonesian (and back): the stored reasons are data."""
    risky = {**VALID_APPLICANT, "monthly_income": 3_000_000, "dp": 5_000_000, "lama_bekerja": 0, "tenor": 60}
    english = analyst_api.post(SCORE, risky, HTTP_ACCEPT_LANGUAGE="en").json()["reasons"]
    assert english and all("; typical " in reason["text"] for reason in english)
    stored = Prediction.objects.get().reasons
    assert all("text" not in reason and "label" not in reason for reason in stored)
    indonesian = analyst_api.get("/api/v1/predictions", HTTP_ACCEPT_LANGUAGE="id").json()["results"][0]["reasons"]
    assert [r["attribute"] for r in indonesian] == [r["attribute"] for r in english]
    assert all("; biasanya " in reason["text"] for reason in indonesian), indonesian
    assert [r["value"] for r in indonesian] == [r["value"] for r in english]


def test_integral_floats_are_whole_numbers(analyst_api, active_version):
    body = {**VALID_APPLICANT, "monthly_income": 15000000.0, "tenor": 24.0}
    assert analyst_api.post(SCORE, body).status_code == 200


def test_score_with_a_new_app_id_stores_and_links_the_applicant(analyst_api, active_version):
    response = analyst_api.post(SCORE, {**VALID_APPLICANT, "app_id": 777})
    assert response.status_code == 200 and response.json()["app_id"] == 777
    applicant = Applicant.objects.get(app_id=777)
    assert applicant.source == "api" and applicant.otr == VALID_APPLICANT["otr"] and applicant.is_npl is None
    assert analyst_api.post(SCORE, {**VALID_APPLICANT, "app_id": 777}).status_code == 200
    assert Prediction.objects.filter(applicant=applicant).count() == 2


def test_score_with_a_stored_app_id_and_other_attributes_is_refused(analyst_api, active_version):
    analyst_api.post(SCORE, {**VALID_APPLICANT, "app_id": 777})
    response = analyst_api.post(SCORE, {**VALID_APPLICANT, "app_id": 777, "tenor": 48})
    assert response.status_code == 400
    assert "tenor" in response.json()["errors"]["app_id"][0]
    assert Prediction.objects.count() == 1


@pytest.fixture
def concurrent_request_stores(monkeypatch):
    """``concurrent_request_stores(app_id, attributes)``: the applicant is stored by "another request"
    just after this one looked it up and found nothing (the race two clients sending a new app_id
    at the same moment run)."""

    def arrange(app_id: int, attributes: dict):
        real = services._stored_applicants
        calls = []

        def looked_up_then_stored_elsewhere(app_ids):
            found = real(app_ids)
            if not calls:
                calls.append(app_ids)
                Applicant.objects.create(app_id=app_id, source="api", **attributes)
            return found

        monkeypatch.setattr(services, "_stored_applicants", looked_up_then_stored_elsewhere)

    return arrange


def test_an_app_id_stored_concurrently_with_the_same_attributes_is_linked(
    analyst_api, active_version, concurrent_request_stores
):
    concurrent_request_stores(777, VALID_APPLICANT)
    response = analyst_api.post(SCORE, {**VALID_APPLICANT, "app_id": 777})
    assert response.status_code == 200 and response.json()["app_id"] == 777
    assert Applicant.objects.filter(app_id=777).count() == 1
    assert Prediction.objects.get().applicant == Applicant.objects.get(app_id=777)


def test_an_app_id_stored_concurrently_with_other_attributes_is_refused_and_nothing_is_stored(
    analyst_api, active_version, concurrent_request_stores
):
    concurrent_request_stores(777, {**VALID_APPLICANT, "tenor": 48})
    items = [{**RISKY_APPLICANT, "app_id": 778}, {**VALID_APPLICANT, "app_id": 777}]
    response = analyst_api.post(BATCH, items)
    assert response.status_code == 400
    errors = response.json()["errors"]
    assert set(errors) == {"1"} and "tenor" in errors["1"]["app_id"][0] and "is stored" in errors["1"]["app_id"][0]
    assert not Prediction.objects.exists()
    assert list(Applicant.objects.values_list("app_id", flat=True)) == [777]  # 778 rolled back with the rest


def test_a_new_app_id_whose_row_vanishes_before_linking_is_a_clear_400(analyst_api, active_version, monkeypatch):
    real = services._stored_applicants
    lookups = []

    def deleted_right_after_insert(app_ids):
        lookups.append(app_ids)
        if len(lookups) == 2:  # the look-up after the insert: another request deleted it meanwhile
            Applicant.objects.filter(app_id__in=list(app_ids)).delete()
        return real(app_ids)

    monkeypatch.setattr(services, "_stored_applicants", deleted_right_after_insert)
    response = analyst_api.post(SCORE, {**VALID_APPLICANT, "app_id": 779})
    assert response.status_code == 400
    assert "could not be stored" in response.json()["errors"]["app_id"][0]
    assert not Prediction.objects.exists()


def test_batch_scores_all_and_stores_each(analyst_api, active_version):
    items = [VALID_APPLICANT, RISKY_APPLICANT, {**VALID_APPLICANT, "app_id": 5}]
    response = analyst_api.post(BATCH, {"applicants": items})
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["count"] == 3 and [r["app_id"] for r in body["results"]] == [None, None, 5]
    assert Prediction.objects.count() == 3
    assert analyst_api.post(BATCH, items).status_code == 200  # a bare list is accepted too


def test_batch_is_all_or_nothing_with_errors_by_index(analyst_api, active_version):
    items = [VALID_APPLICANT, {**VALID_APPLICANT, "pekerjaan": "Astronaut"}, VALID_APPLICANT, "not an object"]
    response = analyst_api.post(BATCH, {"applicants": items})
    assert response.status_code == 400
    errors = response.json()["errors"]
    assert set(errors) == {"1", "3"}
    assert "Astronaut" in errors["1"]["pekerjaan"][0] and "PNS" in errors["1"]["pekerjaan"][0]
    assert "non_field_errors" in errors["3"]
    assert not Prediction.objects.exists()


@pytest.mark.parametrize(
    "body",
    [{"applicants": []}, {"applicants": "x"}, {"nothing": 1}, "null", {"applicants": [VALID_APPLICANT] * 3}],
)
def test_batch_shape_errors(analyst_api, active_version, settings, body):
    settings.SCORING_BATCH_MAX = 2
    response = analyst_api.post(BATCH, body)
    assert response.status_code == 400
    assert "applicants" in response.json()["errors"]
    assert not Prediction.objects.exists()


def test_batch_size_limit_names_the_maximum(analyst_api, active_version, settings):
    settings.SCORING_BATCH_MAX = 2
    response = analyst_api.post(BATCH, [VALID_APPLICANT] * 3)
    assert response.status_code == 400 and "at most 2" in response.json()["errors"]["applicants"][0]


@pytest.mark.parametrize("path", [SCORE, BATCH, "/predict/"])
def test_no_active_model_is_503(analyst_api, path):
    body = [VALID_APPLICANT] if path == BATCH else VALID_APPLICANT
    response = analyst_api.post(path, body)
    assert response.status_code == 503
    text = response.json().get("detail") or response.json().get("error_msg")
    assert "No model version is active" in text
    assert not Prediction.objects.exists()


def test_altered_artifact_is_503(analyst_api, make_version, artifact_folder):
    import shutil

    original = make_version("DecisionTreeClassifier", activate=False)
    copy_name = f"api-tampered-{original.pk}.joblib"
    shutil.copyfile(artifact_folder / original.artifact_path, artifact_folder / copy_name)
    make_version("DecisionTreeClassifier", artifact_path=copy_name)
    with open(artifact_folder / copy_name, "ab") as handle:
        handle.write(b"tampered")
    response = analyst_api.post(SCORE, VALID_APPLICANT)
    assert response.status_code == 503
    assert "integrity check" in response.json()["detail"]
    assert str(artifact_folder) not in response.json()["detail"]  # no server paths in answers
    assert not Prediction.objects.exists()


# ---------------------------------------------------------------------------------------------
# Validation: every bad field on every endpoint
# ---------------------------------------------------------------------------------------------

BAD_FIELDS = [
    ("housing_type", "castle", "allowed values"),
    ("status_pernikahan", "Cerai", "allowed values"),
    ("pekerjaan", "Astronaut", "allowed values"),
    ("monthly_income", "9295094", "whole number"),
    ("monthly_income", -1, "negative"),
    ("monthly_income", 10**30, "implausibly large"),
    ("monthly_income", None, "required"),
    ("monthly_income", True, "whole number"),
    ("num_of_dependent", 2.5, "whole number"),
    ("num_of_dependent", 25, "at most"),
    ("lama_bekerja", 61, "at most"),
    ("lama_bekerja", [], "whole number"),
    ("otr", {"value": 1}, "whole number"),
    ("tenor", 0, "at least"),
    ("tenor", 121, "at most"),
    ("dp", VALID_APPLICANT["otr"] + 1, "larger than Vehicle price"),
    ("dp", -5, "negative"),
]


def _with(field, value):
    return {**VALID_APPLICANT, field: value}


def _without(field):
    return {k: v for k, v in VALID_APPLICANT.items() if k != field}


@pytest.mark.parametrize(("field", "value", "message"), BAD_FIELDS)
def test_score_rejects_bad_field(analyst_api, active_version, field, value, message):
    response = analyst_api.post(SCORE, _with(field, value))
    assert response.status_code == 400
    assert message in " ".join(response.json()["errors"][field])
    assert not Prediction.objects.exists()


@pytest.mark.parametrize(("field", "value", "message"), BAD_FIELDS)
def test_batch_rejects_bad_field_by_index(analyst_api, active_version, field, value, message):
    response = analyst_api.post(BATCH, {"applicants": [VALID_APPLICANT, _with(field, value)]})
    assert response.status_code == 400
    assert message in " ".join(response.json()["errors"]["1"][field])
    assert not Prediction.objects.exists()


@pytest.mark.parametrize(("field", "value", "message"), BAD_FIELDS)
def test_create_applicant_rejects_bad_field(analyst_api, field, value, message):
    response = analyst_api.post(APPLICANTS, {**_with(field, value), "app_id": 1})
    assert response.status_code == 400
    assert message in " ".join(response.json()["errors"][field])
    assert not Applicant.objects.exists()


@pytest.mark.parametrize("field", list(VALID_APPLICANT))
@pytest.mark.parametrize("path", [SCORE, BATCH, APPLICANTS])
def test_missing_field_is_named(analyst_api, active_version, path, field):
    body = {**_without(field), "app_id": 3} if path == APPLICANTS else _without(field)
    response = analyst_api.post(path, [body] if path == BATCH else body)
    assert response.status_code == 400
    errors = response.json()["errors"]
    assert "required" in (errors["0"] if path == BATCH else errors)[field][0]


@pytest.mark.parametrize("path", [SCORE, BATCH, APPLICANTS])
def test_unknown_field_is_refused(analyst_api, active_version, path):
    body = {**VALID_APPLICANT, "app_id": 4, "salary": 1}
    response = analyst_api.post(path, [body] if path == BATCH else body)
    assert response.status_code == 400
    errors = response.json()["errors"]
    assert "Unknown field" in (errors["0"] if path == BATCH else errors)["salary"][0]


@pytest.mark.parametrize("path", [SCORE, BATCH, APPLICANTS])
@pytest.mark.parametrize(
    ("raw", "content_type", "status"),
    [
        ('{"monthly_income": 1,', "application/json", 400),  # malformed JSON
        ("monthly_income=1", "application/x-www-form-urlencoded", 415),  # not JSON
        ("<xml/>", "text/xml", 415),
        ("null", "application/json", 400),
        ("[1, 2]", "application/json", 400),
        ('"text"', "application/json", 400),
        ("", "application/json", 400),
        ('{"monthly_income": 1e999}', "application/json", 400),  # infinity
        ('{"monthly_income": NaN}', "application/json", 400),
        ("\xff\xfe", "application/json", 400),
        ("[" * 100_000 + "]" * 100_000, "application/json", 400),  # deeper than the JSON decoder recurses
    ],
    ids=lambda value: value[:20] if isinstance(value, str) else str(value),
)
def test_malformed_bodies_never_500(analyst_api, active_version, path, raw, content_type, status):
    response = analyst_api.post(path, raw.encode("latin-1"), content_type=content_type)
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json")
    assert not Prediction.objects.exists()


def test_extreme_valid_values_are_scored(analyst_api, active_version):
    from applicants.attributes import MAX_MONTHLY_INCOME, MAX_OTR

    smallest = {**VALID_APPLICANT, "monthly_income": 0, "otr": 1, "dp": 0, "num_of_dependent": 0, "lama_bekerja": 0}
    largest = {
        **VALID_APPLICANT,
        "monthly_income": MAX_MONTHLY_INCOME,
        "otr": MAX_OTR,
        "dp": MAX_OTR - 1,
        "num_of_dependent": 20,
        "lama_bekerja": 60,
        "tenor": 120,
    }
    for body in ({**smallest, "tenor": 1}, largest):
        response = analyst_api.post(SCORE, body)
        assert response.status_code == 200, response.content
        assert response.json()["expected_loss"] <= 1  # Rp 1 financed at most


@pytest.mark.parametrize(
    ("changes", "field", "words"),
    [
        ({"otr": 0, "dp": 0}, "otr", "must be at least Rp 1, got Rp 0: no loan has that price"),
        ({"otr": 150_000_000, "dp": 150_000_000}, "dp", "nothing is financed, so there is no loan to score"),
    ],
)
def test_what_no_loan_can_be_is_refused_and_not_stored(analyst_api, active_version, changes, field, words):
    """A zero vehicle price, or a down payment of the whole price, finances nothing (issue 22, item 6)."""
    response = analyst_api.post(SCORE, {**VALID_APPLICANT, **changes})
    assert response.status_code == 400
    assert words in response.json()["errors"][field][0]
    assert not Prediction.objects.exists()


@pytest.mark.parametrize("app_id", [0, -3, "12", 1.5, 2**70, True])
def test_bad_app_id(analyst_api, active_version, app_id):
    response = analyst_api.post(SCORE, {**VALID_APPLICANT, "app_id": app_id})
    assert response.status_code == 400 and "app_id" in response.json()["errors"]


# ---------------------------------------------------------------------------------------------
# Predictions and applicants
# ---------------------------------------------------------------------------------------------


def test_prediction_list_filters_and_pages(analyst_api, make_version):
    first = make_version("LogisticRegression")
    analyst_api.post(SCORE, {**VALID_APPLICANT, "app_id": 11})
    analyst_api.post(SCORE, RISKY_APPLICANT)
    second = make_version("XGBClassifier")
    analyst_api.post(BATCH, [VALID_APPLICANT, RISKY_APPLICANT, {**RISKY_APPLICANT, "app_id": 12}])

    everything = analyst_api.get("/api/v1/predictions").json()
    assert everything["count"] == 5 and everything["results"][0]["app_id"] == 12  # newest first
    assert analyst_api.get("/api/v1/predictions", {"app_id": 11}).json()["count"] == 1
    assert analyst_api.get("/api/v1/predictions", {"version": first.pk}).json()["count"] == 2
    assert analyst_api.get("/api/v1/predictions", {"version": second.pk}).json()["count"] == 3
    npl = Prediction.objects.filter(is_npl=True).count()
    assert analyst_api.get("/api/v1/predictions", {"is_npl": "true"}).json()["count"] == npl
    assert analyst_api.get("/api/v1/predictions", {"is_npl": "false"}).json()["count"] == 5 - npl
    today = timezone.localdate()
    assert analyst_api.get("/api/v1/predictions", {"date_from": today, "date_to": today}).json()["count"] == 5
    later = (today + timedelta(days=1)).isoformat()
    assert analyst_api.get("/api/v1/predictions", {"date_from": later}).json()["count"] == 0
    assert analyst_api.get("/api/v1/predictions", {"date_to": (today - timedelta(days=1))}).json()["count"] == 0
    page = analyst_api.get("/api/v1/predictions", {"page_size": 2, "page": 2}).json()
    assert len(page["results"]) == 2 and page["next"] and page["previous"]


@pytest.mark.parametrize(
    "params",
    [
        {"app_id": "x"},
        {"version": "-1"},
        {"is_npl": "maybe"},
        {"date_from": "31/12/2024"},
        {"channel": "fax"},
        {"date_from": "0001-01-01"},
        {"date_to": "9999-12-31T23:59:59-12:00"},
    ],
)
def test_prediction_list_bad_filter_is_400(analyst_api, params):
    response = analyst_api.get("/api/v1/predictions", params)
    assert response.status_code == 400 and set(params) <= set(response.json()["errors"])


def test_create_and_list_applicants(analyst_api):
    response = analyst_api.post(APPLICANTS, {**VALID_APPLICANT, "app_id": 42})
    assert response.status_code == 201 and response.json()["app_id"] == 42
    assert Applicant.objects.get(app_id=42).source == "api"
    duplicate = analyst_api.post(APPLICANTS, {**VALID_APPLICANT, "app_id": 42})
    assert duplicate.status_code == 400 and "already exists" in duplicate.json()["errors"]["app_id"][0]
    missing_id = analyst_api.post(APPLICANTS, VALID_APPLICANT)
    assert missing_id.status_code == 400 and "app_id" in missing_id.json()["errors"]
    analyst_api.post(APPLICANTS, {**RISKY_APPLICANT, "app_id": 43})
    listing = analyst_api.get(APPLICANTS).json()
    assert [a["app_id"] for a in listing["results"]] == [42, 43]
    assert analyst_api.get(APPLICANTS, {"pekerjaan": "Buruh"}).json()["count"] == 1
    assert analyst_api.get(APPLICANTS, {"housing_type": "kos"}).json()["results"][0]["app_id"] == 43
    assert analyst_api.get(APPLICANTS, {"pekerjaan": "Astronaut"}).status_code == 400
    assert analyst_api.get(APPLICANTS, {"kolektibilitas": 9}).status_code == 400


def test_applicant_detail_with_payment_summary_and_latest_prediction(analyst_api, active_version, tmp_path):
    book = tmp_path / "book.csv"
    write_loan_book(book, tmp_path / "truth.csv", 30, seed=3, as_of=date(2024, 6, 30))
    import_loan_file(book, as_of=date(2024, 6, 30))
    applicant = Applicant.objects.filter(is_npl=True).first() or Applicant.objects.first()
    attributes = {field: getattr(applicant, field) for field in VALID_APPLICANT}
    detail = analyst_api.get(f"/api/v1/applicants/{applicant.app_id}").json()
    summary = detail["payment_summary"]
    assert detail["latest_prediction"] is None
    assert summary["kolektibilitas"] == applicant.kolektibilitas and summary["max_dpd"] == applicant.max_dpd
    assert summary["is_npl"] == applicant.is_npl
    assert summary["installments"] == applicant.installments.count()
    assert summary["paid_installments"] + summary["unpaid_installments"] == summary["installments"]
    assert summary["kolektibilitas_name"]

    scored = analyst_api.post(SCORE, {**attributes, "app_id": applicant.app_id})
    assert scored.status_code == 200
    detail = analyst_api.get(f"/api/v1/applicants/{applicant.app_id}").json()
    assert detail["latest_prediction"]["id"] == scored.json()["id"]
    assert analyst_api.get("/api/v1/applicants/99999999").status_code == 404
    assert analyst_api.get(f"/api/v1/applicants/{2**70}").status_code == 400
