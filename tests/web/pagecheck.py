"""Checks every page test applies: self-contained and CSP-ready markup, a label for every control, no
raw field key in what a person reads, and — on an Indonesian page — no English left untranslated.

Horizontal overflow at 1280 px needs a browser: ``tests/e2e/test_screenshots.py`` checks it.
"""

import ast
import re
from functools import cache
from html import unescape
from html.parser import HTMLParser
from pathlib import Path

from credit.encoder import APPLICANT_ATTRIBUTES

CATALOGUE = Path(__file__).resolve().parents[2] / "locale" / "id" / "LC_MESSAGES" / "django.po"
VOID_ELEMENTS = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}
# Text a person does not read as prose: code, scripts, styles; and anything marked as another language.
NOT_PROSE = {"code", "pre", "script", "style", "kbd", "samp"}
# Attributes whose values are shown to people (tooltips, spoken labels, placeholders, alt text).
READ_ATTRIBUTES = ("title", "aria-label", "placeholder", "alt")

# The API's keys for the nine attributes; a page says "Years in current job", never "lama_bekerja".
# ``pekerjaan`` and ``tenor`` are also ordinary Indonesian words, and ``otr``/``dp`` count only in
# lower case (the labels say "OTR" and "DP").
RAW_FIELD_KEY = re.compile(
    r"(?<![\w-])(" + "|".join(sorted(key for key in APPLICANT_ATTRIBUTES if "_" in key)) + r"|otr|dp)(?![\w-])"
)
# English words Indonesian never uses; one of them in an Indonesian page's prose is English left over.
ENGLISH_WORDS = re.compile(
    r"\b(the|and|of|is|are|was|were|with|not|this|that|for|from|has|have|been|will|your|you|to|on|by|or|"
    r"raises|lowers|risk|active|activated|activating|inactive|version|done|failed|waiting|applicants?)\b",
    re.IGNORECASE,
)


# Numbers written the English way: two or more comma-grouped thousands (400,000,000), a decimal point
# after a zero (0.2, 0.846) or before a single decimal (12.3 %). Indonesian writes 400.000.000, 0,2 and
# 12,3 %; a dot with three digits after it is an Indonesian thousands separator, with two a time (06.42).
ENGLISH_NUMBER = re.compile(r"(?<![\d.,])\d{1,3}(?:,\d{3}){2,}(?![\d,])|(?<![\d.,])0\.\d+|(?<![\d.,])\d+\.\d(?![\d.])")
# English that Indonesian uses as it is: the trade's own term for a vehicle's price with its taxes.
INDONESIAN_LOANWORDS = re.compile(r"\bon the road\b", re.IGNORECASE)


class Page(HTMLParser):
    """The tags of a rendered page: (tag, attrs) in order, text of inline <script>s, all text, and the
    text a person reads as prose (``prose``: outside code and scripts, and outside any element whose
    ``lang`` differs from the page's), with the read attributes' values."""

    def __init__(self, html: str):
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict]] = []
        self.inline_scripts: list[str] = []
        self.text: list[str] = []
        self.prose: list[str] = []
        self.language = ""
        self._in_script = False
        self._open: list[tuple[str, bool]] = []  # (tag, its content is not prose)
        self.feed(html)

    def _skipping(self) -> bool:
        return bool(self._open) and self._open[-1][1]

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        self.tags.append((tag, attributes))
        self._in_script = tag == "script" and "src" not in attributes
        if tag == "html":
            self.language = attributes.get("lang") or ""
            return
        other_language = bool(attributes.get("lang")) and attributes.get("lang") != self.language
        skipping = self._skipping() or tag in NOT_PROSE or other_language
        if not skipping:
            self.prose.extend(attributes[name] for name in READ_ATTRIBUTES if attributes.get(name))
        if tag not in VOID_ELEMENTS:
            self._open.append((tag, skipping))

    def handle_startendtag(self, tag, attrs):
        attributes = dict(attrs)
        self.tags.append((tag, attributes))
        if not self._skipping():
            self.prose.extend(attributes[name] for name in READ_ATTRIBUTES if attributes.get(name))

    def handle_endtag(self, tag):
        if tag == "script":
            self._in_script = False
        for index in range(len(self._open) - 1, -1, -1):  # close it and anything left open inside it
            if self._open[index][0] == tag:
                del self._open[index:]
                break

    def handle_data(self, data):
        if self._in_script and data.strip():
            self.inline_scripts.append(data)
        self.text.append(data)
        if not self._skipping():
            self.prose.append(data)

    def all(self, tag: str) -> list[dict]:
        return [attrs for name, attrs in self.tags if name == tag]

    def prose_text(self) -> str:
        return " ".join(unescape(" ".join(self.prose)).split())


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


