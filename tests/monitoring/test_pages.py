"""The monitoring page, the dashboard's monitoring notice and GET /api/v1/monitoring, for each role."""

import pytest
from django.utils import timezone

from applicants.services import import_loan_file
from monitoring.services import write_monitoring_report
from nplsite.tokens import issue_api_token
from tests.conftest import make_user
from tests.monitoring.conftest import (
    KNOWN_SHIFT,
    LATER_AS_OF,
    as_new_applications,
    score_stored_applicants,
    write_book,
)
from tests.web.pagecheck import checked_page, text_of

pytestmark = pytest.mark.django_db

PAGE_APPLICANTS = 400
FIRST_APP_ID = 300_001


@pytest.fixture
def shifted_report(monitored_version, tmp_path):
    book, _ = write_book(
        tmp_path,
        "page",
        n_applicants=PAGE_APPLICANTS,
        seed=31,
        as_of=LATER_AS_OF,
        first_app_id=FIRST_APP_ID,
        shift=KNOWN_SHIFT,
    )
    import_loan_file(book, as_of=LATER_AS_OF)
    score_stored_applicants(range(FIRST_APP_ID, FIRST_APP_ID + PAGE_APPLICANTS))
    today = timezone.localdate()
    return write_monitoring_report(monitored_version, today - timezone.timedelta(days=29), today)


def in_indonesian(client):
    assert client.post("/i18n/setlang/", {"language": "id", "next": "/"}).status_code == 302


def test_dashboard_alert_leads_to_the_monitoring_page(analyst_client, shifted_report):
    dashboard = analyst_client.get("/")
    page = checked_page(dashboard)
    text = text_of(dashboard)
    assert "Model monitoring alert" in text
    # The largest moves first: the vehicle price, pushed off its lowest tenth.
    assert "Vehicle on-the-road price (Rp) moved: population stability index" in text
    url = f"/monitoring/{shifted_report.model_version_id}/"
    assert url in [attrs.get("href") for attrs in page.all("a")]

    response = analyst_client.get(url)

    page = checked_page(response)
    text = text_of(response)
    assert "What moved" in text and "Population stability" in text and "Back-testing against realised outcomes" in text
    assert "Monthly income (Rp) moved: population stability index" in text
    assert f"{PAGE_APPLICANTS} predictions in the period" in text
    titles = [attrs.get("id") for attrs in page.all("title")]
    assert "stability-chart-title" in titles and "score-chart-title" in titles
    assert len(page.all("rect")) > 12  # the stability bars and the score tenths


def test_the_monitoring_page_in_indonesian(analyst_client, shifted_report):
    in_indonesian(analyst_client)

    response = analyst_client.get(f"/monitoring/{shifted_report.model_version_id}/")

    checked_page(response)
    text = text_of(response)
    assert "Stabilitas populasi" in text
    assert "Penghasilan bulanan (Rp) bergeser: indeks stabilitas populasi" in text
    assert "Monthly income" not in text
    dashboard = text_of(analyst_client.get("/"))
    assert "Peringatan pemantauan model" in dashboard


def test_the_page_before_any_report_and_a_chosen_report(analyst_client, monitored_version):
    response = analyst_client.get(f"/monitoring/{monitored_version.pk}/")
    assert "No monitoring report has been written for this version yet." in text_of(checked_page(response) and response)
    assert analyst_client.get(f"/monitoring/{monitored_version.pk}/?report=abc").status_code == 404
    assert analyst_client.get(f"/monitoring/{monitored_version.pk}/?report=999").status_code == 404
    assert analyst_client.get("/monitoring/999/").status_code == 404
    today = timezone.localdate()
    report = write_monitoring_report(monitored_version, today, today)
    chosen = analyst_client.get(f"/monitoring/{monitored_version.pk}/?report={report.pk}")
    text = text_of(checked_page(chosen) and chosen)
    # No prediction in the period: no alert, and the page says why rather than "stable".
    assert "No alert: with 0 predictions in the period, fewer than 300, stability is not judged." in text
    assert "Nothing moved" not in text


def test_a_stable_period_before_any_outcome_says_nothing_is_back_tested_yet(
    analyst_client, monitored_version, tmp_path
):
    """Enough predictions of applicants drawn as the training book's were, scored today: nothing
    moved, and the page does not claim that back-tested grades agree when none is back-tested."""
    book, _ = write_book(tmp_path, "same", n_applicants=1000, seed=32, as_of=LATER_AS_OF, first_app_id=FIRST_APP_ID)
    import_loan_file(book, as_of=LATER_AS_OF)
    as_new_applications(range(FIRST_APP_ID, FIRST_APP_ID + 1000))
    score_stored_applicants(range(FIRST_APP_ID, FIRST_APP_ID + 1000))
    today = timezone.localdate()
    report = write_monitoring_report(monitored_version, today, today)
    assert report.alerts == []

    response = analyst_client.get(f"/monitoring/{monitored_version.pk}/")

    text = text_of(checked_page(response) and response)
    assert (
        "Nothing moved: every input and the score are stable. No prediction has reached its outcome window yet, "
        "so nothing is back-tested." in text
    )
    assert "back-tested grades agree" not in text


