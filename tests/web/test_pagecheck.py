"""The page checker itself: it must fail on what issue 15 found on the pages, and pass clean pages."""

import pytest
from django.http import HttpResponse

from tests.web.pagecheck import checked_page


def page(body: str, language: str = "id") -> HttpResponse:
    return HttpResponse(
        f'<!DOCTYPE html><html lang="{language}"><head><title>Uji</title></head><body>{body}</body></html>'
    )


@pytest.mark.parametrize(
    "body",
    [
        "<p>lama_bekerja tidak boleh negatif</p>",
        "<p>Jumlah (num_of_dependent)</p>",
        "<p>Perbaiki (monthly_income, lama_bekerja, otr, tenor, dp)</p>",
        '<span title="dp lebih besar daripada otr">!</span>',
    ],
)
@pytest.mark.parametrize("language", ["en", "id"])
def test_a_raw_field_key_fails_the_page(body, language):
    with pytest.raises(AssertionError, match="raw field key"):
        checked_page(page(body, language))


@pytest.mark.parametrize(
    ("body", "complaint"),
    [
        ("<p>Done: LogisticRegression-class_weight #3 registered inactive</p>", "untranslated English"),
        ("<p>No active version: activating.</p>", "English word"),
        ("<td>Housing is milik orang tua — raises risk</td>", "English"),
        ('<svg><text class="chart-tick">0.2</text></svg>', "English way"),
        ("<p>Rp 400,000,000</p>", "English way"),
        ("<p>NPL 12.3 %</p>", "English way"),
    ],
)
def test_english_left_in_an_indonesian_page_fails_it(body, complaint):
    with pytest.raises(AssertionError, match=complaint):
        checked_page(page(body, "id"))
    checked_page(page(body, "en"))  # the same on an English page is fine


def test_clean_indonesian_pages_pass():
    checked_page(
        page(
            "<h1>Aplikasi 4</h1><p>Lama bekerja (tahun): 9 · Rp 400.000.000 · 12,3 % · 0,846 · 3.000 pemohon · "
            "6 Des 2026 06.42 · Harga kendaraan, on the road (Rp)</p>"
            "<p><code>C=0.084702, class_weight=balanced</code></p>"
            '<details><summary>Log teknis</summary><pre lang="en">Done: A #1 activated</pre></details>'
        )
    )
