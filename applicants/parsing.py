"""Every raw spelling of the loan file (``docs/data-format.md``), parsed in one place.

Scalar parsers (``parse_rupiah``, ``parse_count``, ``parse_years``, ``parse_integer``,
``parse_date``, ``parse_text``) turn one raw text into a value or raise :class:`ValueError` whose
message says what is wrong and what was expected. :func:`parse_column` applies a scalar parser to a
whole column, parsing each *distinct* spelling once: a loan file repeats the applicant's attributes
on every installment row and has few distinct dates and amounts, so a column of millions of rows
costs a hash lookup per row plus one parse per distinct value.

**Hostile input.** Every parser refuses a text longer than :data:`MAX_TEXT_CHARS` before looking
at it, and the patterns are unambiguous (no two ``\\s*`` that can share the same spaces), so the
work is linear in the input and bounded by the cap whatever a client sends.
"""

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from functools import wraps

import numpy as np
import pandas as pd
from django.utils.translation import gettext

MAX_TEXT_CHARS = 100  # no value of a loan file or form is longer; a longer one is refused unread

# After the sign and "Rp" are taken off (see _split_rupiah), one of three spellings:
#   plain digits with an optional decimal point and 1–2 decimals      9295094.0
#   dots between groups of three digits, optional decimal comma       9.295.094 / 9.295.094,00
#   plain digits with a decimal comma                                 9295094,00
_RUPIAH_BODY = re.compile(
    r"""(?P<plain>\d+)(?:\.(?P<plain_decimals>\d{1,2}))?
      | (?P<grouped>\d{1,3}(?:\.\d{3})+)(?:,(?P<grouped_decimals>\d{1,2}))?
      | (?P<comma_plain>\d+),(?P<comma_decimals>\d{1,2})""",
    re.VERBOSE,
)
MAX_AMOUNT_DIGITS = 15  # beyond this no rupiah amount is plausible, and int64/float precision suffers
_COUNT = re.compile(r"(\d{1,6})(?:\s*orang)?", re.IGNORECASE)
_YEARS = re.compile(r"(\d{1,6})(?:\s*tahun)?", re.IGNORECASE)
_INTEGER = re.compile(r"\d{1,18}")
_ISO_DATE = re.compile(r"(\d{4})-(\d{2})-(\d{2})")


def too_long_message(length: int) -> str:
    return gettext("too long (%(length)s characters; at most %(maximum)s)") % {
        "length": f"{length:,}",
        "maximum": MAX_TEXT_CHARS,
    }


def capped(parser: Callable) -> Callable:
    """``parser`` refusing any text longer than :data:`MAX_TEXT_CHARS` before it reads it."""

    @wraps(parser)
    def parse(text: str, *args, **kwargs):
        if len(text) > MAX_TEXT_CHARS:
            raise ValueError(too_long_message(len(text)))
        return parser(text, *args, **kwargs)

    return parse


def _examples() -> str:
    return gettext("expected e.g. Rp9295094.0, Rp 9.295.094 or Rp9.295.094,00")


def _split_rupiah(text: str) -> tuple[int, str]:
    """(number of minus signs before the digits, the digits part) of a stripped rupiah text."""
    signs = 0
    body = text
    if body.startswith("-"):
        signs, body = 1, body[1:].lstrip()
    if body[:2].lower() == "rp":
        body = body[2:].lstrip()
    if body.startswith("-"):
        signs, body = signs + 1, body[1:].lstrip()
    return signs, body


def _rupiah_error(signs: int, body: str) -> str:
    """Why ``body`` (what follows the sign and "Rp") is not a rupiah amount, as specifically as can be told."""
    examples = {"examples": _examples()}
    if not body:
        return gettext("no digits in rupiah amount")
    if re.search(r"[^\d.,\s-]", body):
        return gettext("rupiah amount contains letters or symbols; %(examples)s") % examples
    if signs + body.count("-") > 1:
        return gettext("more than one minus sign in rupiah amount")
    if body.count(",") > 1:
        return (
            gettext(
                "more than one comma in rupiah amount: a comma is the decimal separator, thousands are "
                "separated by dots; %(examples)s"
            )
            % examples
        )
    if "," in body and "." in body.split(",", 1)[1]:
        return gettext("two decimal separators (a comma, then a dot) in rupiah amount; %(examples)s") % examples
    if re.fullmatch(r"\d{1,3}(?:\.\d{3})+\.\d{1,2}", body):
        return (
            gettext(
                "two decimal separators in rupiah amount: dots separate thousands, so decimals need a comma; "
                "%(examples)s"
            )
            % examples
        )
    if re.search(r"\d\s+\d", body):
        return gettext("spaces inside the digits of rupiah amount; %(examples)s") % examples
    if "." in body:
        return (
            gettext(
                "malformed digit grouping in rupiah amount: dots must separate groups of three digits, "
                "or be a decimal point followed by one or two decimals; %(examples)s"
            )
            % examples
        )
    return gettext("not a rupiah amount; %(examples)s") % examples


