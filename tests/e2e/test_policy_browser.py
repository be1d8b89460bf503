"""A Model admin changes the decision policy in a real browser (see conftest.py for the setup)."""

import re

import pytest
from playwright.sync_api import expect

from scoring.models import DecisionPolicy, Prediction
from tests.conftest import make_user
from tests.e2e.conftest import PASSWORD, import_generated_book
from tests.web.conftest import TRAINING_APPLICANTS

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


@pytest.fixture
def model_admin_user(transactional_db):
    return make_user("mia", "Model admin", is_staff=True)


@pytest.fixture
def training_book(transactional_db, book_folder):
    """The loan book the session's trained model learned from: its test applicants give the curves."""
    return import_generated_book(book_folder, TRAINING_APPLICANTS, seed=5)


def test_model_admin_proposes_a_cut_off_sees_the_change_activates_it_and_the_score_page_follows(
    browsing, model_admin_user, make_version, training_book
):
    make_version()
    page = browsing.page
    browsing.log_in("mia")
    page.get_by_role("navigation", name="Main navigation").get_by_role("link", name="Models").click()
    page.get_by_role("link", name="Decision policies").click()
    page.get_by_role("link", name="Propose a new policy…").click()

    expect(page.get_by_label("Approve from credit score")).to_have_value("545")
    page.get_by_label("Approve from credit score").fill("620")
    expect(page.get_by_label("Decline from NPL probability (%)")).to_have_value("30")
    for grade, minimum in zip("ABCD", ("650", "600", "520", "460"), strict=True):
        page.get_by_label(f"Grade {grade} from score").fill(minimum)
    page.get_by_role("button", name="Preview").click()

    active_rate = page.get_by_test_id("active-approval-rate")
    proposed_rate = page.get_by_test_id("proposed-approval-rate")
    expect(proposed_rate).to_have_text(re.compile(r"^\d+\.\d %$"))
    assert float(proposed_rate.inner_text()[:-2]) < float(active_rate.inner_text()[:-2])
    # On the chart: the proposed point sits lower than the active one (a lower approval rate).
    chart = page.locator("#strategy-rates-title").locator("xpath=..")
    active_y = float(chart.locator(".series-active-point circle").get_attribute("cy"))
    proposed_y = float(chart.locator(".series-proposed-point circle").get_attribute("cy"))
    assert proposed_y > active_y
    expect(page.get_by_test_id("approval-change")).to_contain_text("applicants approved")
    browsing.screenshot("policy-proposal")
    assert DecisionPolicy.objects.count() == 1

    page.get_by_label("Reason").fill("Stricter approvals after the Q3 review")
    page.get_by_role("button", name="Save and propose activation").click()
    # Four eyes: proposed, not in force; the proposer is offered no approval of their own.
    page.wait_for_url(browsing.url("/changes/"))
    new = DecisionPolicy.objects.get(reason="Stricter approvals after the Q3 review")
    assert not new.is_active and new.approve_min_score == 620 and new.created_by == model_admin_user
    assert new.grade_bands == "A:650,B:600,C:520,D:460,E" and new.decline_min_pd == 0.3
    pending = page.get_by_test_id("pending-changes")
    expect(pending).to_contain_text("Proposed by you: another model admin approves it.")
    expect(pending.get_by_role("button", name="Approve", exact=True)).to_have_count(0)
    browsing.screenshot("policy-proposed")

    second_admin_approves(browsing, "Approve")
    new.refresh_from_db()
    assert new.is_active and new.activated_by.username == "max"

    page.get_by_role("navigation", name="Main navigation").get_by_role("link", name="Score").click()
    expect(page.get_by_role("heading", name=f"Decision policy in force: #{new.pk}")).to_be_visible()
    bands = page.get_by_test_id("grade-bands")
    expect(bands).to_contain_text("score ≥ 650")
    expect(bands).to_contain_text("score ≥ 460")
    browsing.screenshot("policy-score-page")


