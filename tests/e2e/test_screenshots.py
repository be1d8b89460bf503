"""Every page in Chromium at 1280 px in English and Indonesian, and the main pages on a phone (390 px).

Each page must fit the window (nothing makes it scroll sideways); at 1280 px no table may need
scrolling inside its box either (a cut-off "Latest score" column), the top bar stays on one line and
the months under the days-past-due chart do not touch. Screenshots go to ``artifacts/screenshots/``
(git-ignored); with ``NPL_DOCS_SCREENSHOTS=1`` the 1280 px ones are also written to
``docs/screenshots/<language>/`` — how the README's screenshots are made::

    NPL_DOCS_SCREENSHOTS=1 .venv/bin/pytest tests/e2e/test_screenshots.py -k every_page
"""

import os
import re

import pandas as pd
import pytest
from django.utils import timezone, translation

from applicants.attributes import ATTRIBUTE_FIELDS
from applicants.models import Applicant
from governance.services import Kind, propose
from monitoring.services import record_reference_distribution, write_monitoring_report
from scoring.services import score_stored_applicant
from tests.conftest import make_user
from tests.e2e.conftest import PASSWORD, REPO, SAMPLE_FILE, Browsing
from training.artifacts import load_artifact
from training.models import TrainingRun

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

DOCS_SCREENSHOTS = REPO / "docs" / "screenshots"


def assert_fits_the_width(browsing: Browsing, name: str) -> None:
    overflow = browsing.page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"{name} is {overflow}px wider than the window"


def assert_nothing_cut_off(browsing: Browsing, name: str) -> None:
    """At a desktop width: no table scrolls inside its box, no select option is wider than its select
    (arrow included), and the top bar is one row of links."""
    clipped = browsing.page.evaluate(
        """() => [...document.querySelectorAll('.table-wrap, #changelist .results, .module table')]
              .filter(box => box.scrollWidth - box.clientWidth > 1)
              .map(box => (box.getAttribute('aria-labelledby') || box.id || box.className)
                          + ': ' + (box.scrollWidth - box.clientWidth) + 'px')"""
    )
    assert clipped == [], f"{name}: tables cut off at the right: {clipped}"
    cut_options = browsing.page.evaluate(
        """() => [...document.querySelectorAll('select')].filter(select => select.offsetParent).flatMap(select => {
              const style = getComputedStyle(select);
              const context = document.createElement('canvas').getContext('2d');
              context.font = style.font;
              const room = select.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight) - 20;
              return [...select.options].filter(option => context.measureText(option.text).width > room)
                .map(option => option.text);
           })"""
    )
    assert cut_options == [], f"{name}: select options cut off: {cut_options}"
    tops = browsing.page.evaluate(
        "() => [...document.querySelectorAll('.mainnav li')].map(item => Math.round(item.getBoundingClientRect().top))"
    )
    assert len(set(tops)) <= 1, f"{name}: the navigation wraps onto {len(set(tops))} lines"


def assert_chart_labels_apart(browsing: Browsing, name: str) -> None:
    """The x labels of every bar chart (months, score bands) do not overlap."""
    overlaps = browsing.page.evaluate(
        """() => [...document.querySelectorAll('svg.chart-svg')].flatMap(svg => {
              const boxes = [...svg.querySelectorAll('text.chart-tick[text-anchor=middle]')]
                .map(text => text.getBoundingClientRect()).sort((a, b) => a.left - b.left);
              return boxes.slice(1).filter((box, i) => box.left < boxes[i].right + 2).map(box => box.left);
           })"""
    )
    assert overlaps == [], f"{name}: chart labels run together at x = {overlaps}"


def save_for_docs(browsing: Browsing, language: str, name: str) -> None:
    if os.environ.get("NPL_DOCS_SCREENSHOTS") != "1":
        return
    folder = DOCS_SCREENSHOTS / language
    folder.mkdir(parents=True, exist_ok=True)
    browsing.page.screenshot(path=str(folder / f"{name}.png"), full_page=True)


