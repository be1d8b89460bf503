"""The review desk in a real browser, in English and Indonesian: an analyst works a case from the queue to
a recorded override with its reason; an approval above the analyst's limit waits for a second decision by
someone with the authority. With ``NPL_DOCS_SCREENSHOTS=1`` the desk's pages are also written to
``docs/screenshots/<language>/`` (as ``tests/e2e/test_screenshots.py`` does for the other pages)."""

import os

import pytest
from playwright.sync_api import expect

from reviews.models import ReviewCase, ReviewDecision
from scoring.models import Prediction
from tests.conftest import make_user
from tests.e2e.conftest import Browsing
from tests.e2e.test_screenshots import (
    assert_fits_the_width,
    assert_nothing_cut_off,
    log_in,
    save_for_docs,
    write_docs_index,
)
from tests.reviews.conftest import local, make_applicant, make_prediction
from training.models import ModelVersion

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

WORDS = {
    "en": {
        "queue": "Reviews",
        "send": "Send to review",
        "claim": "Claim this case",
        "record": "Record the decision",
        "override_needs_reason": "an override needs a reason code",
        "low_side": "Low-side override",
        "first_decision": "Approval recorded as a first decision",
        "decided": "Decision recorded",
    },
    "id": {
        "queue": "Tinjauan",
        "send": "Kirim ke tinjauan",
        "claim": "Ambil kasus ini",
        "record": "Catat keputusan",
        "override_needs_reason": "penyimpangan memerlukan kode alasan",
        "low_side": "Penyimpangan sisi bawah",
        "first_decision": "Persetujuan dicatat sebagai keputusan pertama",
        "decided": "Keputusan dicatat",
    },
}


def _version() -> ModelVersion:
    return ModelVersion.objects.create(
        name="LogisticRegression-class_weight",
        algorithm="LogisticRegression",
        balancing="class_weight",
        threshold=0.1,
        artifact_path="unused.joblib",
        artifact_sha256="0" * 64,
        artifact_size=1,
    )


def assert_the_navigation_clears_the_language_switch(browsing: Browsing, name: str) -> None:
    gap = browsing.page.evaluate(
        """() => document.querySelector('.langswitch').getBoundingClientRect().left - Math.max(
                 ...[...document.querySelectorAll('.mainnav li')].map(li => li.getBoundingClientRect().right))"""
    )
    assert gap >= 0, f"{name}: the navigation runs {-gap}px into the language switch"


def shot(browsing: Browsing, language: str, name: str) -> None:
    browsing.page.wait_for_load_state()
    browsing.screenshot(f"{language}-{name}")
    save_for_docs(browsing, language, name)
    if os.environ.get("NPL_DOCS_SCREENSHOTS") == "1":
        write_docs_index()
    assert_fits_the_width(browsing, name)
    assert_nothing_cut_off(browsing, name)
    assert_the_navigation_clears_the_language_switch(browsing, name)


