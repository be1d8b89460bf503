"""A Model admin changes the decision policy in a real browser (see conftest.py for the setup)."""

import re

import pytest
from playwright.sync_api import expect

from scoring.models import DecisionPolicy
from tests.conftest import make_user
from tests.e2e.conftest import import_generated_book
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
    page.get_by_role("button", name="Save and activate").click()
    new = DecisionPolicy.objects.get(is_active=True)
    expect(page.get_by_role("heading", name=f"Policy #{new.pk}")).to_be_visible()
    assert new.approve_min_score == 620 and new.created_by == model_admin_user
    assert new.grade_bands == "A:650,B:600,C:520,D:460,E" and new.decline_min_pd == 0.3
    browsing.screenshot("policy-detail")

    page.get_by_role("navigation", name="Main navigation").get_by_role("link", name="Score").click()
    expect(page.get_by_role("heading", name=f"Decision policy in force: #{new.pk}")).to_be_visible()
    bands = page.get_by_test_id("grade-bands")
    expect(bands).to_contain_text("score ≥ 650")
    expect(bands).to_contain_text("score ≥ 460")
    browsing.screenshot("policy-score-page")
