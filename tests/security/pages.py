"""Every HTML page of the site, per role, and a reader for what the CSP and CSRF tests look at.

:func:`site_pages` requests every URL pattern (sample arguments from ``conftest.concrete_path``) as
each role and keeps the HTML answers that are not redirects — pages, the Django admin, the Swagger UI
and the 403/404 pages alike — plus the pages that only a POST shows (a scored applicant, form errors,
the CSRF-failure page).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from html.parser import HTMLParser

from tests.security.conftest import ROLES, concrete_path, role_client, walk_routes
from tests.web.conftest import VALID_FORM

# <script> types a browser does not execute (data blocks), so the CSP does not apply to them.
DATA_SCRIPT_TYPES = {"application/json", "application/ld+json"}


@dataclass
class Form:
    method: str
    action: str | None
    inputs: list[dict] = field(default_factory=list)


class PageMarkup(HTMLParser):
    """What a rendered page holds that a strict Content-Security-Policy would block, and its forms."""

    def __init__(self, html: str):
        super().__init__(convert_charrefs=True)
        self.inline_scripts: list[str] = []
        self.style_elements = 0
        self.style_attributes: list[str] = []
        self.event_handlers: list[str] = []
        self.javascript_urls: list[str] = []
        self.forms: list[Form] = []
        self._script_is_inline = False
        self._open_form: Form | None = None
        self.feed(html)
        self.close()

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "script":
            kind = (attributes.get("type") or "").lower()
            self._script_is_inline = "src" not in attributes and kind not in DATA_SCRIPT_TYPES
        if tag == "style":
            self.style_elements += 1
        if "style" in attributes:
            self.style_attributes.append(f"<{tag} style={attributes['style']!r}>")
        self.event_handlers += [f"<{tag} {name}=...>" for name in attributes if name.startswith("on")]
        for name in ("href", "src", "action", "formaction"):
            if (attributes.get(name) or "").strip().lower().startswith("javascript:"):
                self.javascript_urls.append(f"<{tag} {name}={attributes[name]!r}>")
        if tag == "form":
            self._open_form = Form(method=(attributes.get("method") or "get").lower(), action=attributes.get("action"))
            self.forms.append(self._open_form)
        if tag in ("input", "button", "select", "textarea") and self._open_form is not None:
            self._open_form.inputs.append(attributes)

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)
        if tag == "script":
            self._script_is_inline = False

    def handle_endtag(self, tag):
        if tag == "script":
            self._script_is_inline = False
        if tag == "form":
            self._open_form = None

    def handle_data(self, data):
        if self._script_is_inline and data.strip():
            self.inline_scripts.append(data.strip()[:120])

    def csp_violations(self) -> list[str]:
        problems = [f"inline <script>: {text!r}" for text in self.inline_scripts]
        problems += [f"{self.style_elements} <style> element(s)"] if self.style_elements else []
        problems += [f"style attribute: {item}" for item in self.style_attributes]
        problems += [f"event handler: {item}" for item in self.event_handlers]
        problems += [f"javascript: URL: {item}" for item in self.javascript_urls]
        return problems


@dataclass
class RenderedPage:
    role: str
    label: str  # the path, or a description of the POST that rendered it
    response: object

    @property
    def markup(self) -> PageMarkup:
        return PageMarkup(self.response.content.decode())


def is_html(response) -> bool:
    return response.get("Content-Type", "").startswith("text/html") and not 300 <= response.status_code < 400


def _posted_pages(site, role: str):
    """Pages only a POST shows (with the CSRF token a browser would send)."""
    client = role_client(role, site.users, raise_request_exception=False)
    strict = role_client(role, site.users, enforce_csrf_checks=True, raise_request_exception=False)
    yield "POST /score/ without a CSRF token", strict.post("/score/", VALID_FORM)
    if role == "anonymous":
        yield (
            "POST /accounts/login/ (wrong password)",
            client.post("/accounts/login/", {"username": "nobody", "password": "wrong-password"}),
        )
        return
    yield "POST /score/ (a valid applicant)", client.post("/score/", VALID_FORM)
    yield "POST /score/ (empty form)", client.post("/score/", {})
    yield "POST /batch/ (no file)", client.post("/batch/", {})
    yield "GET /no-such-page/", client.get("/no-such-page/")
    if role == "model_admin":
        yield "POST /models/retrain/ (invalid)", client.post("/models/retrain/", {"profile": "no-such-profile"})
        yield (
            "POST /admin/training/trainingrun/retrain/ (invalid)",
            client.post("/admin/training/trainingrun/retrain/", {"profile": "no-such-profile"}),
        )


def site_pages(site) -> list[RenderedPage]:
    """Every HTML page each role can see: each URL pattern requested with GET, plus the POST-only pages."""
    pages = []
    for role in ROLES:
        client = role_client(role, site.users, raise_request_exception=False)
        for route, _name in walk_routes():
            path = concrete_path(route, site)
            response = client.get(path)  # (a GET never logs out: logout views take POST only)
            if is_html(response):
                pages.append(RenderedPage(role, f"GET {path}", response))
        for label, response in _posted_pages(site, role):
            assert is_html(response), (role, label, response.status_code, response.get("Content-Type"))
            pages.append(RenderedPage(role, label, response))
    return pages
