"""The admin in the reader's language, with the product's names (issue 22, item 18)."""

import re

import pytest
from django.contrib.auth import get_user_model

from nplsite.roles import ANALYST
from nplsite.tokens import issue_api_token
from scoring.services import score_applicants
from tests.conftest import make_user
from tests.support import VALID_APPLICANT

pytestmark = pytest.mark.django_db

# Names an engineer's admin shows, and the product's own ones.
ENGINEERS_NAMES = ("Knox", "Auth tokens", "Axes", "Monitoring<", "NPL platform", "Background jobs")


def sections_and_models(html: str) -> list[str]:
    cells = re.findall(r"<caption>.*?</caption>|<th scope=\"row\"[^>]*>.*?</th>", html, re.S)
    return [" ".join(re.sub("<[^>]+>", "", cell).split()) for cell in cells]


@pytest.fixture
def superuser_client(client):
    user = get_user_model().objects.create_superuser("root", "root@example.com", "a-Long-enough-passphrase-1")
    client.force_login(user)
    return client


def test_the_admin_index_names_api_tokens_as_the_product_does(superuser_client):
    english = sections_and_models(superuser_client.get("/admin/").content.decode())
    assert "API access" in english and "API tokens" in english and "Sign-in attempts" in english
    assert not {"Knox", "Auth tokens", "Axes"} & set(english), english
    superuser_client.post("/i18n/setlang/", {"language": "id", "next": "/"})
    indonesian = sections_and_models(superuser_client.get("/admin/").content.decode())
    assert {"Akses API", "Token API", "Percobaan masuk", "Pemantauan", "Pelatihan model"} <= set(indonesian)
    assert not {"Knox", "Auth tokens", "Axes", "Monitoring", "API tokens"} & set(indonesian), indonesian


def test_the_admin_s_pages_read_in_indonesian(superuser_client, active_version):
    """Every list's column headings and every change page's labels and title, for the product's own models."""
    prediction = score_applicants([VALID_APPLICANT], channel="api")[0].prediction
    issue_api_token(make_user("ana", ANALYST))
    superuser_client.post("/i18n/setlang/", {"language": "id", "next": "/"})
    run = active_version.training_runs.first()
    pages = {
        "/admin/scoring/prediction/": None,
        f"/admin/scoring/prediction/{prediction.pk}/change/": f"Prediksi #{prediction.pk} (probabilitas NPL ",
        "/admin/scoring/decisionpolicy/": None,
        f"/admin/scoring/decisionpolicy/{prediction.policy_id}/change/": f"Kebijakan #{prediction.policy_id}",
        "/admin/training/trainingrun/": None,
        "/admin/training/modelversion/": None,
        "/admin/nplsite/apitoken/": None,
    }
    if run is not None:
        pages[f"/admin/training/trainingrun/{run.pk}/change/"] = f"Pelatihan #{run.pk} ("
    for path, title in pages.items():
        response = superuser_client.get(path)
        assert response.status_code == 200, path
        html = response.content.decode()
        labels = re.findall(r'<th scope="col"[^>]*>.*?</th>|<label[^>]*>.*?</label>', html, re.S)
        text = " ".join(" ".join(re.sub("<[^>]+>", "", label).split()) for label in labels)
        for english in ("Started by", "Model version", "Celery task id", "Token key", "Created", "Expiry"):
            assert english not in text, (path, english, text)
        if title:
            assert title in html, (path, title)
