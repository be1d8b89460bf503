"""The decision policy pages, the prediction page, re-scoring from the applicant page, the admin, and a
policy followed by a real worker process."""

import time

import pytest
from django.conf import settings as django_settings

from applicants.models import Applicant
from applicants.selectors import labelled_applicants_frame
from applicants.services import import_loan_file
from credit.encoder import APPLICANT_ATTRIBUTES
from credit.scorecard import parse_grade_bands
from scoring import strategy
from scoring.models import DecisionPolicy, Prediction
from scoring.policies import POLICY_FIELDS, policy_parameters
from scoring.policy_services import create_policy, ensure_active_policy
from scoring.services import score_requests
from tests.conftest import wait_until
from tests.model_cache import cached_loan_book
from tests.web.conftest import AS_OF, TRAINING_APPLICANTS
from tests.web.pagecheck import checked_page, text_of
from tests.web.test_batch import loan_file, upload
from training.artifacts import load_artifact
from web.api.serializers import cleaned_requests
from web.templatetags.npl_format import percent

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="session")
def training_book_file():
    """The loan book of the session's trained model (same generator seed and size)."""
    return cached_loan_book(TRAINING_APPLICANTS, seed=5, as_of=AS_OF)[0]


@pytest.fixture
def training_book(db, training_book_file):
    return import_loan_file(training_book_file, as_of=AS_OF)


def figures_of(policy, **changes) -> dict:
    """A policy's figures as stored (fractions, bands as text)."""
    return {**{name: getattr(policy, name) for name in POLICY_FIELDS}, **changes}


def form_of(policy, bands: str | None = None, **changes) -> dict:
    """What the policy form posts for ``policy``: shares as percentages, one field per grade band."""
    parsed = parse_grade_bands(bands or policy.grade_bands)
    data = {name: f"{getattr(policy, name):.10g}" for name in ("approve_min_score", "base_points", "base_odds", "pdo")}
    data.update({name: f"{getattr(policy, name) * 100:.10g}" for name in ("decline_min_pd", "lgd", "recall_target")})
    for name in ("min_monthly_income", "max_tenor"):
        data[name] = "" if getattr(policy, name) is None else str(getattr(policy, name))
    for name in ("min_dp_share", "max_installment_to_income"):
        data[name] = "" if getattr(policy, name) is None else f"{getattr(policy, name) * 100:.10g}"
    data["knockout_action"] = policy.knockout_action
    data["band_grades"] = ",".join(parsed.all_grades)
    data.update(
        {
            f"band_{grade}": f"{minimum:.10g}"
            for grade, minimum in zip(parsed.grades, parsed.minimum_scores, strict=True)
        }
    )
    return {**data, **changes}