def write_docs_index() -> None:
    """docs/screenshots/README.md: a table of every page with its English and Indonesian screenshot."""
    names = sorted({path.stem for language in ("en", "id") for path in (DOCS_SCREENSHOTS / language).glob("*.png")})
    rows = [
        f"| {name.replace('-', ' ')} | "
        + " | ".join(
            f"[{language}]({language}/{name}.png)" if (DOCS_SCREENSHOTS / language / f"{name}.png").exists() else "—"
            for language in ("en", "id")
        )
        + " |"
        for name in names
    ]
    (DOCS_SCREENSHOTS / "README.md").write_text(
        "# Screenshots\n\n"
        "Every page at 1280 px, in English and Indonesian, as a Model admin sees it (an Analyst sees the same\n"
        "pages without the model admin's actions; “forbidden for analysts” is what an Analyst gets on one).\n"
        "Made by `NPL_DOCS_SCREENSHOTS=1 .venv/bin/pytest tests/e2e/test_screenshots.py -k every_page`\n"
        "on the test data (a generated book of 80 applicants and a small model), which also checks that each\n"
        "page fits the width with nothing cut off.\n\n"
        "| page | English | Indonesian |\n|---|---|---|\n" + "\n".join(rows) + "\n",
        encoding="utf-8",
    )


def log_in(browsing: Browsing, username: str, language: str) -> None:
    """Log in from the login page in ``language`` (the choice is kept in the session)."""
    page = browsing.page
    page.goto(browsing.url("/accounts/login/"))
    if page.locator("html").get_attribute("lang") != language:
        page.locator(f"button[name=language][value={language}]").click()
        page.wait_for_load_state()
    page.locator("#id_username").fill(username)
    page.locator("#id_password").fill(PASSWORD)
    page.locator("main form button[type=submit]").click()
    page.wait_for_url(browsing.url("/"))
    assert page.locator("html").get_attribute("lang") == language


@pytest.mark.parametrize("language", ["en", "id"])
def test_every_page_fits_1280_px_in_both_languages(browsing, make_version, page_book, language):
    first = make_version()
    second = make_version(activate=False)
    run = TrainingRun.objects.get(model_version=second)
    analyst = make_user("ana", "Analyst")
    make_user("mia", "Model admin", is_staff=True)
    applicants = list(Applicant.objects.order_by("-max_dpd", "app_id")[:12])
    with translation.override(language):  # as an analyst working in this language scores them
        for applicant in applicants:
            score_stored_applicant(applicant, user=analyst)
    # Today's monitoring report of the active version, against the book's applicants as its reference.
    book = pd.DataFrame(list(Applicant.objects.values(*ATTRIBUTE_FIELDS)))
    record_reference_distribution(first, load_artifact(first), [book])
    write_monitoring_report(first, timezone.localdate(), timezone.localdate())
    # Four eyes: a model activation another model admin proposed, waiting for this one's approval.
    checker = make_user("max", "Model admin", is_staff=True)
    propose(Kind.ACTIVATE_MODEL, checker, reason="Higher recall on the folds", target_id=second.pk)
    page = browsing.page
    shots: list[tuple[str, str]] = []

    def visit(name: str, path: str | None = None) -> None:
        if path is not None:
            page.goto(browsing.url(path))
        page.wait_for_load_state()
        browsing.screenshot(f"{language}-{name}")
        save_for_docs(browsing, language, name)
        assert_fits_the_width(browsing, name)
        assert_nothing_cut_off(browsing, name)
        assert_chart_labels_apart(browsing, name)
        shots.append((name, page.url))

    page.goto(browsing.url("/accounts/login/"))
    page.locator(f"button[name=language][value={language}]").click()
    page.wait_for_load_state()
    visit("login")
    log_in(browsing, "mia", language)
    for name, path in (
        ("dashboard", "/"),
        ("applicants", "/applicants/"),
        ("applicant-detail", f"/applicants/{applicants[0].app_id}/"),
        ("score-form", "/score/"),
        ("batch", "/batch/"),
        ("models", "/models/"),
        ("model-version", f"/models/{first.pk}/"),
        ("model-version-candidate", f"/models/{second.pk}/"),
        ("activate-confirm", f"/models/{second.pk}/activate/"),
        ("rollback-confirm", "/models/rollback/"),
        ("retrain", "/models/retrain/"),
        ("training-run", f"/models/runs/{run.pk}/"),
        ("prediction", f"/score/predictions/{applicants[0].predictions.get().pk}/"),
        ("monitoring", f"/monitoring/{first.pk}/"),
        ("policies", "/policies/"),
        ("policy-new", "/policies/new/"),
        ("changes", "/changes/"),
        ("audit-log", "/changes/audit/"),
        ("admin", "/admin/"),
        ("admin-model-versions", "/admin/training/modelversion/"),
        ("admin-model-version", f"/admin/training/modelversion/{first.pk}/change/"),
        ("admin-training-runs", "/admin/training/trainingrun/"),
        ("admin-retrain", "/admin/training/trainingrun/retrain/"),
        ("admin-applicants", "/admin/applicants/applicant/"),
        ("admin-predictions", "/admin/scoring/prediction/"),
        ("not-found", "/applicants/999999/"),
    ):
        visit(name, path)

    page.goto(browsing.url("/score/"))
    page.locator("#id_monthly_income").press_sequentially("9500000")
    page.locator("#id_otr").press_sequentially("150000000")
    page.locator("#id_dp").press_sequentially("45000000")
    page.locator("#id_tenor").fill("36")
    page.locator("#id_pekerjaan").select_option("Karyawan Swasta")
    page.locator("#id_lama_bekerja").fill("6")
    page.locator("#id_housing_type").select_option("milik sendiri")
    page.locator("#id_status_pernikahan").select_option("Nikah")
    page.locator("#id_num_of_dependent").fill("1")
    page.locator("form.score-form button[type=submit]").click()
    page.locator("#result").wait_for()
    visit("score-result")

    page.goto(browsing.url("/batch/"))
    page.locator("input[type=file]").set_input_files(str(SAMPLE_FILE))
    page.locator("form.upload-form button[type=submit]").click()
    page.wait_for_url(re.compile(r".*/batch/[0-9a-f]{32}/$"))
    visit("batch-result")

    page.goto(browsing.url("/api/v1/docs/"))
    page.locator(".opblock").first.wait_for()
    visit("api-docs")

    browsing.page.context.clear_cookies()
    log_in(browsing, "ana", language)
    visit("forbidden-for-analysts", "/models/retrain/")
    assert len(shots) >= 25
    assert browsing.foreign_requests() == [], "requests left the live server"
    if os.environ.get("NPL_DOCS_SCREENSHOTS") == "1":
        write_docs_index()


