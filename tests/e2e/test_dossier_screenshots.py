"""The model page's dossier sections and the dossier's PDF, in Chromium, in English and Indonesian.

The sections must fit 1280 px with no table scrolling inside its box; the PDF is downloaded through
the page's "Dossier (PDF)" button like a person would. With ``NPL_DOCS_SCREENSHOTS=1`` the sections
and the PDF's first pages (drawn by PDFium) go to ``docs/screenshots/<language>/``::

    NPL_DOCS_SCREENSHOTS=1 .venv/bin/pytest tests/e2e/test_dossier_screenshots.py
"""

import os

import pypdfium2
import pytest

from tests.conftest import make_user
from tests.e2e.test_screenshots import (
    DOCS_SCREENSHOTS,
    assert_chart_labels_apart,
    assert_fits_the_width,
    assert_nothing_cut_off,
    log_in,
    write_docs_index,
)

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

SECTIONS = ("#discrimination", "#gains", "#calibration-by-grade", "#characteristics", "#scorecard-points")
# The PDF's pages shown in the docs: the cover with the headline figures, and the gains table.
PDF_PAGES = (1, 2)


def sections_box(page) -> dict:
    """The rectangle from the top of the first dossier section to the bottom of the last, in page coordinates."""
    boxes = [page.locator(selector).first.bounding_box() for selector in SECTIONS]
    scroll = page.evaluate("() => window.scrollY")
    top = min(box["y"] for box in boxes) + scroll
    bottom = max(box["y"] + box["height"] for box in boxes) + scroll
    return {"x": 0, "y": top - 16, "width": page.viewport_size["width"], "height": bottom - top + 32}


@pytest.mark.parametrize("language", ["en", "id"])
def test_the_dossier_sections_and_pdf_in_both_languages(browsing, make_version, language, tmp_path):
    version = make_version()
    make_user("mia", "Model admin", is_staff=True)
    page = browsing.page
    log_in(browsing, "mia", language)

    page.goto(browsing.url(f"/models/{version.pk}/"))
    page.wait_for_load_state()
    for selector in SECTIONS:
        assert page.locator(selector).count() == 1, selector
    page.locator("#characteristics details").first.locator("summary").click()  # one characteristic's bins open
    assert_fits_the_width(browsing, "model dossier sections")
    assert_nothing_cut_off(browsing, "model dossier sections")
    assert_chart_labels_apart(browsing, "model dossier sections")
    docs = os.environ.get("NPL_DOCS_SCREENSHOTS") == "1"
    folder = DOCS_SCREENSHOTS / language
    if docs:
        folder.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(folder / "model-dossier-sections.png"), full_page=True, clip=sections_box(page))

    with page.expect_download() as download:
        page.locator("#dossier-pdf").click()
    pdf = tmp_path / download.value.suggested_filename
    download.value.save_as(pdf)
    assert pdf.name.endswith(f"-{language}.pdf")
    document = pypdfium2.PdfDocument(str(pdf))
    try:
        assert len(document) >= 5
        cover = " ".join(document[0].get_textpage().get_text_range().split())
        assert ("Model dossier" if language == "en" else "Dosir model") in cover
        if docs:
            for number in PDF_PAGES:
                image = document[number - 1].render(scale=1.5).to_pil()
                image.save(folder / f"model-dossier-pdf-page-{number}.png")
    finally:
        document.close()
    assert browsing.foreign_requests() == [], "requests left the live server"
    if docs:
        write_docs_index()