def test_a_model_admin_previews_a_cut_off_then_activates_it(
    model_admin_client, model_admin, training_book, active_version
):
    active = ensure_active_policy()
    page = text_of(model_admin_client.get("/policies/new/"))
    assert "Propose a decision policy" in page

    proposal = form_of(active, approve_min_score="600", bands="A:650,B:600,C:520,D:460")
    preview = model_admin_client.post("/policies/new/", {**proposal, "action": "preview"})
    checked_page(preview)
    comparison = strategy.compare(
        policy_parameters(active),
        policy_parameters(
            DecisionPolicy(**figures_of(active, approve_min_score=600, grade_bands="A:650,B:600,C:520,D:460,E"))
        ),
    )
    html = preview.content.decode()
    assert f'data-testid="proposed-approval-rate">{percent(comparison.proposed.approval_rate)}<' in html
    assert f'data-testid="active-approval-rate">{percent(comparison.active.approval_rate)}<' in html
    assert comparison.proposed.approval_rate < comparison.active.approval_rate
    assert "series-proposed-point" in html and "series-active-point" in html
    # Why approval stops rising, and what each cut-off does (issue 22, item 15).
    assert 'data-testid="approval-ceiling"' in html
    assert f"can approve more than {percent(comparison.approval_ceiling)}" in text_of(preview)
    assert f"up to a cut-off of {comparison.flat_until:.0f}" in text_of(preview)
    assert 'data-testid="decline-cutoff-table"' in html and "Held by the NPL flag" in html
    assert DecisionPolicy.objects.count() == 1  # a preview stores nothing

    no_reason = model_admin_client.post("/policies/new/", {**proposal, "action": "activate"})
    assert no_reason.status_code == 400 and "Say why" in text_of(no_reason)
    assert DecisionPolicy.objects.count() == 1

    done = model_admin_client.post("/policies/new/", {**proposal, "reason": "Fewer B approvals", "action": "activate"})
    new = DecisionPolicy.objects.get(is_active=True)
    assert done["Location"] == f"/policies/{new.pk}/"
    assert (new.created_by, new.activated_by, new.reason, new.approve_min_score) == (
        model_admin,
        model_admin,
        "Fewer B approvals",
        600,
    )
    score_page = text_of(model_admin_client.get("/score/"))
    assert f"Decision policy in force: #{new.pk}" in score_page and "score ≥ 650" in score_page


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"band_B": "660"}, "Must be below the grade above (650): bands descend from the best grade."),
        ({"band_C": "200"}, "greater than or equal to 300"),
        ({"band_A": ""}, "This field is required"),
        ({"approve_min_score": "900"}, "less than or equal to 850"),
        ({"decline_min_pd": "abc"}, "Enter a number"),
        ({"decline_min_pd": "0.3"}, "greater than or equal to 1"),  # a fraction where a percentage is asked
        ({"lgd": "0"}, "greater than or equal to 1"),
        ({"lgd": "120"}, "less than or equal to 100"),
        ({"recall_target": "101"}, "less than or equal to 100"),
    ],
)
def test_a_bad_proposal_is_answered_field_by_field(model_admin_client, active_version, changes, message):
    active = ensure_active_policy()
    response = model_admin_client.post(
        "/policies/new/",
        {**form_of(active, bands="A:650,B:600,C:520,D:460", **changes), "reason": "x", "action": "activate"},
    )
    assert response.status_code == 400 and message in text_of(response)
    assert DecisionPolicy.objects.count() == 1


def test_a_proposal_with_knock_out_rules_shows_their_effect_and_is_stored_as_fractions(
    model_admin_client, model_admin, training_book, active_version
):
    active = ensure_active_policy()
    rules = {
        "min_dp_share": "25",
        "max_installment_to_income": "30",
        "max_tenor": "48",
        "min_monthly_income": "4000000",
    }
    preview = model_admin_client.post("/policies/new/", {**form_of(active, **rules), "action": "preview"})
    checked_page(preview)
    comparison = strategy.compare(
        policy_parameters(active),
        policy_parameters(
            DecisionPolicy(
                **figures_of(
                    active, min_dp_share=0.25, max_installment_to_income=0.3, max_tenor=48, min_monthly_income=4_000_000
                )
            )
        ),
    )
    assert comparison.proposed.declined_by_rule > 0
    html = preview.content.decode()
    assert "By a knock-out rule" in html and f'<td class="num">{comparison.proposed.declined_by_rule:,}</td>' in html
    model_admin_client.post("/policies/new/", {**form_of(active, **rules), "reason": "Rules", "action": "save"})
    saved = DecisionPolicy.objects.get(reason="Rules")
    assert (saved.min_dp_share, saved.max_installment_to_income, saved.max_tenor, saved.min_monthly_income) == (
        0.25,
        0.3,
        48,
        4_000_000,
    )
    assert "Minimum down payment: 25.0 %" in text_of(model_admin_client.get(f"/policies/{saved.pk}/"))
    bad = model_admin_client.post("/policies/new/", {**form_of(active, min_dp_share="95"), "action": "preview"})
    assert bad.status_code == 400 and "less than or equal to 90" in text_of(bad)