def test_roles_on_the_page(client, make_monitored_version, monitored_version):
    other = make_monitored_version(activate=False, name="older version")
    assert client.get(f"/monitoring/{monitored_version.pk}/").status_code == 302  # to the login page
    client.force_login(make_user("nobody", None))
    assert client.get(f"/monitoring/{monitored_version.pk}/").status_code == 403
    client.force_login(make_user("ana2", "Analyst"))
    assert client.get(f"/monitoring/{monitored_version.pk}/").status_code == 200
    assert client.get(f"/monitoring/{other.pk}/").status_code == 403
    client.force_login(make_user("mia2", "Model admin"))
    assert client.get(f"/monitoring/{other.pk}/").status_code == 200


def api_get(client, user=None, **params):
    headers = {"HTTP_AUTHORIZATION": f"Token {issue_api_token(user)[1]}"} if user else {}
    return client.get("/api/v1/monitoring", params, **headers)


def test_api_gives_the_active_versions_latest_report(client, analyst, shifted_report):
    response = api_get(client, analyst)

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["model_version"]["id"] == shifted_report.model_version_id
    assert body["report"]["status"] == "alert"
    income = next(alert for alert in body["report"]["alerts"] if alert.get("feature") == "monthly_income")
    assert income["psi"] > 0.25 and income["message"].startswith("Monthly income (Rp) moved")
    assert body["report"]["figures"]["stability"]["features"]["monthly_income"]["level"] == "shifted"

    indonesian = client.get(
        "/api/v1/monitoring",
        HTTP_AUTHORIZATION=f"Token {issue_api_token(analyst)[1]}",
        HTTP_ACCEPT_LANGUAGE="id",
    ).json()
    assert any(alert["message"].startswith("Penghasilan bulanan") for alert in indonesian["report"]["alerts"])


def test_api_roles_and_bad_requests(client, analyst, model_admin, make_monitored_version, shifted_report):
    other = make_monitored_version(activate=False, name="older version")
    assert api_get(client).status_code == 401
    assert api_get(client, make_user("nobody", None)).status_code == 403
    refused = api_get(client, analyst, version=other.pk)
    assert refused.status_code == 403
    assert refused.json()["detail"] == "Analysts can see the active model version's monitoring only."
    bad = api_get(client, analyst, version="abc")
    assert bad.status_code == 400
    assert bad.json()["errors"]["version"] == ["must be a model version id (a whole number of at least 1)"]
    assert api_get(client, model_admin, version=99999).json() == {"detail": "There is no model version 99999."}
    missing = api_get(client, model_admin, version=other.pk)
    assert missing.status_code == 404
    assert missing.json() == {"detail": "No monitoring report has been written for this version yet."}
    assert api_get(client, model_admin, version=shifted_report.model_version_id).status_code == 200


def test_api_without_an_active_version(client, analyst, make_monitored_version):
    make_monitored_version(activate=False)
    response = api_get(client, analyst)
    assert response.status_code == 404
    assert response.json()["detail"].startswith("No model version is active")


@pytest.mark.parametrize("predictions", [0, 3])
def test_a_period_too_small_to_judge_says_not_judged_everywhere(
    client, analyst, analyst_client, monitored_version, predictions
):
    """Issue 22, item 12: with no predictions, or fewer than the minimum, the stored status, the
    page, the dashboard and the API say "not judged", never "OK" about nothing."""
    from scoring.models import Prediction
    from scoring.services import score_applicants
    from tests.support import VALID_APPLICANT

    if predictions:
        score_applicants([VALID_APPLICANT] * predictions, channel=Prediction.Channel.API)
    today = timezone.localdate()
    report = write_monitoring_report(monitored_version, today - timezone.timedelta(days=29), today)

    assert report.status == "not_judged" and report.alerts == [] and report.figures["judged"] is False
    assert api_get(client, analyst).json()["report"]["status"] == "not_judged"
    for path in (f"/monitoring/{monitored_version.pk}/", "/"):
        response = analyst_client.get(path)
        text = text_of(checked_page(response) and response)
        assert "Not judged" in text and " OK " not in f" {text} "
