"""Checks every page test applies: self-contained and CSP-ready markup, and a label for every control."""

from html import unescape
from html.parser import HTMLParser


class Page(HTMLParser):
    """The tags of a rendered page: (tag, attrs) in order, text of inline <script>s, and all text."""

    def __init__(self, html: str):
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict]] = []
        self.inline_scripts: list[str] = []
        self.text: list[str] = []
        self._in_script = False
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        self.tags.append((tag, attributes))
        self._in_script = tag == "script" and "src" not in attributes

    def handle_startendtag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_endtag(self, tag):
        if tag == "script":
            self._in_script = False

    def handle_data(self, data):
        if self._in_script and data.strip():
            self.inline_scripts.append(data)
        self.text.append(data)

    def all(self, tag: str) -> list[dict]:
        return [attrs for name, attrs in self.tags if name == tag]


def assert_self_contained_and_csp_ready(html: str) -> Page:
    """No external host in src/href/action, no inline script, style attribute, style element or event
    handler (the Content-Security-Policy forbids them)."""
    page = Page(html)
    for tag, attrs in page.tags:
        for name in ("src", "href", "action"):
            value = (attrs.get(name) or "").strip().lower()
            assert not value.startswith(("http://", "https://", "//")), f"<{tag} {name}={value!r}> points off-site"
        assert "style" not in attrs, f"<{tag}> has an inline style attribute"
        assert not [name for name in attrs if name.startswith("on")], f"<{tag}> has inline event handlers"
    assert page.inline_scripts == [], "inline <script> found"
    assert page.all("style") == [], "inline <style> element found"
    return page


def assert_every_input_labelled(page: Page) -> None:
    label_targets = {attrs.get("for") for attrs in page.all("label")}
    for attrs in page.all("input") + page.all("select") + page.all("textarea"):
        if attrs.get("type") in {"hidden", "submit", "button"}:
            continue
        labelled = attrs.get("id") in label_targets or attrs.get("aria-label") or attrs.get("aria-labelledby")
        assert labelled, f"control without a label: {attrs}"


def checked_page(response, status: int = 200) -> Page:
    """Parse a response after asserting its status, that the page is self-contained and CSP-ready,
    and that every form control has a label."""
    assert response.status_code == status, (response.status_code, response.content[:2000])
    page = assert_self_contained_and_csp_ready(response.content.decode())
    assert_every_input_labelled(page)
    return page


def text_of(response) -> str:
    """The page's visible text (tags removed, entities decoded, whitespace collapsed)."""
    page = Page(response.content.decode())
    return " ".join(unescape(" ".join(page.text)).split())
