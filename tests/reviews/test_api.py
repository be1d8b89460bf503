"""The review desk's API: the queue (filterable, for Analysts), decisions (errors in words), the override
report (Model admins), decisions in the prediction's answer, and the schema's examples."""

import pytest
import yaml
from django.test import Client

from reviews.services import record_decision
from tests.conftest import make_user
from tests.reviews.conftest import local, make_applicant
from web.api import examples


@pytest.fixture
def api(analyst_client):
    return analyst_client


def post_decision(client, prediction_id, body):
    return client.post(f"/api/v1/reviews/{prediction_id}/decision", body, content_type="application/json")


def test_the_queue_answers_pages_of_cases_like_its_example(api, analyst, predict):
    old = predict(grade="D", created_at=local(2026, 11, 2))
    sent = predict(recommendation="decline", channel="batch")
    api.post(f"/reviews/{sent.pk}/send/")
    api.post(f"/reviews/{sent.pk}/claim/")

    answer = api.get("/api/v1/reviews").json()

    assert answer["count"] == 2 and [item["id"] for item in answer["results"]] == [old.pk, sent.pk]
    item = answer["results"][1]
    assert set(item) == set(examples.REVIEW_QUEUE_ITEM)
    assert (item["sent_to_review"], item["assignee"], item["status"], item["financed_amount"]) == (
        True,
        "ana",
        "open",
        105_000_000,
    )
    assert answer["results"][0]["aging"] == "overdue"
    assert [i["id"] for i in api.get("/api/v1/reviews?assignee=me").json()["results"]] == [sent.pk]
    assert [i["id"] for i in api.get("/api/v1/reviews?assignee=none&grade=D").json()["results"]] == [old.pk]
    assert api.get("/api/v1/reviews?channel=batch&age=overdue").json()["count"] == 0


@pytest.mark.parametrize(
    ("query", "field", "message"),
    [
        ("age=old", "age", "is not a valid choice"),
        ("assignee=nobody", "assignee", "There is no active user nobody"),
        ("status=decided", "status", "Decided cases are not in the queue"),
        ("channel=fax", "channel", "is not a valid choice"),
    ],
)
def test_bad_queue_filters_answer_400_in_words(api, query, field, message):
    response = api.get(f"/api/v1/reviews?{query}")
    assert response.status_code == 400
    body = response.json()
    assert body["detail"] == "Invalid request." and message in body["errors"][field][0]


def test_a_decision_is_recorded_and_answered_like_its_example(api, predict):
    prediction = predict(recommendation="decline", grade="E", score=400)

    response = post_decision(api, prediction.pk, examples.DECISION_REQUEST)

    assert response.status_code == 201, response.content
    answer = response.json()
    assert set(answer) == set(examples.DECISION_ANSWER)
    assert set(answer["decision"]) == set(examples.DECISION_ANSWER["decision"])
    assert set(answer["case"]) == set(examples.DECISION_ANSWER["case"])
    decision = answer["decision"]
    assert (decision["override"], decision["recommendation"], decision["reason_code"]["code"]) == (
        "low_side",
        "decline",
        "GUARANTOR",
    )
    assert answer["case"] == {"id": prediction.pk, "status": "decided", "final_outcome": "approve", "assignee": None}


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        ({"outcome": "approve"}, "reason_code", "an override needs a reason code"),
        ({"outcome": "yes"}, "outcome", "is not a valid choice"),
        ({}, "outcome", "This field is required."),
        ({"outcome": "approve", "reason_code": "NOPE"}, "reason_code", "NOPE is not a reason code"),
        ({"outcome": "decline", "note": "x" * 2001}, "note", "no more than 2000 characters"),
    ],
)
def test_bad_decisions_answer_400_in_words(api, predict, body, field, message):
    response = post_decision(api, predict(recommendation="decline").pk, body)
    assert response.status_code == 400
    assert message in response.json()["errors"][field][0]


def test_unknown_and_malformed_ids_and_refusals(api, predict, second_analyst):
    assert post_decision(api, 987654, {"outcome": "approve"}).status_code == 404
    malformed = post_decision(api, "abc", {"outcome": "approve"})
    assert malformed.status_code == 400 and "must be a case id" in malformed.json()["errors"]["id"][0]
    prediction = predict()
    api.post(f"/reviews/{prediction.pk}/claim/")
    other = Client()
    other.force_login(second_analyst)
    refused = post_decision(other, prediction.pk, {"outcome": "approve"})
    assert refused.status_code == 403 and "assigned to ana" in refused.json()["detail"]


def test_the_api_needs_a_role(predict, db):
    assert Client().get("/api/v1/reviews").status_code == 401
    nobody = Client()
    nobody.force_login(make_user("tono", None))
    assert nobody.get("/api/v1/reviews").status_code == 403
    assert post_decision(nobody, predict().pk, {"outcome": "approve"}).status_code == 403


def test_the_override_report_is_for_model_admins_and_answers_like_its_example(api, analyst, model_admin, predict):
    record_decision(
        predict(recommendation="decline", grade="E"), user=analyst, outcome="approve", reason_code="GUARANTOR"
    )
    assert api.get("/api/v1/reviews/overrides").status_code == 403
    admin = Client()
    admin.force_login(model_admin)
    answer = admin.get("/api/v1/reviews/overrides").json()
    expected = examples.OVERRIDE_REPORT_ANSWER
    assert set(answer) == set(expected)
    for key in ("by_analyst", "by_reason", "by_grade", "by_month"):
        assert [set(row) for row in answer[key]] == [set(row) for row in expected[key]]
    assert answer["overall"] == expected["overall"]
    bad = admin.get("/api/v1/reviews/overrides?date_from=2026-12-31&date_to=2026-01-01")
    assert bad.status_code == 400 and "start of the period is after its end" in str(bad.json()["errors"])


def test_decisions_appear_in_the_predictions_answer_in_one_query_per_list(
    api, analyst, predict, django_assert_max_num_queries
):
    applicant = make_applicant()
    decided = predict(applicant=applicant, recommendation="approve")
    record_decision(decided, user=analyst, outcome="decline", reason_code="ADVERSE_BUREAU")
    for _ in range(5):
        predict()
    with django_assert_max_num_queries(8):
        answer = api.get("/api/v1/predictions").json()
    by_id = {item["id"]: item for item in answer["results"]}
    assert [d["override"] for d in by_id[decided.pk]["decisions"]] == ["high_side"]
    assert all(item["decisions"] == [] for key, item in by_id.items() if key != decided.pk)
    one = api.get(f"/api/v1/applicants/{applicant.app_id}").json()
    assert one["latest_prediction"]["decisions"][0]["reason_code"]["code"] == "ADVERSE_BUREAU"


def test_the_schema_describes_the_review_endpoints(api):
    schema = yaml.safe_load(api.get("/api/v1/schema/").content)
    assert {"/api/v1/reviews", "/api/v1/reviews/{id}/decision", "/api/v1/reviews/overrides"} <= set(schema["paths"])
    prediction = schema["components"]["schemas"]["Prediction"]
    assert "decisions" in prediction["properties"]