def second_admin_approves(browsing, approve_label: str) -> None:
    """The proposer logs out; a second Model admin logs in, opens Changes and approves."""
    page = browsing.page
    page.locator("header").get_by_role("button", name=re.compile("^(Log out|Keluar)$")).click()
    page.wait_for_url(browsing.url("/accounts/login/"))
    make_user("max", "Model admin", is_staff=True)
    # The login form in whatever language the browser kept (the fields by their ids).
    page.locator("#id_username").fill("max")
    page.locator("#id_password").fill(PASSWORD)
    page.locator("main").locator("button[type=submit]").click()
    page.wait_for_url(browsing.url("/"))
    page.goto(browsing.url("/changes/"))
    page.get_by_test_id("pending-changes").get_by_role("button", name=approve_label, exact=True).click()
    page.wait_for_url(browsing.url("/changes/"))


UI = {
    "en": {
        "min_dp": "Minimum down payment (% of the vehicle price)",
        "reason": "Reason",
        "preview": "Preview",
        "propose": "Save and propose activation",
        "own": "Proposed by you: another model admin approves it.",
        "approve": "Approve",
        "rule": "Down payment below 20 % of the vehicle price",
    },
    "id": {
        "min_dp": "Uang muka minimum (% dari harga kendaraan)",
        "reason": "Alasan",
        "preview": "Pratinjau",
        "propose": "Simpan dan usulkan pengaktifan",
        "own": "Diusulkan oleh Anda: admin model lain yang menyetujuinya.",
        "approve": "Setujui",
        "rule": "Uang muka di bawah 20 % dari harga kendaraan",
    },
}


@pytest.mark.parametrize("language", ["en", "id"])
def test_a_knock_out_rule_proposed_by_one_admin_approved_by_another_declines_new_applications_by_name(
    browsing, model_admin_user, make_version, training_book, language
):
    """Issue 23's acceptance: a policy with a knock-out rule, proposed by one Model admin, refused
    for their own approval, approved by a second; a new application then declines on the rule, named."""
    make_version()
    words = UI[language]
    page = browsing.page
    browsing.log_in("mia")
    if language == "id":
        page.get_by_role("button", name="Bahasa Indonesia").click()
    page.goto(browsing.url("/policies/new/"))
    page.get_by_label(words["min_dp"]).fill("20")
    page.get_by_role("button", name=words["preview"], exact=True).click()
    page.get_by_label(words["reason"]).fill("OJK minimum down payment for vehicle financing")
    page.get_by_role("button", name=words["propose"]).click()
    page.wait_for_url(browsing.url("/changes/"))
    expect(page.get_by_test_id("pending-changes")).to_contain_text(words["own"])
    expect(
        page.get_by_test_id("pending-changes").get_by_role("button", name=words["approve"], exact=True)
    ).to_have_count(0)
    browsing.screenshot(f"four-eyes-pending-{language}")

    second_admin_approves(browsing, words["approve"])
    rule_policy = DecisionPolicy.objects.get(is_active=True)
    assert rule_policy.min_dp_share == 0.2 and rule_policy.activated_by.username == "max"

    # A new application with 5.7 % down: declined by the rule, which the result names.
    page.goto(browsing.url("/score/"))
    page.wait_for_load_state()
    page.locator("#id_monthly_income").press_sequentially("45000000")
    page.locator("#id_otr").press_sequentially("350000000")
    page.locator("#id_dp").press_sequentially("20000000")
    page.locator("#id_tenor").fill("24")
    page.locator("#id_pekerjaan").select_option("PNS")
    page.locator("#id_lama_bekerja").fill("10")
    page.locator("#id_housing_type").select_option("milik sendiri")
    page.locator("#id_status_pernikahan").select_option("Nikah")
    page.locator("#id_num_of_dependent").fill("1")
    page.locator("form.score-form").locator("button[type=submit]").click()
    rule = page.get_by_test_id("knockout-rule")
    expect(rule).to_contain_text(words["rule"])
    prediction = Prediction.objects.get()
    assert (prediction.recommendation, prediction.knockout_rule, prediction.policy_id) == (
        "decline",
        "dp_share",
        rule_policy.pk,
    )
    browsing.screenshot(f"knockout-rule-result-{language}")
