"""Every analyst page renders for its role, and the model-admin pages refuse analysts on the server."""

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from applicants.models import Applicant
from scoring.models import Prediction
from scoring.reason_wording import worded_reasons
from tests.conftest import make_user
from tests.support import FIRST_POLICY_TRAINING
from tests.web.pagecheck import checked_page, text_of
from training.models import ModelVersion, TrainingRun

pytestmark = pytest.mark.django_db


@pytest.fixture
def scored_book(analyst_client, active_version, page_book):
    """The small book with a few applicants scored through "Score now"."""
    for applicant in Applicant.objects.order_by("app_id")[:5]:
        assert analyst_client.post(f"/score/applicants/{applicant.app_id}/").status_code == 302
    return page_book


def test_analyst_pages_render_self_contained(analyst_client, scored_book, active_version):
    applicant = Applicant.objects.order_by("app_id").first()
    for url in (
        "/",
        "/applicants/",
        f"/applicants/{applicant.app_id}/",
        "/score/",
        "/batch/",
        "/models/",
        f"/models/{active_version.pk}/",
    ):
        checked_page(analyst_client.get(url))


def test_navigation_links_every_page_and_marks_the_current_one(analyst_client, active_version):
    page = checked_page(analyst_client.get("/applicants/"))
    links = {}
    for attrs in page.all("a"):  # the first link to each address: the navigation's
        links.setdefault(attrs.get("href"), attrs)
    for href in ("/", "/applicants/", "/score/", "/batch/", "/models/"):
        assert href in links, href
    assert links["/applicants/"].get("aria-current") == "page"
    assert "aria-current" not in links["/score/"]


def test_dashboard_shows_the_book_todays_predictions_and_the_active_model(analyst_client, scored_book, active_version):
    labelled = Applicant.objects.filter(kolektibilitas__isnull=False).count()
    npl = Applicant.objects.filter(is_npl=True).count()

    response = analyst_client.get("/")

    text = text_of(response)
    assert f"APPLICANTS {Applicant.objects.count()}".lower() in text.lower()
    assert f"{100 * npl / labelled:.1f} %" in text
    assert "Predictions today 5" in text
    assert active_version.name in text
    assert f"Test recall {100 * active_version.metrics['recall']:.1f} %" in text, text[text.find("Test recall") :][:80]
    page = checked_page(response)
    bars = [attrs for attrs in page.all("rect") if "chart-bar" in (attrs.get("class") or "")]
    assert len(bars) == 11  # 50-point bands from 300 to 850
    assert "Recent training runs" in text


def test_user_without_a_role_gets_403_on_the_analyst_pages(client, active_version):
    client.force_login(make_user("tamu", None))
    for url in ("/applicants/", "/score/", "/batch/", "/models/", f"/models/{active_version.pk}/"):
        assert client.get(url).status_code == 403, url
    assert "Your account has no role yet" in text_of(client.get("/"))


def test_model_admin_pages_render(model_admin_client, make_version):
    first = make_version()
    second = make_version(activate=False)
    run = TrainingRun.objects.filter(model_version=second).get()
    for url in (
        "/models/",
        f"/models/{second.pk}/",
        f"/models/{second.pk}/activate/",
        "/models/rollback/",
        "/models/retrain/",
        f"/models/runs/{run.pk}/",
    ):
        checked_page(model_admin_client.get(url))
    listing = text_of(model_admin_client.get("/models/"))
    assert f"#{first.pk}" in listing and f"#{second.pk}" in listing
    assert "Retrain" in listing


MODEL_ADMIN_ONLY = (
    ("get", "/models/retrain/"),
    ("post", "/models/retrain/"),
    ("get", "/models/{version}/activate/"),
    ("post", "/models/{version}/activate/"),
    ("get", "/models/rollback/"),
    ("post", "/models/rollback/"),
    ("get", "/models/runs/{run}/"),
    ("get", "/models/runs/{run}/status.json"),
)


@pytest.mark.parametrize(("method", "url"), MODEL_ADMIN_ONLY)
def test_analyst_gets_403_on_model_admin_urls(analyst_client, make_version, method, url):
    make_version()
    inactive = make_version(activate=False)
    run = TrainingRun.objects.filter(model_version=inactive).get()

    response = getattr(analyst_client, method)(url.format(version=inactive.pk, run=run.pk), {"profile": "quick"})

    assert response.status_code == 403
    assert TrainingRun.objects.count() == 2  # no retraining was queued
    assert ModelVersion.objects.get(is_active=True).pk != inactive.pk


def test_analyst_sees_only_the_active_version_and_no_retrain_button(analyst_client, make_version):
    active = make_version()
    inactive = make_version(activate=False)

    page = checked_page(analyst_client.get("/models/"))
    text = text_of(analyst_client.get("/models/"))

    assert f"{active.name} #{active.pk}" in text
    assert f"#{inactive.pk}" not in text
    assert not [form for form in page.all("form") if form.get("action") == "/models/retrain/"]
    assert "Retrain" not in text and "Activate" not in text
    assert analyst_client.get(f"/models/{active.pk}/").status_code == 200
    assert analyst_client.get(f"/models/{inactive.pk}/").status_code == 403


