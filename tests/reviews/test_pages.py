"""The review desk's pages, in English and Indonesian, through the test client: the queue, a case,
claiming, a decision with its errors, sending to review, the override report, the applicant page."""

import pytest
from django.test import Client

from reviews.models import ReviewCase, ReviewDecision
from tests.reviews.conftest import local, make_applicant
from tests.web.pagecheck import checked_page, text_of
from tests.web.test_i18n import in_indonesian


@pytest.fixture(params=["en", "id"])
def language(request):
    return request.param


def _in(client, language):
    if language == "id":
        in_indonesian(client)
    return client


def test_the_queue_page_lists_cases_with_filters_and_aging(analyst_client, language, predict):
    _in(analyst_client, language)
    applicant = make_applicant()
    first = predict(applicant=applicant, grade="D", created_at=local(2026, 11, 2))
    second = predict(grade="C", channel="batch")
    predict(recommendation="approve")

    page = checked_page(analyst_client.get("/reviews/"))
    assert [int(attrs["data-case"]) for attrs in page.all("tr") if "data-case" in attrs] == [first.pk, second.pk]
    assert {attrs["data-aging"] for attrs in page.all("span") if "data-aging" in attrs} == {"overdue", "on_time"}

    page = checked_page(analyst_client.get("/reviews/?grade=C&channel=batch&age=within_target"))
    assert [int(attrs["data-case"]) for attrs in page.all("tr") if "data-case" in attrs] == [second.pk]
    text = text_of(analyst_client.get("/reviews/?assignee=me"))
    assert ("No case matches the filters." if language == "en" else "Tidak ada kasus yang cocok") in text


def test_an_analyst_claims_and_decides_a_case_with_an_override(analyst_client, analyst, language, predict):
    _in(analyst_client, language)
    prediction = predict(recommendation="decline")
    assert analyst_client.post(f"/reviews/{prediction.pk}/send/", {"note": "Guarantor offered"}).status_code == 302
    assert analyst_client.post(f"/reviews/{prediction.pk}/claim/").status_code == 302
    assert ReviewCase.objects.get(prediction=prediction).assignee == analyst
    checked_page(analyst_client.get(f"/reviews/{prediction.pk}/"))

    refused = analyst_client.post(f"/reviews/{prediction.pk}/decision/", {"outcome": "approve", "note": "ok"})
    checked_page(refused, 400)
    assert ("an override needs a reason code" if language == "en" else "penyimpangan memerlukan kode alasan") in (
        text_of(refused)
    )
    assert not ReviewDecision.objects.exists()

    done = analyst_client.post(
        f"/reviews/{prediction.pk}/decision/",
        {"outcome": "approve", "reason_code": "GUARANTOR", "note": "Parent co-signs."},
        follow=True,
    )
    checked_page(done)
    decision = ReviewDecision.objects.get()
    assert (decision.override, decision.reason_code.code, decision.decided_by) == ("low_side", "GUARANTOR", analyst)
    assert "Parent co-signs." in text_of(done)


def test_a_bad_note_and_bad_choices_answer_400_in_words(analyst_client, predict):
    prediction = predict()
    checked_page(analyst_client.post(f"/reviews/{prediction.pk}/notes/", {"text": "  "}), 400)
    checked_page(analyst_client.post(f"/reviews/{prediction.pk}/decision/", {"outcome": "maybe"}), 400)
    response = analyst_client.post(
        f"/reviews/{prediction.pk}/decision/", {"outcome": "decline", "reason_code": "GUARANTOR"}
    )
    checked_page(response, 400)
    assert "is for approvals, not for this decision" in text_of(response)
    assert analyst_client.get("/reviews/999999/").status_code == 404


def test_the_override_report_page_is_for_model_admins(analyst_client, model_admin, language, predict, analyst):
    from reviews.services import record_decision

    record_decision(predict(recommendation="decline"), user=analyst, outcome="approve", reason_code="GUARANTOR")
    assert analyst_client.get("/reviews/overrides/").status_code == 403
    model_admin_client = Client()
    model_admin_client.force_login(model_admin)
    _in(model_admin_client, language)
    page = checked_page(model_admin_client.get("/reviews/overrides/"))
    assert page.all("table")
    checked_page(model_admin_client.get("/reviews/overrides/?date_from=31/12/2026&date_to=01/01/2026"), 400)


def test_decisions_appear_on_the_applicant_page_and_the_prediction_page_offers_review(
    analyst_client, analyst, language, predict
):
    from reviews.services import record_decision

    _in(analyst_client, language)
    applicant = make_applicant()
    prediction = predict(applicant=applicant, recommendation="approve")
    page = checked_page(analyst_client.get(f"/score/predictions/{prediction.pk}/"))
    assert any(attrs.get("action") == f"/reviews/{prediction.pk}/send/" for attrs in page.all("form"))
    record_decision(prediction, user=analyst, outcome="decline", reason_code="ADVERSE_BUREAU", note="SLIK shows 90+.")
    page = checked_page(analyst_client.get(f"/applicants/{applicant.app_id}/"))
    assert [attrs.get("data-override") for attrs in page.all("span") if "data-override" in attrs] == ["high_side"]
    assert "SLIK shows 90+." in text_of(analyst_client.get(f"/applicants/{applicant.app_id}/"))


def test_the_review_queue_is_in_the_navigation_for_analysts(analyst_client, db):
    assert 'href="/reviews/"' in analyst_client.get("/").content.decode()
    assert Client().get("/reviews/").status_code == 302  # to the login page
