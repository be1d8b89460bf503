"""End-to-end browser tests: Playwright (sync API) driving Debian's Chromium against pytest-django's live server.

Without ``/usr/bin/chromium`` or the ``playwright`` package these tests are skipped with the reason
"Chromium not installed: run scripts/install-browser.sh" — unless ``NPL_REQUIRE_E2E=1`` (CI), where
they fail instead. Playwright never downloads a browser of its own here.

Every test records each request the page makes and asserts that none left the live server, and
fails if Chromium reports anything blocked by the Content-Security-Policy on the console.
"""

import importlib.util
import os
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import pytest

from applicants.services import import_loan_file
from tests.model_cache import cached_loan_book
from tests.web.conftest import make_version, trained_model  # noqa: F401 (fixtures)

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
MISSING_BROWSER = "Chromium not installed: run scripts/install-browser.sh"
REPO = Path(__file__).resolve().parents[2]
SCREENSHOTS = REPO / "artifacts" / "screenshots"
# The worked example of docs/data-format.md (a copy of the customer's sample file).
SAMPLE_FILE = Path(__file__).resolve().parents[1] / "data" / "seed_format_sample.csv"
PASSWORD = "Correct-Horse-42"
BOOK_AS_OF = date(2024, 6, 30)
RETRAIN_BOOK_APPLICANTS = 600
PAGE_BOOK_APPLICANTS = 80


def _browser_available() -> bool:
    return CHROMIUM.exists() and importlib.util.find_spec("playwright") is not None


@pytest.fixture(scope="module")
def browser():
    """Chromium for the tests of one module.

    Playwright's sync API keeps an event loop in the test thread while it runs, which Django would
    take for async code; the ORM calls the tests make between browser steps are plain synchronous
    calls, so the check is switched off — only while this module's browser runs, and not for any
    later test or the subprocesses they start.
    """
    if not _browser_available():
        if os.environ.get("NPL_REQUIRE_E2E") == "1":
            pytest.fail(f"{MISSING_BROWSER} (NPL_REQUIRE_E2E=1 makes this a failure)")
        pytest.skip(MISSING_BROWSER)
    from playwright.sync_api import sync_playwright

    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            yield chromium
            chromium.close()
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@dataclass
class Browsing:
    """One browser page on the live server, with every URL it requested."""

    page: object
    base_url: str
    requests: list[str] = field(default_factory=list)
    csp_violations: list[str] = field(default_factory=list)

    def url(self, path: str) -> str:
        return self.base_url + path

    def foreign_requests(self) -> list[str]:
        return [
            url
            for url in self.requests
            if not url.startswith(self.base_url + "/") and not url.startswith(("data:", "blob:", "about:"))
        ]

    def log_in(self, username: str, password: str = PASSWORD) -> None:
        page = self.page
        page.goto(self.url("/accounts/login/"))
        page.get_by_label("Username").fill(username)
        page.get_by_label("Password").fill(password)
        page.locator("main").get_by_role("button", name="Log in").click()
        page.wait_for_url(self.url("/"))

    def screenshot(self, name: str) -> Path:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        width = self.page.viewport_size["width"]
        path = SCREENSHOTS / f"{name}-{width}.png"
        self.page.screenshot(path=str(path), full_page=True)
        return path


@pytest.fixture
def browsing(browser, live_server):
    context = browser.new_context(viewport={"width": 1280, "height": 900}, accept_downloads=True)
    page = context.new_page()
    page.set_default_timeout(60_000)  # a hang guard on a loaded machine, not a performance limit
    session = Browsing(page=page, base_url=live_server.url)
    page.on("request", lambda request: session.requests.append(request.url))

    def record_csp_violation(message):  # Chromium reports what the Content-Security-Policy blocked
        if "Content Security Policy" in message.text:
            session.csp_violations.append(f"{page.url}: {message.text}")

    page.on("console", record_csp_violation)
    yield session
    context.close()
    assert session.csp_violations == [], "the Content-Security-Policy blocked something"


def import_generated_book(folder: Path, applicants: int, seed: int):
    """A generated book (from the session-wide cache of generated books; ``folder`` is unused) imported."""
    book, _ = cached_loan_book(applicants, seed=seed, as_of=BOOK_AS_OF)
    return import_loan_file(book, as_of=BOOK_AS_OF)


@pytest.fixture(scope="session")
def book_folder(tmp_path_factory):
    return tmp_path_factory.mktemp("e2e-books")


@pytest.fixture
def retrain_book(transactional_db, book_folder):
    """About 600 generated applicants imported and labelled: enough to train the quick profile."""
    return import_generated_book(book_folder, RETRAIN_BOOK_APPLICANTS, seed=11)


@pytest.fixture
def page_book(transactional_db, book_folder):
    return import_generated_book(book_folder, PAGE_BOOK_APPLICANTS, seed=21)