def test_a_saved_policy_is_compared_and_activated_from_its_page(
    model_admin_client, model_admin, training_book, active_version
):
    active = ensure_active_policy()
    saved = create_policy(model_admin, reason="Later", **figures_of(active, approve_min_score=500))
    page = checked_page(model_admin_client.get(f"/policies/{saved.pk}/"))
    assert "Activate policy" in "".join(page.text) and "Strategy curves" in "".join(page.text)
    response = model_admin_client.post(f"/policies/{saved.pk}/activate/")
    assert response["Location"] == f"/policies/{saved.pk}/"
    assert DecisionPolicy.objects.get(is_active=True) == saved


def test_analysts_cannot_see_create_or_activate_policies(analyst_client, active_version):
    active = ensure_active_policy()
    other = DecisionPolicy.objects.create(
        reason="Direct row", **{name: getattr(active, name) for name in POLICY_FIELDS}
    )
    assert analyst_client.get("/policies/").status_code == 403
    assert (
        analyst_client.post("/policies/new/", {**form_of(active), "reason": "x", "action": "activate"}).status_code
        == 403
    )
    assert analyst_client.post(f"/policies/{other.pk}/activate/").status_code == 403
    assert DecisionPolicy.objects.get(is_active=True) == active and DecisionPolicy.objects.count() == 2


def test_the_prediction_page_shows_model_version_and_policy_and_rescores(
    analyst_client, analyst, model_admin, page_book, active_version
):
    applicant = Applicant.objects.order_by("app_id").first()
    analyst_client.post(f"/score/applicants/{applicant.app_id}/")
    old = Prediction.objects.get()
    page = text_of(analyst_client.get(f"/score/predictions/{old.pk}/"))
    assert f"{active_version.name} #{active_version.pk}" in page and f"#{old.policy_id}" in page
    history = analyst_client.get(f"/applicants/{applicant.app_id}/").content.decode()
    assert f'href="/score/predictions/{old.pk}/"' in history and f"<td>#{old.policy_id}</td>" in history

    first = DecisionPolicy.objects.get()
    new_policy = create_policy(model_admin, reason="All Q", activate=True, **figures_of(first, grade_bands="Q:300"))
    response = analyst_client.post(f"/score/predictions/{old.pk}/rescore/")
    new = Prediction.objects.exclude(pk=old.pk).get()
    assert response["Location"] == f"/score/predictions/{new.pk}/"
    assert (new.policy_id, new.risk_grade, new.applicant_id) == (new_policy.pk, "Q", applicant.pk)
    assert Prediction.objects.filter(pk=old.pk, policy=first).exists()
    history = analyst_client.get(f"/applicants/{applicant.app_id}/").content.decode()
    assert f"<td>#{new_policy.pk}</td>" in history and f"<td>#{first.pk}</td>" in history


def test_the_admin_leads_to_the_policy_page_to_add_and_activates_one(model_admin_client, model_admin, active_version):
    client = model_admin_client
    active = ensure_active_policy()
    assert client.get("/admin/scoring/decisionpolicy/add/")["Location"] == "/policies/new/"
    assert client.post("/admin/scoring/decisionpolicy/add/", form_of(active)).status_code == 302
    assert DecisionPolicy.objects.count() == 1
    added = create_policy(model_admin, reason="From the page", **figures_of(active, approve_min_score=600))
    page = client.get(f"/admin/scoring/decisionpolicy/{added.pk}/change/")
    assert page.status_code == 200 and "From the page" in page.content.decode()
    client.post(
        "/admin/scoring/decisionpolicy/",
        {"action": "activate_policy", "_selected_action": [added.pk]},
    )
    assert DecisionPolicy.objects.get(is_active=True) == added


