"""Every raw spelling of the loan file (``shared/docs/data-format.md``), parsed in one place.

Scalar parsers (``parse_rupiah``, ``parse_count``, ``parse_years``, ``parse_integer``,
``parse_date``) turn one raw text into a value or raise :class:`ValueError` whose message says
what is wrong and what was expected. :func:`parse_column` applies a scalar parser to a whole
column, parsing each *distinct* spelling once: a loan file repeats the applicant's attributes on
every installment row and has few distinct dates and amounts, so a column of millions of rows
costs a hash lookup per row plus one parse per distinct value — and there is no second,
vectorised implementation of the rules to drift away from the first.
"""

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from functools import partial

import numpy as np
import pandas as pd

# Rp and spaces optional, one minus sign (before or after "Rp"), then one of three spellings:
#   plain digits with an optional decimal point and 1–2 decimals      Rp9295094.0
#   dots between groups of three digits, optional decimal comma       Rp 9.295.094 / Rp9.295.094,00
#   plain digits with a decimal comma                                 9295094,00
_RUPIAH = re.compile(
    r"""^(?P<sign>-?)\s*(?:rp)?\s*(?P<sign_after_rp>-?)\s*
    (?:
        (?P<plain>\d+)(?:\.(?P<plain_decimals>\d{1,2}))?
      | (?P<grouped>\d{1,3}(?:\.\d{3})+)(?:,(?P<grouped_decimals>\d{1,2}))?
      | (?P<comma_plain>\d+),(?P<comma_decimals>\d{1,2})
    )$""",
    re.VERBOSE | re.IGNORECASE,
)
_RUPIAH_EXAMPLES = "e.g. Rp9295094.0, Rp 9.295.094 or Rp9.295.094,00"
MAX_AMOUNT_DIGITS = 15  # beyond this no rupiah amount is plausible, and int64/float precision suffers
_COUNT = re.compile(r"^\s*(\d{1,6})\s*(?:orang)?\s*$", re.IGNORECASE)
_YEARS = re.compile(r"^\s*(\d{1,6})\s*(?:tahun)?\s*$", re.IGNORECASE)
_INTEGER = re.compile(r"^\s*(\d{1,18})\s*$")
_ISO_DATE = re.compile(r"^\s*(\d{4})-(\d{2})-(\d{2})\s*$")


def _rupiah_error(text: str) -> str:
    """Why ``text`` is not a rupiah amount, as specifically as can be told."""
    body = re.sub(r"^\s*-?\s*(?:rp)?\s*-?\s*", "", text, flags=re.IGNORECASE)
    if not body:
        return "no digits in rupiah amount"
    if re.search(r"[^\d.,\s-]", body):
        return f"rupiah amount contains letters or symbols; expected {_RUPIAH_EXAMPLES}"
    if text.count("-") > 1:
        return "more than one minus sign in rupiah amount"
    if body.count(",") > 1:
        return (
            "more than one comma in rupiah amount: a comma is the decimal separator, thousands are "
            f"separated by dots; expected {_RUPIAH_EXAMPLES}"
        )
    if "," in body and "." in body.split(",", 1)[1]:
        return f"two decimal separators (a comma, then a dot) in rupiah amount; expected {_RUPIAH_EXAMPLES}"
    if re.fullmatch(r"\d{1,3}(?:\.\d{3})+\.\d{1,2}", body):
        return (
            "two decimal separators in rupiah amount: dots separate thousands, so decimals need a comma; "
            f"expected {_RUPIAH_EXAMPLES}"
        )
    if re.search(r"\d\s+\d", body):
        return f"spaces inside the digits of rupiah amount; expected {_RUPIAH_EXAMPLES}"
    if "." in body:
        return (
            "malformed digit grouping in rupiah amount: dots must separate groups of three digits, "
            f"or be a decimal point followed by one or two decimals; expected {_RUPIAH_EXAMPLES}"
        )
    return f"not a rupiah amount; expected {_RUPIAH_EXAMPLES}"