def _around(text: str, match: re.Match) -> str:
    return text[max(0, match.start() - 60) : match.end() + 60]


def assert_no_raw_field_keys(page: Page) -> None:
    """No ``lama_bekerja``, ``num_of_dependent``, ``dp``… in what a person reads: fields go by their labels."""
    text = page.prose_text()
    match = RAW_FIELD_KEY.search(text)
    assert match is None, f"raw field key {match[0]!r} shown to a person: …{_around(text, match)}…"


def catalogue_entries(path: Path = CATALOGUE) -> list[dict]:
    """The entries of a .po file: flags, msgid, msgid_plural and every msgstr, strings joined across lines."""
    entries = []
    for block in path.read_text(encoding="utf-8").split("\n\n"):
        entry, key = {"flags": "", "msgid": None, "msgid_plural": None, "msgstr": []}, None
        for line in block.splitlines():
            if line.startswith("#,"):
                entry["flags"] += line
            elif line.startswith("#") or not line.strip():
                continue
            elif line.startswith(("msgid ", "msgid_plural ", "msgstr")):
                key, _, text = line.partition(" ")
                value = ast.literal_eval(text)
                if key in ("msgid", "msgid_plural"):
                    entry[key] = value
                elif key.startswith("msgstr"):
                    entry["msgstr"].append(value)
            elif line.startswith('"') and key:
                value = ast.literal_eval(line)
                if key in ("msgid", "msgid_plural"):
                    entry[key] += value
                elif key.startswith("msgstr"):
                    entry["msgstr"][-1] += value
        if entry["msgid"]:
            entries.append(entry)
    return entries


PLACEHOLDER = re.compile(r"%\(\w+\)[sd]|%[sd]|\{\{ *\w+ *\}\}")


@cache
def english_phrases() -> list[re.Pattern]:
    """Every English text of the catalogue that Indonesian words differently, as a pattern (placeholders
    match anything): found in an Indonesian page, it is English a translation missed."""
    patterns = []
    for entry in catalogue_entries():
        for english in filter(None, (entry["msgid"], entry["msgid_plural"])):
            if entry["msgstr"] and english in entry["msgstr"]:
                continue  # the same in both languages (a name, a unit)
            literal = PLACEHOLDER.sub(" ", english)
            if len(re.findall(r"[A-Za-z]{3,}", literal)) < 2:
                continue  # one word ("Model", "Status") may be Indonesian too
            pieces = [re.escape(re.sub(r"\s+", " ", part)) for part in PLACEHOLDER.split(english)]
            patterns.append(re.compile(".{1,80}?".join(pieces)))
    return patterns


def assert_in_indonesian(page: Page) -> None:
    """On a page served in Indonesian: no catalogue English, no English words and no English number
    notation in the prose."""
    text = page.prose_text()
    for pattern in english_phrases():
        match = pattern.search(text)
        assert match is None, f"untranslated English {match[0]!r} on an Indonesian page: …{_around(text, match)}…"
    match = ENGLISH_WORDS.search(INDONESIAN_LOANWORDS.sub("", text))
    assert match is None, f"English word {match[0]!r} on an Indonesian page: …{_around(text, match)}…"
    match = ENGLISH_NUMBER.search(text)
    assert match is None, f"number {match[0]!r} written the English way on an Indonesian page: …{_around(text, match)}…"


def checked_page(response, status: int = 200) -> Page:
    """Parse a response after asserting its status, that the page is self-contained and CSP-ready, that
    every form control has a label, that no raw field key is shown, and — when the page is in
    Indonesian — that nothing on it is left in English."""
    assert response.status_code == status, (response.status_code, response.content[:2000])
    page = assert_self_contained_and_csp_ready(response.content.decode())
    assert_every_input_labelled(page)
    assert_no_raw_field_keys(page)
    if page.language == "id":
        assert_in_indonesian(page)
    return page


def text_of(response) -> str:
    """The page's visible text (tags removed, entities decoded, whitespace collapsed)."""
    page = Page(response.content.decode())
    return " ".join(unescape(" ".join(page.text)).split())
