"""Knock-out rules: hard policy rules read before the score (issue 23), from the pure rule to the
stored prediction, the API answer, the result page and the batch file."""

import csv
import io
import re

import numpy as np
import pytest
from django.utils import translation

from credit import scorecard
from credit.scorecard import KnockoutRules, ScorecardConfigurationError, ScorecardParameters
from nplsite.tokens import issue_api_token
from scoring.models import DecisionPolicy, Prediction
from scoring.policy_services import create_policy, ensure_active_policy
from scoring.reason_wording import knockout_rule_text
from scoring.services import score_applicants
from tests.support import VALID_APPLICANT
from tests.web.conftest import upload_dir  # noqa: F401 (the batch test's upload directory)

RULES = KnockoutRules(min_monthly_income=3_000_000, min_dp_share=0.2, max_tenor=48, max_installment_to_income=0.35)
# One applicant per rule (each caught by that rule only, in RULES order), and one nothing catches.
APPLICANTS = {
    "monthly_income": {**VALID_APPLICANT, "monthly_income": 2_500_000, "otr": 50_000_000, "dp": 20_000_000},
    "dp_share": {**VALID_APPLICANT, "dp": 15_000_000},  # 10 % of 150 M
    "tenor": {**VALID_APPLICANT, "tenor": 60},
    "installment_to_income": {**VALID_APPLICANT, "monthly_income": 5_000_000, "tenor": 12},  # 7.5 M a month
    "": VALID_APPLICANT,  # 90 M over 24 months = 3.75 M, 25 % of 15 M
}


def columns(applicants):
    return {name: np.array([a[name] for a in applicants]) for name in ("monthly_income", "otr", "dp", "tenor")}


def test_each_rule_catches_what_it_says_and_the_first_one_is_recorded():
    applicants = list(APPLICANTS.values())
    caught = RULES.caught(**columns(applicants))
    assert list(caught) == list(APPLICANTS)
    # An applicant caught by several rules records the first of RULES' order.
    both = {**VALID_APPLICANT, "dp": 1_000_000, "tenor": 72}
    assert list(RULES.caught(**columns([both]))) == ["dp_share"]
    assert list(KnockoutRules(max_tenor=48).caught(**columns([both]))) == ["tenor"]
    assert list(KnockoutRules().caught(**columns([both]))) == [""]


@pytest.mark.parametrize("action", ["decline", "review"])
def test_a_rule_decides_before_the_score_whatever_the_probability(action):
    applicants = list(APPLICANTS.values())
    n = len(applicants)
    parameters = ScorecardParameters(rules=KnockoutRules(**{**RULES.__dict__, "action": action}))
    decisions = scorecard.decide(
        np.full(n, 0.001), np.zeros(n, bool), parameters=parameters, **columns(applicants)
    )  # a PD of 0.1 %: the score alone approves everyone
    assert list(decisions.recommendation) == [action] * 4 + ["approve"]
    assert list(decisions.knockout_rule) == list(APPLICANTS)
    assert list(decisions.credit_score) == [scorecard.credit_score(0.001, parameters)] * n  # the score is kept
    with pytest.raises(ValueError, match="monthly_income and tenor"):
        scorecard.decide(
            np.full(n, 0.001), np.zeros(n, bool), columns(applicants)["otr"], columns(applicants)["dp"], parameters
        )


@pytest.mark.parametrize(
    ("rules", "named"),
    [
        (KnockoutRules(min_dp_share=0.95), "min_dp_share must be between 0.01 and 0.9"),
        (KnockoutRules(max_tenor=0), "max_tenor must be between 1 and 120"),
        (KnockoutRules(max_installment_to_income=5.0), "max_installment_to_income must be between 0.05 and 2"),
        (KnockoutRules(min_monthly_income=-1), "min_monthly_income must be between 1 and 1e+09"),
        (KnockoutRules(action="approve"), "knockout_action must be decline or review, got approve"),
    ],
)
def test_rules_out_of_their_range_are_refused_in_words(rules, named):
    with pytest.raises(ScorecardConfigurationError, match=re.escape(named)):
        ScorecardParameters(rules=rules)


def test_the_rules_are_worded_with_the_policy_s_limits_in_both_languages():
    with translation.override("en"):
        assert knockout_rule_text("dp_share", RULES) == "Down payment below 20 % of the vehicle price"
        assert (
            knockout_rule_text("monthly_income", RULES) == "Monthly income below the policy's minimum of Rp 3,000,000"
        )
        assert knockout_rule_text("tenor", RULES) == "Tenor above the policy's maximum of 48 months"
        assert knockout_rule_text("tenor", KnockoutRules()) == "Maximum tenor"  # the policy no longer has it
        assert knockout_rule_text("", RULES) == ""
    assert knockout_rule_text("installment_to_income", RULES, "id") == (
        "Angsuran (jumlah dibiayai ÷ tenor) di atas 35 % dari penghasilan bulanan"
    )


@pytest.fixture
def policy_with_rules(db, model_admin, active_version):
    first = ensure_active_policy()
    figures = {name: getattr(first, name) for name in ("grade_bands", "base_points", "base_odds", "pdo", "lgd")}
    figures.update(decline_min_pd=first.decline_min_pd, approve_min_score=first.approve_min_score)
    figures.update(recall_target=first.recall_target, min_dp_share=0.2, max_tenor=48)
    return create_policy(model_admin, reason="Regulator's minimum down payment", activate=True, **figures)


@pytest.mark.django_db
def test_a_caught_application_is_declined_stored_with_its_rule_and_said_in_words(
    client, analyst, analyst_client, policy_with_rules
):
    caught = {**VALID_APPLICANT, "dp": 15_000_000}
    api = client.post(
        "/api/v1/score",
        data=caught,
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Token {issue_api_token(analyst)[1]}",
        HTTP_ACCEPT_LANGUAGE="id",
    ).json()
    assert api["recommendation"] == "decline" and api["knockout_rule"] == "dp_share"
    assert api["knockout_rule_text"] == "Uang muka di bawah 20 % dari harga kendaraan"
    stored = Prediction.objects.get(pk=api["id"])
    assert (stored.knockout_rule, stored.policy_id) == ("dp_share", policy_with_rules.pk)

    fine = score_applicants([VALID_APPLICANT], channel="api")[0].prediction
    assert fine.knockout_rule == ""

    page = analyst_client.post("/score/", {**{k: str(v) for k, v in caught.items()}}).content.decode()
    assert 'data-testid="knockout-rule"' in page and "Down payment below 20 % of the vehicle price" in page
    assert "declined before the score was read." in page


@pytest.mark.django_db
def test_the_batch_file_names_the_rule(analyst_client, policy_with_rules, upload_dir):  # noqa: F811
    from tests.web.test_batch import loan_file, upload

    job_url = upload(analyst_client, loan_file())["Location"]
    download = analyst_client.get(job_url + "scored.csv")
    rows = list(csv.DictReader(io.StringIO(b"".join(download.streaming_content).decode())))
    by_app = {row["app_id"]: row for row in rows}
    # 2001: 10 % down over 60 months — both rules catch it; the first (down payment) is named.
    assert by_app["2001"]["knockout_rule"] == "Down payment below 20 % of the vehicle price"
    assert by_app["2001"]["recommendation"] == "decline"
    assert by_app["2002"]["knockout_rule"] == "Down payment below 20 % of the vehicle price"  # 10 % down
    assert DecisionPolicy.objects.get(is_active=True) == policy_with_rules