def test_the_main_pages_fit_a_phone(browsing, make_version, page_book):
    version = make_version()
    analyst = make_user("ana", "Analyst")
    make_user("mia", "Model admin", is_staff=True)
    applicants = list(Applicant.objects.order_by("-max_dpd", "app_id")[:12])
    for applicant in applicants:
        score_stored_applicant(applicant, user=analyst)
    page = browsing.page
    page.set_viewport_size({"width": 390, "height": 900})

    browsing.log_in("ana")
    for name, path in {
        "dashboard": "/",
        "applicants": "/applicants/",
        "applicant-detail": f"/applicants/{applicants[0].app_id}/",
        "score": "/score/",
        "batch": "/batch/",
        "models": "/models/",
        "model-version": f"/models/{version.pk}/",
        "prediction": f"/score/predictions/{applicants[0].predictions.get().pk}/",
    }.items():
        page.goto(browsing.url(path))
        browsing.screenshot(name)
        assert_fits_the_width(browsing, name)

    browsing.page.context.clear_cookies()
    browsing.log_in("mia")
    for name, path in {
        "models-model-admin": "/models/",
        "policies": "/policies/",
        "policy-new": "/policies/new/",
    }.items():
        page.goto(browsing.url(path))
        browsing.screenshot(name)
        assert_fits_the_width(browsing, name)
    assert browsing.foreign_requests() == [], "requests left the live server"


def test_docs_screenshots_are_referenced_from_the_readme():
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    index = (DOCS_SCREENSHOTS / "README.md").read_text(encoding="utf-8")
    assert "docs/screenshots/" in readme
    for language in ("en", "id"):
        pictures = sorted(path.name for path in (DOCS_SCREENSHOTS / language).glob("*.png"))
        assert len(pictures) >= 24, (language, pictures)
        for picture in pictures:
            assert f"({language}/{picture})" in index, picture
    assert (DOCS_SCREENSHOTS / "en" / "dashboard.png").exists()