def test_the_form_shows_shares_as_percentages_and_one_field_per_grade_band(
    model_admin_client, model_admin, active_version
):
    """Issue 22, item 18: 30 (%), not 0.3; a field per band, not "A:600,…,E"; what is stored is unchanged."""
    active = ensure_active_policy()
    page = checked_page(model_admin_client.get("/policies/new/"))
    inputs = {attrs.get("name"): attrs.get("value") for attrs in page.all("input")}
    assert inputs["decline_min_pd"] == f"{active.decline_min_pd * 100:.10g}"
    assert (
        inputs["lgd"] == f"{active.lgd * 100:.10g}" and inputs["recall_target"] == f"{active.recall_target * 100:.10g}"
    )
    bands = parse_grade_bands(active.grade_bands)
    for grade, minimum in zip(bands.grades, bands.minimum_scores, strict=True):
        assert inputs[f"band_{grade}"] == f"{minimum:.10g}"
    assert "grade_bands" not in inputs
    text = text_of(model_admin_client.get("/policies/new/"))
    assert "Decline from NPL probability (%)" in text and "Grade A from score" in text
    assert f"below it: grade {bands.lowest_grade}" in text

    posted = form_of(active, bands="A:650,B:600,C:520,D:460", decline_min_pd="35", lgd="42,5", recall_target="92")
    model_admin_client.post("/policies/new/", {**posted, "reason": "Percentages", "action": "save"})
    saved = DecisionPolicy.objects.get(reason="Percentages")
    assert saved.grade_bands == "A:650,B:600,C:520,D:460,E"
    assert (saved.decline_min_pd, saved.lgd, saved.recall_target) == (0.35, 0.425, 0.92)

    assert model_admin_client.post("/i18n/setlang/", {"language": "id", "next": "/"}).status_code == 302
    indonesian = text_of(model_admin_client.get("/policies/new/"))
    assert "Tolak mulai probabilitas NPL (%)" in indonesian and "Peringkat A mulai skor" in indonesian


def test_a_running_worker_follows_an_activation(
    client, analyst, model_admin, make_version, settings, celery_worker_process
):
    """A real worker process scores a batch under the first policy; after another policy is activated
    here, its next batch follows it (within SCORING_ACTIVE_VERSION_RECHECK_SECONDS)."""
    make_version()
    settings.BATCH_INLINE_MAX_ROWS = 1
    client.force_login(analyst)
    first = ensure_active_policy()

    def run_job():
        job_url = upload(client, loan_file())["Location"]
        status = wait_until(lambda: (s := client.get(job_url + "status.json").json())["finished"] and s, timeout=120)
        assert status and status["status"] == "succeeded", status

    run_job()
    assert set(Prediction.objects.values_list("policy_id", flat=True)) == {first.pk}
    second = create_policy(model_admin, reason="All Q", activate=True, **figures_of(first, grade_bands="Q:300"))
    time.sleep(django_settings.SCORING_ACTIVE_VERSION_RECHECK_SECONDS + 0.2)  # the worker's reading expires
    run_job()
    latest = Prediction.objects.filter(policy=second)
    assert latest.count() == 2 and set(latest.values_list("risk_grade", flat=True)) == {"Q"}


def test_the_policy_pages_in_indonesian(model_admin_client, active_version):
    assert model_admin_client.post("/i18n/setlang/", {"language": "id", "next": "/"}).status_code == 302
    listing = text_of(model_admin_client.get("/policies/"))
    proposal = text_of(model_admin_client.get("/policies/new/"))
    assert "Kebijakan keputusan" in listing and "Usulkan kebijakan baru…" in listing
    assert "Usulkan kebijakan keputusan" in proposal and "Setujui mulai skor kredit" in proposal


def test_the_preview_adds_a_back_test_once_scored_applicants_have_outcomes(
    model_admin_client, training_book, active_version
):
    active = ensure_active_policy()
    proposal = {**form_of(active, approve_min_score="600"), "action": "preview"}
    assert 'data-testid="backtest"' not in model_admin_client.post("/policies/new/", proposal).content.decode()
    seen = set(load_artifact(active_version).metadata["seen_app_ids"])
    frame = labelled_applicants_frame(as_of=AS_OF)
    unseen = frame[~frame["app_id"].isin(seen)].sort_values("is_npl", ascending=False).head(30)
    items = unseen[["app_id", *APPLICANT_ATTRIBUTES]].to_dict("records")
    score_requests(cleaned_requests(items, lenient=True), channel="api")

    page = text_of(model_admin_client.post("/policies/new/", proposal))

    assert "Back-test on 30 applicants this model scored whose NPL outcome is now known" in page