def parse_rupiah(text: str, *, allow_negative: bool = False) -> int:
    """Rupiah amount as an integer: ``Rp9295094.0``, ``Rp 9.295.094`` and ``Rp9.295.094,00`` are all 9,295,094.

    A dot followed by one or two digits at the end is a decimal point; dots between groups of three
    digits are thousands separators; a comma is a decimal comma. Decimals are rounded to the
    nearest rupiah (half up). Raises ValueError for anything else, and for a negative amount unless
    ``allow_negative``.
    """
    text = text.strip()
    if not text:
        raise ValueError("empty; a rupiah amount is required")
    match = _RUPIAH.match(text)
    if match is None:
        raise ValueError(_rupiah_error(text))
    if match["sign"] and match["sign_after_rp"]:
        raise ValueError("more than one minus sign in rupiah amount")
    if match["plain"] is not None:
        integer_digits, decimals = match["plain"], match["plain_decimals"]
    elif match["grouped"] is not None:
        integer_digits, decimals = match["grouped"].replace(".", ""), match["grouped_decimals"]
    else:
        integer_digits, decimals = match["comma_plain"], match["comma_decimals"]
    if len(integer_digits.lstrip("0")) > MAX_AMOUNT_DIGITS:
        raise ValueError(f"rupiah amount has more than {MAX_AMOUNT_DIGITS} digits")
    value = int(integer_digits)
    if decimals and int(decimals.ljust(2, "0")) >= 50:
        value += 1
    if match["sign"] or match["sign_after_rp"]:
        value = -value
        if value < 0 and not allow_negative:
            raise ValueError(f"negative amount ({value:,}) is not allowed here")
    return value


def parse_count(text: str) -> int:
    """Number of people: ``3 orang`` or ``3``."""
    match = _COUNT.match(text)
    if match is None:
        raise ValueError(
            "not a number of dependants; expected e.g. '3 orang' or '3'"
            if text.strip()
            else "empty; a number of dependants is required"
        )
    return int(match[1])


def parse_years(text: str) -> int:
    """Whole years: ``2 tahun`` or ``2``."""
    match = _YEARS.match(text)
    if match is None:
        raise ValueError(
            "not a number of years; expected e.g. '2 tahun' or '2'"
            if text.strip()
            else "empty; a number of years is required"
        )
    return int(match[1])


def parse_integer(text: str) -> int:
    """A non-negative whole number written with digits only: ``60``."""
    match = _INTEGER.match(text)
    if match is None:
        raise ValueError(
            "not a whole number; expected digits only, e.g. 60" if text.strip() else "empty; a whole number is required"
        )
    return int(match[1])


def parse_date(text: str) -> date:
    """ISO date ``YYYY-MM-DD``."""
    match = _ISO_DATE.match(text)
    if match is None:
        raise ValueError(
            "not a date; expected YYYY-MM-DD, e.g. 2018-04-07"
            if text.strip()
            else "empty; a date (YYYY-MM-DD) is required"
        )
    try:
        return date(int(match[1]), int(match[2]), int(match[3]))
    except ValueError as exc:
        raise ValueError(f"not a valid calendar date ({exc})") from None


def parse_optional_date(text: str) -> date | None:
    """ISO date ``YYYY-MM-DD``, or ``None`` for an empty value (e.g. nothing paid yet)."""
    return None if not text.strip() else parse_date(text)


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


def _int_series(parsed: ParsedColumn, index) -> tuple[pd.Series, pd.Series]:
    values = pd.Series(pd.array(parsed.values, dtype="Int64"), index=index)
    values[parsed.invalid | parsed.missing] = pd.NA
    return values, pd.Series(parsed.errors, index=index, dtype=object)


def parse_rupiah_series(raw: pd.Series, *, allow_negative: bool = False) -> tuple[pd.Series, pd.Series]:
    """:func:`parse_rupiah` over a Series: ``(amounts as Int64 with <NA> on errors, error message or None)``."""
    return _int_series(parse_column(raw, partial(parse_rupiah, allow_negative=allow_negative), kind="int"), raw.index)


def parse_count_series(raw: pd.Series) -> tuple[pd.Series, pd.Series]:
    """:func:`parse_count` over a Series."""
    return _int_series(parse_column(raw, parse_count, kind="int"), raw.index)


def parse_years_series(raw: pd.Series) -> tuple[pd.Series, pd.Series]:
    """:func:`parse_years` over a Series."""
    return _int_series(parse_column(raw, parse_years, kind="int"), raw.index)


def parse_integer_series(raw: pd.Series) -> tuple[pd.Series, pd.Series]:
    """:func:`parse_integer` over a Series."""
    return _int_series(parse_column(raw, parse_integer, kind="int"), raw.index)


def parse_date_series(raw: pd.Series, *, optional: bool = False) -> tuple[pd.Series, pd.Series]:
    """:func:`parse_date` (or :func:`parse_optional_date`) over a Series: ``(datetime64 with NaT, errors)``."""
    parsed = parse_column(raw, parse_optional_date if optional else parse_date, kind="date")
    return (
        pd.Series(parsed.values.astype("datetime64[s]"), index=raw.index),
        pd.Series(parsed.errors, index=raw.index, dtype=object),
    )
