"""The score explains the decision, in a real browser: each reason beside the typical value it was
compared with, in the direction the recommendation calls for, and the NPL flag named for what it is."""

import pytest

from scoring.models import Prediction
from scoring.reason_wording import worded_reasons
from tests.e2e.test_analyst_workspace import analyst_user, assert_stayed_on_the_live_server, fill_score_form  # noqa: F401

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def test_analyst_sees_each_reason_beside_its_typical_value(browsing, analyst_user, make_version):  # noqa: F811
    make_version()
    page = browsing.page
    browsing.log_in("ana")
    page.goto(browsing.url("/score/"))
    fill_score_form(page)  # a risky applicant: low income, 6 % down payment, 60 months
    page.locator("form.score-form").get_by_role("button", name="Score").click()

    prediction = Prediction.objects.get()
    result = page.locator("#result")
    shown = result.locator(".reason").all_inner_texts()
    assert prediction.recommendation == "decline" and len(shown) == len(prediction.reasons) > 0
    worded = worded_reasons(prediction.reasons, prediction.input_attributes, "en")
    for text, reason in zip(shown, worded, strict=True):
        assert reason["direction"] == "raises"  # a declined applicant is shown what raises the risk
        assert f"{reason['label']}: {reason['value_text']}; typical {reason['typical_text']}" in text
    assert result.get_by_test_id("npl-flag").inner_text() == "Flagged NPL by the model"
    assert "Customer quality" not in result.inner_text()
    browsing.screenshot("score-reasons-typical")
    assert_stayed_on_the_live_server(browsing)
