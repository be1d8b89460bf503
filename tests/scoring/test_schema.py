"""OpenAPI schema and Swagger UI: served by this site, behind authentication, /predict/ marked deprecated."""

import re

import pytest
import yaml


def test_schema_describes_every_endpoint(analyst_client):
    response = analyst_client.get("/api/v1/schema/")
    assert response.status_code == 200
    schema = yaml.safe_load(response.content)
    assert schema["openapi"].startswith("3.")
    paths = schema["paths"]
    for path in (
        "/api/v1/score",
        "/api/v1/score/batch",
        "/api/v1/predictions",
        "/api/v1/applicants",
        "/api/v1/applicants/{app_id}",
        "/api/v1/models",
        "/api/v1/models/active",
        "/predict/",
    ):
        assert path in paths, path
    assert paths["/predict/"]["post"]["deprecated"] is True
    assert "deprecated" not in paths["/api/v1/score"]["post"]
    assert "knoxApiToken" in schema["components"]["securitySchemes"]
    request = schema["components"]["schemas"]["ScoreRequest"]
    assert set(request["required"]) == {
        "monthly_income",
        "housing_type",
        "num_of_dependent",
        "lama_bekerja",
        "otr",
        "status_pernikahan",
        "pekerjaan",
        "tenor",
        "dp",
    }


def test_swagger_ui_is_served_from_this_site(analyst_client):
    page = analyst_client.get("/api/v1/docs/")
    assert page.status_code == 200
    html = page.content.decode()
    assets = re.findall(r'src="([^"]+\.js)"', html)
    assert assets and all(src.startswith("/static/") for src in assets), assets  # no CDN
    for src in assets:
        asset = analyst_client.get(src)
        assert asset.status_code == 200, src
        asset.close()


@pytest.mark.django_db
def test_an_anonymous_visit_to_the_docs_gets_the_login_page(client):
    response = client.get("/api/v1/docs/")

    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=/api/v1/docs/"


def _examples(operation: dict, part: str, status: str = "200") -> dict:
    """The examples of an operation's request body or of one of its answers (whatever the media type)."""
    content = operation["requestBody"]["content"] if part == "request" else operation["responses"][status]["content"]
    (media,) = content.values()
    return media["examples"]


def test_the_schema_examples_are_real_requests_with_real_answers(analyst_client, active_version):
    """Each example request is valid and scores; each example answer has exactly the fields of the
    answer it gets, with values in their real ranges (no 9223372036854776000 credit score)."""
    schema = yaml.safe_load(analyst_client.get("/api/v1/schema/").content)
    score = schema["paths"]["/api/v1/score"]["post"]
    requests = [example["value"] for example in _examples(score, "request").values()]
    answers = [example["value"] for example in _examples(score, "response").values()]
    assert len(requests) == len(answers) == 2

    for request, example in zip(requests, answers, strict=True):
        assert 3_000_000 <= request["monthly_income"] <= 50_000_000
        assert 0 < request["dp"] < request["otr"] <= 1_000_000_000
        assert request["num_of_dependent"] <= 5 and 12 <= request["tenor"] <= 60
        response = analyst_client.post("/api/v1/score", request, content_type="application/json")
        assert response.status_code == 200, response.content
        real = response.json()
        assert set(example) == set(real)
        assert example["attributes"] == request == real["attributes"]
        assert [set(reason) for reason in example["reasons"]] == [set(reason) for reason in real["reasons"]]
        assert 300 <= example["credit_score"] <= 850 and example["risk_grade"] in "ABCDE"
        assert example["recommendation"] in {"approve", "review", "decline"}
        assert 0 < example["npl_probability"] < 1 and 0 < example["expected_loss"] < request["otr"] - request["dp"]

    batch = schema["paths"]["/api/v1/score/batch"]["post"]
    (batch_request,) = [example["value"] for example in _examples(batch, "request").values()]
    assert batch_request["applicants"] == requests
    (batch_answer,) = [example["value"] for example in _examples(batch, "response").values()]
    assert batch_answer == {"count": 2, "results": answers}


def test_the_compatibility_examples_are_what_predict_answers(analyst_client, active_version):
    schema = yaml.safe_load(analyst_client.get("/api/v1/schema/").content)
    predict = schema["paths"]["/predict/"]["post"]
    (request,) = [example["value"] for example in _examples(predict, "request").values()]
    (answer,) = [example["value"] for example in _examples(predict, "response").values()]
    (error,) = [example["value"] for example in _examples(predict, "response", "400").values()]

    real = analyst_client.post("/predict/", request, content_type="application/json")

    assert real.status_code == 200 and set(real.json()) == set(answer) == {"res", "prob", "error_msg"}
    assert answer["res"] in {"Ya", "Tidak"} and 0 <= answer["prob"] <= 100
    bad = analyst_client.post("/predict/", {**request, "dp": 450_000_000}, content_type="application/json")
    assert bad.status_code == 400 and set(bad.json()) == set(error) and error["res"] == []


def test_list_examples_show_one_page_without_made_up_links(analyst_client):
    schema = yaml.safe_load(analyst_client.get("/api/v1/schema/").content)
    for path in ("/api/v1/predictions", "/api/v1/applicants"):
        for example in _examples(schema["paths"][path]["get"], "response").values():
            page = example["value"]
            assert page["count"] == len(page["results"]) == 1
            assert page["next"] is None and page["previous"] is None


def test_the_schema_s_errors_are_json_like_every_error_under_the_api(client, db):
    """Issue 22, item 5: the schema answers YAML, its 401 and 403 answer JSON."""
    from tests.conftest import make_user

    anonymous = client.get("/api/v1/schema/")
    assert anonymous.status_code == 401 and anonymous["Content-Type"] == "application/json"
    assert "credentials" in anonymous.json()["detail"]
    client.force_login(make_user("tamu", None))
    no_role = client.get("/api/v1/schema/")
    assert no_role.status_code == 403 and no_role["Content-Type"] == "application/json"
    assert "Analyst role" in no_role.json()["detail"]