def test_version_page_shows_evaluation_leaderboard_and_feature_importance(analyst_client, active_version):
    response = analyst_client.get(f"/models/{active_version.pk}/")

    page = checked_page(response)
    text = text_of(response)
    confusion = active_version.metrics["confusion_matrix"]
    assert f"{confusion['tp']} caught" in text and f"{confusion['fn']} missed" in text
    charts = {attrs.get("aria-labelledby", "").split()[0] for attrs in page.all("svg")}
    assert {"roc-chart-title", "pr-chart-title", "calibration-chart-title"} <= charts
    assert "Leaderboard of the candidates" in text and "CV ROC AUC (mean ± standard error)" in text
    assert "LogisticRegression chosen" in text and "DecisionTreeClassifier" in text
    assert "best mean" in text and text.count(" ± ") >= 2
    low, high = active_version.metrics["intervals"]["recall"]
    assert f"95 % interval {low * 100:.1f} %–{high * 100:.1f} %" in text  # the recall's, as the page writes it
    assert "class weights, no resampling" in text
    # Logistic regression: importance from its coefficients, mapped to readable feature names.
    assert "size of each standardised coefficient" in text
    assert "Occupation:" in text or "Housing:" in text or "Down-payment ratio (DP / OTR)" in text
    assert len(page.all("meter")) == 15


def test_model_admin_retrains_and_follows_the_run(model_admin_client, model_admin, active_version):
    response = model_admin_client.post("/models/retrain/", {"profile": "quick", "as_of": "30/06/2024", "seed": "3"})

    run = TrainingRun.objects.order_by("-pk").first()
    assert response.status_code == 302 and response["Location"] == f"/models/runs/{run.pk}/"
    assert run.started_by == model_admin and run.parameters == {
        "profile": "quick",
        "as_of": "2024-06-30",
        "seed": 3,
        **FIRST_POLICY_TRAINING,
    }
    page = checked_page(model_admin_client.get(response["Location"]))
    assert [
        attrs for attrs in page.all("section") if attrs.get("data-poll-url") == f"/models/runs/{run.pk}/status.json"
    ]
    assert page.all("progress")
    status = model_admin_client.get(f"/models/runs/{run.pk}/status.json").json()
    assert status["status"] in ("queued", "running") and status["finished"] is False


def test_the_smoke_profile_is_for_tests_and_not_offered(model_admin_client):
    """manage.py train --profile smoke exists for the test suite; the retrain form offers quick and full."""
    page = checked_page(model_admin_client.get("/models/retrain/"))
    offered = [attrs.get("value") for attrs in page.all("option")]
    assert offered == ["quick", "full", "search", "scorecard"]  # the profiles, then the candidate to register
    assert model_admin_client.post("/models/retrain/", {"profile": "smoke", "seed": "1"}).status_code == 400
    assert TrainingRun.objects.count() == 0


def test_retrain_form_errors_are_shown(model_admin_client):
    response = model_admin_client.post("/models/retrain/", {"profile": "huge", "seed": "-1"})
    text = text_of(response)
    assert response.status_code == 400
    assert "Select a valid choice" in text and "greater than or equal to 0" in text
    assert TrainingRun.objects.count() == 0


def test_model_admin_activates_after_confirming_and_rolls_back(model_admin_client, make_version):
    first = make_version()
    second = make_version(activate=False)

    confirm = text_of(model_admin_client.get(f"/models/{second.pk}/activate/"))
    assert f"Activate {second}?" in confirm
    assert ModelVersion.objects.get(is_active=True) == first  # a GET changes nothing

    response = model_admin_client.post(f"/models/{second.pk}/activate/")
    assert response.status_code == 302
    assert ModelVersion.objects.get(is_active=True) == second
    assert f"{second} is now the active model." in text_of(model_admin_client.get(response["Location"]))

    assert f"{first} will be active again" in text_of(model_admin_client.get("/models/rollback/"))
    model_admin_client.post("/models/rollback/")
    assert ModelVersion.objects.get(is_active=True) == first


def test_score_now_scores_a_stored_applicant_and_shows_it(analyst_client, analyst, active_version, page_book):
    applicant = Applicant.objects.order_by("app_id").first()

    response = analyst_client.post(f"/score/applicants/{applicant.app_id}/", follow=True)

    prediction = Prediction.objects.get()
    assert prediction.applicant == applicant and prediction.user == analyst and prediction.channel == "web"
    text = text_of(response)
    assert f"grade {prediction.risk_grade}, credit score {prediction.credit_score}" in text
    assert f"Latest: Grade {prediction.risk_grade}" in text
    assert prediction.reasons
    assert worded_reasons(prediction.reasons, prediction.input_attributes, "en")[0]["text"] in text


def test_score_now_without_an_active_model_says_what_to_do(analyst_client, page_book):
    applicant = Applicant.objects.order_by("app_id").first()
    response = analyst_client.post(f"/score/applicants/{applicant.app_id}/", follow=True)
    assert "No model version is active" in text_of(response)
    assert Prediction.objects.count() == 0


def test_pages_need_a_login(client, active_version):
    for url in ("/applicants/", "/score/", "/batch/", "/models/"):
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
    assert get_user_model().objects.count() == 0


def test_the_favicon_is_served_without_a_login_and_linked_from_pages_and_the_api_docs(analyst_client):
    anonymous = Client()
    icon = anonymous.get("/favicon.ico")
    assert icon.status_code == 200 and icon["Content-Type"] == "image/x-icon"
    assert b"".join(icon.streaming_content)[:4] == b"\x00\x00\x01\x00"  # an ICO file
    for html in (analyst_client.get("/").content.decode(), analyst_client.get("/api/v1/docs/").content.decode()):
        assert '<link rel="icon" href="/favicon.ico"' in html
