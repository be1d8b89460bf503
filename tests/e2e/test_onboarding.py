"""Onboarding in a real browser: a Model admin creates an Analyst and an API token in the admin, the new
Analyst logs in, and the token scores through the API (see conftest.py for the setup)."""

import json
import re
import urllib.request

import pytest

from scoring.models import Prediction
from tests.conftest import make_user
from tests.e2e.conftest import Browsing
from tests.support import VALID_APPLICANT

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

NEW_PASSWORD = "Fresh-Analyst-Pass-9"


def test_a_model_admin_onboards_an_analyst_who_logs_in_and_whose_token_scores(
    browsing: Browsing, browser, make_version
):
    make_version()
    make_user("mia", "Model admin", is_staff=True)
    page = browsing.page
    browsing.log_in("mia")

    # The user, with the Analyst role.
    page.goto(browsing.url("/admin/auth/user/add/"))
    page.get_by_label("Username").fill("nur.analyst")
    page.locator("#id_password1").fill(NEW_PASSWORD)  # labelled "Password:" beside "Password confirmation:"
    page.get_by_label("Password confirmation").fill(NEW_PASSWORD)
    page.get_by_label("Role").select_option(label="Analyst")
    page.locator("input[name=_save]").click()
    page.wait_for_load_state()
    assert "was added successfully" in page.content()

    # A token for them: the key is shown once.
    page.goto(browsing.url("/admin/nplsite/apitoken/add/"))
    page.get_by_label("User").select_option(label="nur.analyst")
    page.locator("input[name=_save]").click()
    page.wait_for_load_state()
    key = re.search(r"API token for nur\.analyst: (\S+) — copy it now", page.content())[1]
    assert page.get_by_role("cell", name="nur.analyst").count() >= 1  # listed, by its user

    # The new Analyst logs in, in a browser of their own.
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    try:
        analyst = Browsing(page=context.new_page(), base_url=browsing.base_url)
        analyst.log_in("nur.analyst", NEW_PASSWORD)
        assert "Analyst" in analyst.page.locator("header").inner_text()
    finally:
        context.close()

    # ... and their system scores through the API with the token.
    request = urllib.request.Request(  # noqa: S310 (the live test server's http URL)
        browsing.url("/api/v1/score"),
        data=json.dumps(VALID_APPLICANT).encode(),
        headers={"Authorization": f"Token {key}", "Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310 (the live test server)
        answer = json.loads(response.read())
        assert response.status == 200
    assert 0 <= answer["npl_probability"] <= 1
    assert Prediction.objects.get().user.username == "nur.analyst"
