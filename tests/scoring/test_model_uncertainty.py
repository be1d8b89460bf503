"""What the model page and the API say about how a version was chosen and how sure its figures are."""

import json

import pytest

from tests.support import VALID_APPLICANT


@pytest.fixture
def scorecard_version(make_version):
    return make_version("CreditScorecard")


def text_of(response) -> str:
    assert response.status_code == 200, response.status_code
    return response.content.decode()


def test_the_model_page_shows_intervals_the_cv_leaderboard_and_the_points_table(model_admin_client, scorecard_version):
    page = text_of(model_admin_client.get(f"/models/{scorecard_version.pk}/"))

    assert "95 % interval" in page and 'id="test-intervals"' in page
    assert 'id="scorecard-points"' in page and "Rp " in page and "Buruh" in page
    assert ('id="uncertain-warning"' in page) == scorecard_version.metrics["uncertain"]


@pytest.mark.parametrize("uncertain", [True, False])
def test_a_book_with_few_npl_gets_a_visible_warning(model_admin_client, make_version, uncertain):
    version = make_version("LogisticRegression")
    version.metrics = {**version.metrics, "uncertain": uncertain}
    version.training_data = {**version.training_data, "npl": 150 if uncertain else 900}
    version.save()
    page = text_of(model_admin_client.get(f"/models/{version.pk}/"))
    assert ('id="uncertain-warning"' in page) is uncertain
    assert ("only 150 NPL applicants" in page) is uncertain


def test_the_models_api_gives_intervals_leaderboard_and_points_to_model_admins(model_admin_client, scorecard_version):
    versions = json.loads(text_of(model_admin_client.get("/api/v1/models")))
    detail = versions["results"][0] if isinstance(versions, dict) else versions[0]
    assert detail["metrics"]["intervals"]["roc_auc"][0] <= detail["metrics"]["roc_auc"]
    assert detail["metrics"]["selection"]["rule"] == "one standard error"
    assert detail["points_table"] and {"attribute", "bin", "points"} <= detail["points_table"][0].keys()
    assert all("cv_mean" in row and "cv_se" in row for row in detail["leaderboard"] if not row["error"])


def test_analysts_get_the_intervals_but_not_the_internals(analyst_client, scorecard_version):
    summary = json.loads(text_of(analyst_client.get("/api/v1/models/active")))
    assert set(summary["test_intervals"]) >= {"recall", "precision", "roc_auc"}
    assert summary["uncertain"] == scorecard_version.metrics["uncertain"] and "points_table" not in summary


def test_a_scorecard_version_scores_through_the_api(analyst_client, scorecard_version):
    response = analyst_client.post("/api/v1/score", json.dumps(VALID_APPLICANT), content_type="application/json")
    assert response.status_code == 200, response.content
    body = response.json()
    assert 0 < body["npl_probability"] < 1 and body["model_version"]["name"] == "CreditScorecard-none"
