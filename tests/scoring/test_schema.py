"""OpenAPI schema and Swagger UI: served by this site, behind authentication, /predict/ marked deprecated."""

import re

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
    assert "tokenAuth" in schema["components"]["securitySchemes"]
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