@capped
def parse_rupiah(text: str, *, allow_negative: bool = False) -> int:
    """Rupiah amount as an integer: ``Rp9295094.0``, ``Rp 9.295.094`` and ``Rp9.295.094,00`` are all 9,295,094.

    A dot followed by one or two digits at the end is a decimal point; dots between groups of three
    digits are thousands separators; a comma is a decimal comma. Decimals are rounded to the
    nearest rupiah (half up). Raises ValueError for anything else, and for a negative amount unless
    ``allow_negative``.
    """
    text = text.strip()
    if not text:
        raise ValueError(gettext("empty; a rupiah amount is required"))
    signs, body = _split_rupiah(text)
    match = _RUPIAH_BODY.fullmatch(body)
    if match is None:
        raise ValueError(_rupiah_error(signs, body))
    if signs > 1:
        raise ValueError(gettext("more than one minus sign in rupiah amount"))
    if match["plain"] is not None:
        integer_digits, decimals = match["plain"], match["plain_decimals"]
    elif match["grouped"] is not None:
        integer_digits, decimals = match["grouped"].replace(".", ""), match["grouped_decimals"]
    else:
        integer_digits, decimals = match["comma_plain"], match["comma_decimals"]
    if len(integer_digits.lstrip("0")) > MAX_AMOUNT_DIGITS:
        raise ValueError(gettext("rupiah amount has more than %(digits)s digits") % {"digits": MAX_AMOUNT_DIGITS})
    value = int(integer_digits)
    if decimals and int(decimals.ljust(2, "0")) >= 50:
        value += 1
    if signs:
        value = -value
        if value < 0 and not allow_negative:
            raise ValueError(gettext("negative amount (%(value)s) is not allowed here") % {"value": f"{value:,}"})
    return value


@capped
def parse_count(text: str) -> int:
    """Number of people: ``3 orang`` or ``3``."""
    match = _COUNT.fullmatch(text.strip())
    if match is None:
        raise ValueError(
            gettext("not a number of dependants; expected e.g. '3 orang' or '3'")
            if text.strip()
            else gettext("empty; a number of dependants is required")
        )
    return int(match[1])


@capped
def parse_years(text: str) -> int:
    """Whole years: ``2 tahun`` or ``2``."""
    match = _YEARS.fullmatch(text.strip())
    if match is None:
        raise ValueError(
            gettext("not a number of years; expected e.g. '2 tahun' or '2'")
            if text.strip()
            else gettext("empty; a number of years is required")
        )
    return int(match[1])


@capped
def parse_integer(text: str) -> int:
    """A non-negative whole number written with digits only: ``60``."""
    stripped = text.strip()
    if _INTEGER.fullmatch(stripped) is None:
        raise ValueError(
            gettext("not a whole number; expected digits only, e.g. 60")
            if stripped
            else gettext("empty; a whole number is required")
        )
    return int(stripped)


@capped
def parse_date(text: str) -> date:
    """ISO date ``YYYY-MM-DD``."""
    match = _ISO_DATE.fullmatch(text.strip())
    if match is None:
        raise ValueError(
            gettext("not a date; expected YYYY-MM-DD, e.g. 2018-04-07")
            if text.strip()
            else gettext("empty; a date (YYYY-MM-DD) is required")
        )
    try:
        return date(int(match[1]), int(match[2]), int(match[3]))
    except ValueError as exc:
        raise ValueError(gettext("not a valid calendar date (%(reason)s)") % {"reason": exc}) from None


@capped
def parse_optional_date(text: str) -> date | None:
    """ISO date ``YYYY-MM-DD``, or ``None`` for an empty value (e.g. nothing paid yet)."""
    return None if not text.strip() else parse_date(text)


@capped
def parse_text(text: str) -> str:
    """A category's text without surrounding spaces (whether it is a known category is a validation rule)."""
    return text.strip()


@dataclass(frozen=True)
class ParsedColumn:
    """A parsed column: typed ``values`` (int64 with 0, datetime64[D] with NaT, or objects with None,
    where invalid or empty), ``errors`` (object array: the ValueError message, or ``None``) and ``missing`` (True
    where the parser returned ``None``, e.g. an empty optional date)."""

    values: np.ndarray
    errors: np.ndarray
    missing: np.ndarray

    @property
    def invalid(self) -> np.ndarray:
        return self.errors != None  # noqa: E711 (element-wise comparison on an object array)


def parse_column(raw: pd.Series | np.ndarray, parser: Callable[[str], object], *, kind: str) -> ParsedColumn:
    """Apply a scalar parser to a column of raw texts, once per distinct text.

    ``kind`` is ``"int"`` (values as int64), ``"date"`` (values as datetime64[D]) or ``"text"``
    (values as an object array of whatever the parser returns). Missing
    entries (NaN/None) are parsed as the empty string.
    """
    texts = np.asarray(raw, dtype=object)
    codes, uniques = pd.factorize(texts, use_na_sentinel=False)
    unique_errors = np.full(len(uniques), None, dtype=object)
    unique_missing = np.zeros(len(uniques), dtype=bool)
    if kind == "int":
        unique_values = np.zeros(len(uniques), dtype=np.int64)
    elif kind == "date":
        unique_values = np.full(len(uniques), np.datetime64("NaT"), dtype="datetime64[D]")
    elif kind == "text":
        unique_values = np.full(len(uniques), None, dtype=object)
    else:
        raise ValueError(f"unknown kind {kind!r}; expected 'int', 'date' or 'text'")
    for position, text in enumerate(uniques):
        try:
            value = parser(text if isinstance(text, str) else "")
        except ValueError as exc:
            unique_errors[position] = str(exc)
            continue
        if value is None:
            unique_missing[position] = True
        elif kind == "date":
            unique_values[position] = np.datetime64(value.isoformat(), "D")
        else:
            unique_values[position] = value
    return ParsedColumn(unique_values[codes], unique_errors[codes], unique_missing[codes])
