"""Every CSV file the product writes goes through :func:`write_csv`, which neutralises formulas.

A spreadsheet runs a cell that begins with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return
as a formula; a loan file's cell echoed into a report (``=HYPERLINK(...)``) would run when an
analyst opens the report. OWASP's rule: such a text cell is written with a leading apostrophe,
which spreadsheets show as text. Numbers the product itself wrote (ints and floats, a negative
expected loss included) are not text and stay numbers.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence

import pandas as pd

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(value):
    """``value`` as a CSV cell that no spreadsheet runs: a text starting like a formula gets a leading ``'``."""
    if isinstance(value, str) and value.startswith(FORMULA_TRIGGERS):
        return "'" + value
    return value


def _cell(value):
    if value is None or value is pd.NA or (isinstance(value, float) and value != value):  # None, NA, NaN: empty
        return ""
    return spreadsheet_safe(value)


def write_csv(target, rows: Iterable[Sequence] | pd.DataFrame, header: Sequence[str] | None = None, *, mode="w"):
    """Write ``rows`` (a DataFrame, or sequences under ``header``) as CSV to a path or an open text file.

    Every text cell passes :func:`spreadsheet_safe`. ``mode="a"`` appends (no header is written
    when ``header`` is ``None``).
    """
    if isinstance(rows, pd.DataFrame):
        header = list(rows.columns) if header is None else header
        rows = rows.itertuples(index=False, name=None)
    if hasattr(target, "write"):
        _write(target, rows, header)
        return
    with open(target, mode, newline="", encoding="utf-8") as handle:
        _write(handle, rows, header)


def _write(handle, rows, header) -> None:
    writer = csv.writer(handle, lineterminator="\n")
    if header is not None:
        writer.writerow(header)
    writer.writerows([_cell(value) for value in row] for row in rows)


def regional_csv_chunks(path, *, decimal_columns: Sequence[str] = (), rows_per_chunk: int = 2_000):
    """A CSV file written by :func:`write_csv`, re-written for a spreadsheet whose language writes
    decimal commas (Indonesian): cells separated by semicolons, ``decimal_columns`` with a decimal
    comma, and a byte-order mark first so that the spreadsheet reads UTF-8. Yields UTF-8 bytes a few
    thousand rows at a time (for a streaming response: the file is never held in memory). Cells stay
    as the file has them otherwise (formula-like text keeps its neutralising apostrophe)."""
    with open(path, newline="", encoding="utf-8") as handle:
        reader = csv.reader(handle)
        header = next(reader, None)
        if header is None:
            return
        decimal_at = [i for i, name in enumerate(header) if name in set(decimal_columns)]
        buffer = io.StringIO()
        writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
        buffer.write("\ufeff")
        writer.writerow(header)
        for count, row in enumerate(reader, start=1):
            for i in decimal_at:
                if i < len(row):
                    row[i] = row[i].replace(".", ",")
            writer.writerow(row)
            if count % rows_per_chunk == 0:
                yield buffer.getvalue().encode("utf-8")
                buffer.seek(0)
                buffer.truncate()
        yield buffer.getvalue().encode("utf-8")