@pytest.mark.parametrize("language", ["en", "id"])
def test_an_analyst_works_a_case_from_the_queue_to_a_recorded_override(browsing, language):
    words = WORDS[language]
    version = _version()
    analyst = make_user("ana", "Analyst")
    make_user("mia", "Model admin", is_staff=True)
    for day, grade in ((1, "C"), (2, "D"), (3, "C")):
        make_prediction(version, applicant=make_applicant(), grade=grade, created_at=local(2026, 11, day))
    applicant = make_applicant(otr=180_000_000, dp=20_000_000)
    declined = make_prediction(version, applicant=applicant, recommendation="decline", grade="E", score=430)
    page = browsing.page
    log_in(browsing, "ana", language)

    # From the prediction's page, the analyst sends the declined application to review …
    page.goto(browsing.url(f"/score/predictions/{declined.pk}/"))
    page.get_by_role("button", name=words["send"]).click()
    page.wait_for_url(browsing.url(f"/reviews/{declined.pk}/"))
    # … finds it in the queue (the nav link), filtered to grade E, and opens it.
    page.get_by_role("navigation").get_by_role("link", name=words["queue"]).click()
    expect(page.locator("tr[data-case]")).to_have_count(4)
    shot(browsing, language, "review-queue")
    page.locator("#id_grade").select_option("E")
    page.locator("form.filter-form button[type=submit]").click()
    expect(page.locator("tr[data-case]")).to_have_count(1)
    page.locator(f"tr[data-case='{declined.pk}'] a[href='/reviews/{declined.pk}/']").click()
    page.get_by_role("button", name=words["claim"]).click()
    expect(page.get_by_test_id("case-assignee")).to_have_text("ana")

    # Approving a decline without a reason is refused, in words; with a reason it is a low-side override.
    form = page.get_by_test_id("decision-form")
    form.locator("input[name=outcome][value=approve]").check()
    form.get_by_role("button", name=words["record"]).click()
    expect(page.locator(".field-error")).to_contain_text(words["override_needs_reason"])
    assert not ReviewDecision.objects.exists()
    form = page.get_by_test_id("decision-form")
    form.locator("input[name=outcome][value=approve]").check()
    form.locator("#id_reason_code").select_option("GUARANTOR")
    form.locator("#id_note").fill("Parent co-signs; six salary slips seen.")
    shot(browsing, language, "review-case")
    form.get_by_role("button", name=words["record"]).click()
    expect(page.locator(".messages")).to_contain_text(words["decided"])
    expect(page.get_by_test_id("decisions")).to_contain_text(words["low_side"])

    decision = ReviewDecision.objects.get()
    assert (decision.decided_by, decision.outcome, decision.override, decision.reason_code.code) == (
        analyst,
        "approve",
        "low_side",
        "GUARANTOR",
    )
    assert decision.prediction == declined and decision.recommendation == "decline"
    assert Prediction.objects.get(pk=declined.pk).recommendation == "decline"  # the prediction is kept as it was
    page.goto(browsing.url(f"/applicants/{applicant.app_id}/"))
    expect(page.get_by_test_id("applicant-decisions")).to_contain_text("Parent co-signs; six salary slips seen.")

    # A Model admin reads the override report.
    page.context.clear_cookies()
    log_in(browsing, "mia", language)
    page.goto(browsing.url("/reviews/overrides/"))
    expect(page.get_by_test_id("override-rate")).to_have_text("100.0 %" if language == "en" else "100,0 %")
    shot(browsing, language, "override-report")
    assert browsing.foreign_requests() == [], "requests left the live server"


@pytest.mark.parametrize("language", ["en", "id"])
def test_an_approval_above_the_limit_waits_for_a_second_decision(browsing, settings, language):
    settings.REVIEW_ANALYST_APPROVAL_LIMIT = 250_000_000
    settings.REVIEW_MODEL_ADMIN_APPROVAL_LIMIT = 1_000_000_000
    words = WORDS[language]
    analyst = make_user("ana", "Analyst")
    make_user("budi", "Analyst")
    senior = make_user("sari", "Model admin", is_staff=True)
    large = make_prediction(_version(), applicant=make_applicant(otr=400_000_000, dp=80_000_000))
    page = browsing.page

    log_in(browsing, "ana", language)
    page.goto(browsing.url(f"/reviews/{large.pk}/"))
    form = page.get_by_test_id("decision-form")
    form.locator("input[name=outcome][value=approve]").check()
    form.get_by_role("button", name=words["record"]).click()
    expect(page.locator(".messages")).to_contain_text(words["first_decision"])
    expect(page.get_by_test_id("pending-decision")).to_be_visible()
    assert ReviewCase.objects.get(prediction=large).status == "second_decision"

    # Another analyst's limit does not cover it: refused, in words.
    page.context.clear_cookies()
    log_in(browsing, "budi", language)
    page.goto(browsing.url("/reviews/?status=second_decision"))
    expect(page.locator("tr[data-case]")).to_have_count(1)
    page.goto(browsing.url(f"/reviews/{large.pk}/"))
    form = page.get_by_test_id("decision-form")
    form.locator("input[name=outcome][value=approve]").check()
    form.get_by_role("button", name=words["record"]).click()
    expect(page.locator(".form-errors")).to_contain_text("320")
    assert ReviewDecision.objects.count() == 1

    # Someone whose limit covers it settles the case.
    page.context.clear_cookies()
    log_in(browsing, "sari", language)
    page.goto(browsing.url(f"/reviews/{large.pk}/"))
    shot(browsing, language, "review-case-second-decision")
    form = page.get_by_test_id("decision-form")
    form.locator("input[name=outcome][value=approve]").check()
    form.get_by_role("button", name=words["record"]).click()
    expect(page.locator(".messages")).to_contain_text(words["decided"])
    case = ReviewCase.objects.get(prediction=large)
    assert (case.status, case.final_outcome) == ("decided", "approve")
    assert [d.decided_by for d in ReviewDecision.objects.order_by("decided_at", "id")] == [analyst, senior]
    assert browsing.foreign_requests() == [], "requests left the live server"
