"""Numbers in sentences and tables, rounded one way: half away from zero, at the decimals shown,
then written in the active language (``0.8349`` → ``0.835`` / ``0,835``; never ``-0.000``).

Django's ``number_format`` cuts surplus decimals off instead of rounding (``0.8349`` → ``0.834``),
so a sentence said ``0.834`` where the table below it said ``0.835``. Every decimal the product
writes goes through :func:`decimal_text`.
"""

from decimal import ROUND_HALF_UP, Decimal

from django.utils.formats import number_format


def decimal_text(value: float, decimals: int, *, grouping: bool = False) -> str:
    """``value`` rounded half away from zero to ``decimals`` places, in the active language's notation."""
    rounded = Decimal(repr(float(value))).quantize(Decimal(1).scaleb(-int(decimals)), rounding=ROUND_HALF_UP)
    if rounded == 0:
        rounded = abs(rounded)  # no "-0.000"
    return number_format(rounded, decimal_pos=int(decimals), force_grouping=grouping)
