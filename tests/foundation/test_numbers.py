"""Issue 22, item 17: one rounding everywhere — half away from zero at the decimals shown, no "-0.000"."""

import pytest
from django.utils import translation

from monitoring.alerts import psi_reading
from nplsite.numbers import decimal_text
from web.templatetags.npl_format import decimal, percent


@pytest.mark.parametrize(
    ("value", "decimals", "english", "indonesian"),
    [
        (0.8349, 3, "0.835", "0,835"),  # Django's number_format alone cut it to 0.834
        (0.8345, 3, "0.835", "0,835"),  # half away from zero, as written
        (-0.0004, 3, "0.000", "0,000"),  # never -0.000
        (0.3459, 2, "0.35", "0,35"),
        (-0.0125, 3, "-0.013", "-0,013"),
        (12345.678, 1, "12345.7", "12345,7"),
    ],
)
def test_decimals_are_rounded_not_cut(value, decimals, english, indonesian):
    with translation.override("en"):
        assert decimal_text(value, decimals) == english
    with translation.override("id"):
        assert decimal_text(value, decimals) == indonesian


def test_the_page_filters_and_the_sentences_round_alike():
    with translation.override("en"):
        assert decimal(0.8349) == decimal_text(0.8349, 3) == "0.835"
        assert percent(0.90476) == "90.5 %" and percent(-0.00004, 2) == "0.00 %"
        assert psi_reading(0.3459) == "shifted, above 0.25"
