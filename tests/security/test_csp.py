"""Content-Security-Policy: every response carries it, and every page of the site satisfies it.

The policy has no 'unsafe-inline', so a page works only if it has no inline <script>, <style>,
style= attribute, on…= handler or javascript: URL. Every URL pattern is rendered for each role
(the Django admin and the Swagger UI included) and scanned.
"""

import pytest
from django.conf import settings

from tests.security.pages import PageMarkup, site_pages

pytestmark = pytest.mark.django_db

EXPECTED_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; object-src 'none'; "
    "base-uri 'self'; frame-ancestors 'none'; form-action 'self'"
)


def test_the_policy_is_strict():
    assert settings.CONTENT_SECURITY_POLICY == EXPECTED_POLICY
    assert "unsafe-inline" not in EXPECTED_POLICY and "unsafe-eval" not in EXPECTED_POLICY


def test_every_page_for_every_role_carries_the_policy_and_satisfies_it(site):
    pages = site_pages(site)
    seen = {(page.role, page.label) for page in pages}
    # The scan reaches the pages that matter (a sample: all are scanned).
    for expected in [
        ("anonymous", "GET /accounts/login/"),
        ("anonymous", "GET /admin/login/"),
        ("analyst", "GET /"),
        ("analyst", f"GET /applicants/{site.applicant.app_id}/"),
        ("analyst", "POST /score/ (a valid applicant)"),
        ("analyst", f"GET /batch/{site.job_id}/"),
        ("analyst", "GET /api/v1/docs/"),
        ("analyst", "GET /models/retrain/"),  # the 403 page
        ("analyst", "POST /score/ without a CSRF token"),  # the CSRF-failure page
        ("model_admin", f"GET /models/{site.version.pk}/"),
        ("model_admin", "GET /admin/"),
        ("model_admin", f"GET /admin/training/trainingrun/{site.run.pk}/change/"),
        ("model_admin", f"GET /admin/training/modelversion/{site.version.pk}/change/"),
        ("model_admin", "GET /admin/scoring/prediction/"),
    ]:
        assert expected in seen, expected
    assert len(pages) > 100

    problems = []
    for page in pages:
        if page.response.get("Content-Security-Policy") != EXPECTED_POLICY:
            problems.append(f"{page.role} {page.label}: header {page.response.get('Content-Security-Policy')!r}")
        problems += [f"{page.role} {page.label}: {problem}" for problem in page.markup.csp_violations()]
    assert not problems, "\n".join(problems)


def test_non_html_answers_carry_the_policy_too(site):
    client = site.clients["analyst"]
    for path in ("/healthz", "/api/v1/models/active", f"/batch/{site.job_id}/scored.csv", "/api/v1/docs/?script"):
        response = client.get(path)
        assert response.status_code in (200, 503), (path, response.status_code)
        assert response["Content-Security-Policy"] == EXPECTED_POLICY, path


def test_swagger_ui_loads_its_start_up_script_from_a_file(site):
    page = site.clients["analyst"].get("/api/v1/docs/")
    markup = PageMarkup(page.content.decode())
    assert markup.inline_scripts == [] and markup.style_elements == 0
    html = page.content.decode()
    assert 'src="/api/v1/docs/?script="' in html
    script = site.clients["analyst"].get("/api/v1/docs/?script=")
    assert script.status_code == 200
    assert script["Content-Type"].startswith("application/javascript")
    assert "/api/v1/schema/" in script.content.decode()


def test_the_scanner_finds_each_kind_of_inline_code():
    """The scan above can fail: each forbidden construct is reported."""
    html = (
        "<html><head><style>p{}</style><script>alert(1)</script>"
        '<script type="application/json">{"data": 1}</script><script src="/static/x.js"></script></head>'
        '<body><p style="color:red" onclick="go()"><a href="javascript:go()">x</a></p></body></html>'
    )
    problems = PageMarkup(html).csp_violations()
    assert problems == [
        "inline <script>: 'alert(1)'",
        "1 <style> element(s)",
        "style attribute: <p style='color:red'>",
        "event handler: <p onclick=...>",
        "javascript: URL: <a href='javascript:go()'>",
    ]
