"""The one loan-file reader: every entry point that takes a loan file (``import_loans``, ``score_csv``,
the batch page) reads it here, with the same checks and the same wording of every message.

How :func:`read_loan_file` keeps memory bounded and reports every problem:

1. **Check** the raw bytes once (empty? binary? UTF-8?) and the header (delimiter — a comma or a
   semicolon —, missing or duplicated columns, a header line of absurd length). An unreadable file
   stops here with one :class:`LoanFileError`.
2. **Parse and stage**: read the rows with Python's :mod:`csv` module (any line ending: LF, CRLF or
   CR alone), ``chunk_rows`` at a time; parse and validate every cell (every reason of a row is
   kept: one report line per bad cell); a row with more values than the header has is reported on
   its own line and its other cells are still read. Parsed rows go to one of ``n`` temporary
   partition files chosen by ``app_id % n`` (``n`` grows with the file size), so all rows of an
   application land in the same partition wherever they are in the file.
3. **Reconcile**, one partition at a time (:meth:`LoanFile.partitions`): reject applications with an
   invalid row, with rows whose attributes disagree, or (for a file of installments) with two
   installments due on the same day; yield the accepted rows of the others.
4. **Report**: :meth:`LoanFile.write_report` writes the report (line, app_id, column, value,
   reason), sorted by line, through :func:`nplsite.csv_export.write_csv`.

Line numbers are the physical lines the CSV reader has consumed (header = 1, blank lines counted;
a quoted value spanning several lines counts all of them). ``column`` is the column's key as in
the file; ``reason`` names it by its human label.
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import math
import pickle
import re
import sys
import tempfile
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

import numpy as np
import pandas as pd
from django.utils.translation import gettext
from tqdm import tqdm

from applicants.attributes import ATTRIBUTE_FIELDS, CATEGORY_CHOICES, CATEGORY_FIELDS, INSTALLMENT_FIELDS, label
from applicants.parsing import (
    MAX_TEXT_CHARS,
    parse_column,
    parse_count,
    parse_date,
    parse_integer,
    parse_optional_date,
    parse_rupiah,
    parse_text,
    parse_years,
)
from applicants.validation import attribute_field_errors, dp_otr_errors, echo, installment_field_errors
from nplsite.csv_export import write_csv

LOAN_FILE_COLUMNS = ("app_id", *INSTALLMENT_FIELDS, *ATTRIBUTE_FIELDS)
APPLICATION_COLUMNS = ("app_id", *ATTRIBUTE_FIELDS)  # what scoring needs; installment columns are ignored
REPORT_COLUMNS = ["line", "app_id", "column", "value", "reason"]

CHUNK_ROWS = 50_000  # CSV rows parsed at a time
PARTITION_BYTES = 16 * 1024 * 1024  # about this much of the file is reconciled at a time
SCAN_BLOCK_BYTES = 16 * 1024 * 1024
MAX_HEADER_CHARS = 4_096  # a header is a short list of column names
MAX_EXTRA_FIELDS = 16  # a row may have this many values beyond the header's and still be read (and reported)
REPORT_SORT_LIMIT = 2_000_000  # larger reports are written in partition order instead of line order
PREVIEW_LINES = 20
PROGRESS_MIN_ROWS = 100_000  # progress bars appear (on a terminal) only for files at least this long
DELIMITERS = {",": "commas (,)", ";": "semicolons (;)"}
UNSUPPORTED_DELIMITERS = {"\t": "tabs", "|": "vertical bars (|)"}


class LoanFileError(Exception):
    """The loan file cannot be read at all (nothing was imported or scored); the message says why and what to do."""


def _app_id_errors(column: str, value: int) -> list[str]:
    return [] if value >= 1 else [gettext("%(label)s must be a positive whole number") % {"label": label(column)}]


def _checked(parse, check, column: str):
    """A parser of ``column`` that also applies its validation rule; every message names the column's label."""

    def parse_and_check(text: str):
        try:
            value = parse(text)
        except ValueError as exc:
            raise ValueError(f"{label(column)}: {exc}") from None
        problems = check(column, value)
        if problems:
            raise ValueError("; ".join(problems))
        return value

    return parse_and_check


_AMOUNT = partial(parse_rupiah, allow_negative=True)  # a negative amount is reported by the validation rules
_ATTRIBUTE_PARSERS = {
    "monthly_income": (_AMOUNT, "int"),
    "housing_type": (parse_text, "text"),
    "num_of_dependent": (parse_count, "int"),
    "lama_bekerja": (parse_years, "int"),
    "otr": (_AMOUNT, "int"),
    "status_pernikahan": (parse_text, "text"),
    "pekerjaan": (parse_text, "text"),
    "tenor": (parse_integer, "int"),
    "dp": (_AMOUNT, "int"),
}
COLUMN_PARSERS = {
    "app_id": (_checked(parse_integer, _app_id_errors, "app_id"), "int"),
    "due_date": (_checked(parse_date, installment_field_errors, "due_date"), "date"),
    "paid_date": (_checked(parse_optional_date, installment_field_errors, "paid_date"), "date"),
    "due_amount": (_checked(_AMOUNT, installment_field_errors, "due_amount"), "int"),
    "paid_amount": (_checked(_AMOUNT, installment_field_errors, "paid_amount"), "int"),
    **{
        name: (_checked(parse, attribute_field_errors, name), kind)
        for name, (parse, kind) in _ATTRIBUTE_PARSERS.items()
    },
}
CATEGORY_VALUES = {column: list(choices.values) for column, choices in CATEGORY_CHOICES.items()}


def _labels(columns) -> str:
    return ", ".join(columns)


# ---------------------------------------------------------------------------------------------
# Phase 1: the bytes and the header.


def _scan_file(path: Path, name: str) -> int:
    """Check the raw bytes (not empty, text, UTF-8); returns the number of lines (LF, CRLF or CR)."""
    try:
        handle = path.open("rb")
    except OSError as exc:
        raise LoanFileError(gettext("%(file)s: cannot open the file.") % {"file": name}) from exc
    decoder = codecs.getincrementaldecoder("utf-8")(errors="strict")
    newlines = returns = 0
    non_blank = False
    last_byte = b""
    with handle:
        while block := handle.read(SCAN_BLOCK_BYTES):
            nul = block.find(b"\x00")
            if nul >= 0:
                raise LoanFileError(
                    gettext(
                        "%(file)s: this is a binary file, not CSV text (NUL byte on line %(line)s). "
                        "Export the loan file as CSV (UTF-8) and use that file."
                    )
                    % {"file": name, "line": max(newlines, returns) + block.count(b"\n", 0, nul) + 1}
                )
            try:
                decoder.decode(block, final=False)
            except UnicodeDecodeError as exc:
                raise LoanFileError(
                    gettext("%(file)s: line %(line)s is not UTF-8 text (byte 0x%(byte)s). Save the file as CSV UTF-8.")
                    % {
                        "file": name,
                        "line": max(newlines, returns) + block.count(b"\n", 0, max(exc.start, 0)) + 1,
                        "byte": block[exc.start : exc.start + 1].hex().upper(),
                    }
                ) from None
            non_blank = non_blank or bool(block.strip())
            newlines += block.count(b"\n")
            returns += block.count(b"\r")
            last_byte = block[-1:]
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            raise LoanFileError(
                gettext("%(file)s: the file ends in the middle of a UTF-8 character; save it as CSV UTF-8.")
                % {"file": name}
            ) from None
    if not non_blank:
        raise LoanFileError(
            gettext("%(file)s: the file is empty; expected a header line and loan rows.") % {"file": name}
        )
    lines = max(newlines, returns)
    return lines + (1 if last_byte not in (b"\n", b"\r") else 0)


def line_of_unclosed_quote(path) -> int | None:
    """The line on which a quoted value opens that no quote closes before the end of the file
    (``None``: every quote is closed). Lines are counted as everywhere in this module (LF, CRLF or
    CR alone); a doubled quote inside a quoted value (``""``) leaves the count's parity alone."""
    inside, opened = False, None
    with open(path, newline="", encoding="utf-8-sig", errors="replace") as handle:
        for number, line in enumerate(handle, start=1):
            if line.count('"') % 2:
                opened = number if not inside else opened
                inside = not inside
    return opened if inside else None


def count_rows(path) -> int | None:
    """Data rows of a CSV file as the CSV reader sees them (any line ending — LF, CRLF or CR alone —,
    quoted line breaks, blank lines left out); ``None`` when the CSV reader cannot read it."""
    rows = -1  # the header is not a data row
    try:
        with open(path, newline="", encoding="utf-8-sig", errors="replace") as handle:
            for record in csv.reader(handle):
                if record:
                    rows += 1
    except csv.Error:
        return None
    return max(rows, 0)


def _read_header(path: Path, name: str, required: tuple[str, ...]) -> tuple[list[str], str]:
    """The column names and the delimiter."""
    with path.open(encoding="utf-8-sig", newline="") as handle:
        first_line = handle.readline(MAX_HEADER_CHARS + 1)
    if len(first_line) > MAX_HEADER_CHARS:
        raise LoanFileError(
            gettext(
                "%(file)s: the header (line 1) is longer than %(limit)s characters; a loan file's header is the "
                "list of its column names: %(columns)s."
            )
            % {"file": name, "limit": f"{MAX_HEADER_CHARS:,}", "columns": _labels(required)}
        )
    candidates = {}
    for delimiter in DELIMITERS:
        names = [name.strip() for name in next(csv.reader([first_line], delimiter=delimiter), [])]
        candidates[delimiter] = names
        if all(column in names for column in required):
            break
    else:
        for delimiter, words in UNSUPPORTED_DELIMITERS.items():
            if first_line.count(delimiter) >= len(required) // 2:
                raise LoanFileError(
                    gettext(
                        "%(file)s: the columns are separated by %(separator)s; a loan file is separated by commas "
                        "or semicolons. Export it again as CSV."
                    )
                    % {"file": name, "separator": words}
                )
        names = max(candidates.values(), key=lambda found: sum(column in found for column in required))
        missing = [column for column in required if column not in names]
        raise LoanFileError(
            gettext("%(file)s: missing column(s) %(missing)s in the header (line 1). The file needs: %(columns)s.")
            % {"file": name, "missing": _labels(missing), "columns": _labels(required)}
        )
    duplicated = sorted(name for name, count in Counter(names).items() if count > 1 and name in required)
    if duplicated:
        raise LoanFileError(
            gettext("%(file)s: column(s) %(columns)s appear more than once in the header (line 1); keep one of each.")
            % {"file": name, "columns": _labels(duplicated)}
        )
    return names, delimiter


# ---------------------------------------------------------------------------------------------
# Phase 2: parse, validate and stage every chunk.


@dataclass
class _Chunk:
    lines: np.ndarray  # the physical line of each row
    columns: dict[str, np.ndarray]  # raw texts of each column read
    extra: list[tuple[int, str, str]]  # (line, raw app_id, the values beyond the header's columns)


def _dp_above_otr(dp: np.ndarray, otr: np.ndarray, checkable: np.ndarray) -> np.ndarray:
    """The dp < otr rule of :func:`applicants.validation.dp_otr_errors`, per distinct (dp, otr) pair."""
    errors = np.full(len(dp), None, dtype=object)
    if not checkable.any():
        return errors
    pairs = pd.DataFrame({"dp": dp[checkable], "otr": otr[checkable]})
    codes = pairs.groupby(["dp", "otr"], sort=False).ngroup().to_numpy()
    first = pairs.groupby(codes, sort=False).head(1)
    messages = np.full(codes.max() + 1, None, dtype=object)
    for code, dp_value, otr_value in zip(codes[first.index], first["dp"], first["otr"], strict=True):
        problems = dp_otr_errors(dp_value, otr_value)
        messages[code] = "; ".join(problems) if problems else None
    errors[checkable] = messages[codes]
    return errors


def _echoed(values: np.ndarray) -> np.ndarray:
    """Raw cells as the report shows them: on one line, cut to a readable length."""
    shown = [" ".join(text.splitlines()) if ("\n" in text or "\r" in text) else text for text in values]
    return np.array([text if len(text) <= MAX_TEXT_CHARS else echo(text)[1:-1] for text in shown], dtype=object)


@dataclass
class LoanFile:
    """A loan file being read (see the module docstring); made by :func:`read_loan_file`."""

    path: Path
    name: str  # how messages name the file (the uploaded file's name, not the stored copy's)
    columns: tuple[str, ...]
    directory: Path
    partitions_count: int
    header: list[str] = field(default_factory=list)
    delimiter: str = ","
    total_lines: int = 0
    rows_read: int = 0
    error_rows: int = 0  # rows with a bad cell
    disagreeing_rows: int = 0  # valid rows that disagree with their application's other rows
    rejected_applications: int = 0
    report_lines: int = 0
    latest_date: pd.Timestamp | None = None
    report_preview: list[dict] = field(default_factory=list)

    @property
    def ignored_columns(self) -> list[str]:
        return [name for name in self.header if name not in self.columns]

    @property
    def rejected_rows(self) -> int:
        """Rows with an error of their own (each has a line in the report)."""
        return self.error_rows + self.disagreeing_rows

    @property
    def has_installments(self) -> bool:
        return "due_date" in self.columns

    def _partition_path(self, number: int) -> Path:
        return self.directory / f"partition-{number}.pickle"

    @property
    def _report_path(self) -> Path:
        return self.directory / "report.csv"

    def _append_report(self, records: pd.DataFrame) -> None:
        if records.empty:
            return
        header = None if self._report_path.exists() else REPORT_COLUMNS
        write_csv(self._report_path, records[REPORT_COLUMNS].itertuples(index=False, name=None), header, mode="a")
        self.report_lines += len(records)

    # Reading ---------------------------------------------------------------------------------

    def stage(self, chunk_rows: int, progress: tqdm) -> None:
        """Read, parse and validate every row into the partition files (phase 2).

        pandas' C reader reads the rows, ``chunk_rows`` at a time, into more columns than the header
        has (``MAX_EXTRA_FIELDS`` more), so that a row with extra values is a row of its own to report
        — never taken for an index column, never shifting the other rows — and the header's own
        columns are picked by position. Blank lines are skipped but keep their line numbers."""
        positions = {name: self.header.index(name) for name in self.columns}
        width = len(self.header)
        next_line = 2
        try:
            reader = pd.read_csv(
                self.path,
                sep=self.delimiter,
                header=None,
                skiprows=1,
                names=list(range(width + MAX_EXTRA_FIELDS)),
                index_col=False,
                dtype=object,
                na_filter=False,
                keep_default_na=False,
                skip_blank_lines=False,
                chunksize=chunk_rows,
                encoding="utf-8-sig",
                engine="c",
            )
            with reader:
                for frame in reader:
                    cells = frame.fillna("").to_numpy(dtype=object)
                    lines = np.arange(next_line, next_line + len(cells), dtype=np.int64)
                    next_line += len(cells)
                    beyond = cells[:, width:] != ""
                    has_extra = beyond.any(axis=1)
                    kept = has_extra | (cells[:, :width] != "").any(axis=1)  # not a blank line
                    extra = [
                        (int(line), row[positions["app_id"]], self.delimiter.join(row[width:][mask]))
                        for line, row, mask in zip(lines[has_extra], cells[has_extra], beyond[has_extra], strict=True)
                    ]
                    columns = {name: cells[kept, position] for name, position in positions.items()}
                    self._stage_chunk(_Chunk(lines=lines[kept], columns=columns, extra=extra))
                    progress.update(len(cells))
        except pd.errors.ParserError as exc:
            opened = line_of_unclosed_quote(self.path) if "EOF inside string" in str(exc) else None
            if opened is not None:
                raise LoanFileError(
                    gettext(
                        "%(file)s: the quoted value that opens on line %(line)s is never closed, so every line after "
                        'it would be read as part of that value. Close its quote (") on line %(line)s, or remove it.'
                    )
                    % {"file": self.name, "line": opened}
                ) from None
            found = re.search(r"Expected \d+ fields in line (\d+), saw (\d+)", str(exc))
            raise LoanFileError(
                gettext(
                    "%(file)s: line %(line)s has %(count)s values but the header has %(columns)s columns. Is there "
                    'an unquoted comma inside a value? Quote such values, e.g. "Rp9.295.094,00".'
                )
                % {
                    "file": self.name,
                    "line": found[1] if found else "?",
                    "count": found[2] if found else "?",
                    "columns": width,
                }
            ) from None
        except UnicodeDecodeError as exc:  # the scan checks UTF-8 first; kept for files changed meanwhile
            raise LoanFileError(
                gettext("%(file)s: not UTF-8 text (%(reason)s).") % {"file": self.name, "reason": exc.reason}
            ) from None

    def _stage_chunk(self, chunk: _Chunk) -> None:
        self.rows_read += len(chunk.lines)
        lines = chunk.lines
        raw = chunk.columns
        parsed = {
            column: parse_column(raw[column], COLUMN_PARSERS[column][0], kind=COLUMN_PARSERS[column][1])
            for column in self.columns
        }
        reasons = {column: parsed[column].errors for column in self.columns}
        dp_checkable = ~parsed["dp"].invalid & ~parsed["otr"].invalid
        cross = _dp_above_otr(parsed["dp"].values, parsed["otr"].values, dp_checkable)
        reasons["dp"] = np.where(cross != None, cross, reasons["dp"])  # noqa: E711
        invalid = {column: reasons[column] != None for column in self.columns}  # noqa: E711
        has_error = np.zeros(len(lines), dtype=bool)
        for mask in invalid.values():
            has_error |= mask
        app_id_raw = np.array([text.strip()[:MAX_TEXT_CHARS] for text in raw["app_id"]], dtype=object)
        records = [
            pd.DataFrame(
                {
                    "line": lines[invalid[column]],
                    "app_id": app_id_raw[invalid[column]],
                    "column": column,
                    "value": _echoed(raw[column][invalid[column]]),
                    "reason": reasons[column][invalid[column]],
                    "order": order,
                }
            )
            for order, column in enumerate(self.columns)
            if invalid[column].any()
        ]
        if chunk.extra:
            extra_lines = np.array([line for line, _, _ in chunk.extra], dtype=np.int64)
            has_error |= np.isin(lines, extra_lines)
            records.append(
                pd.DataFrame(
                    {
                        "line": extra_lines,
                        "app_id": [app_id.strip()[:MAX_TEXT_CHARS] for _, app_id, _ in chunk.extra],
                        "column": "",
                        "value": _echoed(np.array([values for _, _, values in chunk.extra], dtype=object)),
                        "reason": gettext("more values than the header has columns (%(columns)s)")
                        % {"columns": len(self.header)},
                        "order": len(self.columns),
                    }
                )
            )
        if records:
            report = pd.concat(records, ignore_index=True).sort_values(["line", "order"], kind="stable")
            self._append_report(report)
        self.error_rows += int(has_error.sum())
        identified = ~parsed["app_id"].invalid

        good = identified & ~has_error
        valid = pd.DataFrame({"line": lines[good], "app_id": parsed["app_id"].values[good]})
        for column in self.columns[1:]:
            values = parsed[column].values[good]
            if column in CATEGORY_FIELDS:
                values = pd.Categorical(values, categories=CATEGORY_VALUES[column])
            valid[column] = values
        bad_mask = identified & has_error
        bad = pd.DataFrame({"line": lines[bad_mask], "app_id": parsed["app_id"].values[bad_mask]})

        if self.has_installments and len(valid):
            latest = valid["due_date"].max()
            if valid["paid_date"].notna().any():
                latest = max(latest, valid["paid_date"].max())
            self.latest_date = latest if self.latest_date is None else max(self.latest_date, latest)

        valid_partition = valid["app_id"].to_numpy() % self.partitions_count
        bad_partition = bad["app_id"].to_numpy() % self.partitions_count
        for number in range(self.partitions_count):
            valid_part = valid[valid_partition == number]
            bad_part = bad[bad_partition == number]
            if valid_part.empty and bad_part.empty:
                continue
            with self._partition_path(number).open("ab") as handle:
                pickle.dump((valid_part, bad_part), handle, protocol=pickle.HIGHEST_PROTOCOL)

    # Reconciling -----------------------------------------------------------------------------

    def partitions(self) -> Iterator[pd.DataFrame]:
        """The accepted rows of each partition (``line``, ``app_id`` and the file's columns, sorted by
        app_id and line); the rejections go to the report as each partition is reconciled."""
        for number in range(self.partitions_count):
            valid, bad = self._load_partition(number)
            accepted, report, rejected_ids = _reconcile(valid, bad, installments=self.has_installments)
            self._append_report(report)
            self.disagreeing_rows += report["line"].nunique()
            self.rejected_applications += len(rejected_ids)
            if not accepted.empty:
                yield accepted

    def _load_partition(self, number: int) -> tuple[pd.DataFrame, pd.DataFrame]:
        path = self._partition_path(number)
        if not path.exists():
            return pd.DataFrame(), pd.DataFrame(columns=["line", "app_id"])
        valid_parts, bad_parts = [], []
        with path.open("rb") as handle:
            while True:
                try:
                    valid_part, bad_part = pickle.load(handle)  # noqa: S301 (our own temporary file)
                except EOFError:
                    break
                valid_parts.append(valid_part)
                bad_parts.append(bad_part)
        valid = pd.concat(valid_parts, ignore_index=True)
        bad = pd.concat(bad_parts, ignore_index=True)
        return valid.sort_values(["app_id", "line"], ignore_index=True), bad

    # The report ------------------------------------------------------------------------------

    def write_report(self, report_path: Path | None) -> None:
        """Sort the report by line into ``report_path`` (when given) and keep its first lines in ``report_preview``."""
        if not self._report_path.exists():
            if report_path is not None:
                write_csv(report_path, [], REPORT_COLUMNS)
            return
        if self.report_lines <= REPORT_SORT_LIMIT:
            report = pd.read_csv(self._report_path, dtype=str, keep_default_na=False)
            report["line"] = report["line"].astype(np.int64)
            report = report.sort_values("line", kind="stable")
            self.report_preview = report.head(PREVIEW_LINES).to_dict("records")
            if report_path is not None:
                report.to_csv(report_path, index=False)  # cells were made safe as they were first written
            return
        head = pd.read_csv(self._report_path, dtype=str, keep_default_na=False, nrows=PREVIEW_LINES)
        head["line"] = head["line"].astype(np.int64)
        self.report_preview = head.to_dict("records")
        if report_path is not None:
            with self._report_path.open("rb") as source, Path(report_path).open("wb") as target:
                while block := source.read(SCAN_BLOCK_BYTES):
                    target.write(block)


def _display(value) -> str:
    if isinstance(value, np.datetime64 | pd.Timestamp):
        return str(pd.Timestamp(value).date()) if not pd.isna(value) else ""
    return str(value)


def _reconcile(valid: pd.DataFrame, bad: pd.DataFrame, *, installments: bool) -> tuple[pd.DataFrame, pd.DataFrame, set]:
    """Split a partition's rows into accepted rows and report lines (one per disagreeing or duplicated
    cell); returns (accepted, report, rejected application ids). Rows already reported as invalid
    (``bad``) reject their application without another report line."""
    records = []
    rejected_ids: set = set(bad["app_id"].tolist())
    if valid.empty:
        return valid, pd.DataFrame(columns=REPORT_COLUMNS), rejected_ids
    rest = valid[~valid["app_id"].isin(rejected_ids).to_numpy()]

    # Applications whose rows disagree on an attribute: each disagreeing cell is reported.
    grouped = rest.groupby("app_id", sort=False)
    first_line = grouped["line"].transform("first")
    any_differs = np.zeros(len(rest), dtype=bool)
    for column in ATTRIBUTE_FIELDS:
        first_value = grouped[column].transform("first")
        mask = (rest[column] != first_value).to_numpy()
        if not mask.any():
            continue
        any_differs |= mask
        rows = rest[mask]
        records.append(
            pd.DataFrame(
                {
                    "line": rows["line"].to_numpy(),
                    "app_id": rows["app_id"].astype(str).to_numpy(),
                    "column": column,
                    "value": [_display(v) for v in rows[column].tolist()],
                    "reason": [
                        gettext("%(label)s differs from line %(line)s of application %(app_id)s, which has %(value)s")
                        % {"label": label(column), "line": line, "app_id": app_id, "value": _display(v)}
                        for line, app_id, v in zip(
                            first_line[mask].tolist(), rows["app_id"].tolist(), first_value[mask].tolist(), strict=True
                        )
                    ],
                }
            )
        )
    if any_differs.any():
        disagreeing = set(rest.loc[any_differs, "app_id"].tolist())
        rejected_ids |= disagreeing
        rest = rest[~rest["app_id"].isin(disagreeing).to_numpy()]

    # Applications with two installments due on the same day: each such row is reported.
    if installments:
        duplicated = rest.duplicated(["app_id", "due_date"], keep=False).to_numpy()
        if duplicated.any():
            dup_rows = rest[duplicated]
            lines_by_key = dup_rows.groupby(["app_id", "due_date"])["line"].agg(lambda s: ", ".join(map(str, s)))
            records.append(
                pd.DataFrame(
                    {
                        "line": dup_rows["line"].to_numpy(),
                        "app_id": dup_rows["app_id"].astype(str).to_numpy(),
                        "column": "due_date",
                        "value": [_display(v) for v in dup_rows["due_date"].tolist()],
                        "reason": [
                            gettext(
                                "application %(app_id)s has more than one installment due on %(date)s (lines %(lines)s)"
                            )
                            % {"app_id": app_id, "date": _display(due), "lines": lines_by_key[(app_id, due)]}
                            for app_id, due in zip(
                                dup_rows["app_id"].tolist(), dup_rows["due_date"].tolist(), strict=True
                            )
                        ],
                    }
                )
            )
            duplicate_ids = set(dup_rows["app_id"].tolist())
            rejected_ids |= duplicate_ids
            rest = rest[~rest["app_id"].isin(duplicate_ids).to_numpy()]

    report = pd.concat(records, ignore_index=True) if records else pd.DataFrame(columns=REPORT_COLUMNS)
    return rest, report, rejected_ids


def _show_progress(progress: bool | None, rows: int) -> bool:
    if progress is None:
        return rows >= PROGRESS_MIN_ROWS and sys.stderr.isatty()
    return progress


@contextlib.contextmanager
def read_loan_file(
    path,
    *,
    installments: bool = True,
    chunk_rows: int = CHUNK_ROWS,
    partition_bytes: int = PARTITION_BYTES,
    progress: bool | None = None,
    name: str | None = None,
) -> Iterator[LoanFile]:
    """Check, parse and stage the loan file at ``path``; the :class:`LoanFile` yielded gives the
    accepted rows partition by partition (:meth:`LoanFile.partitions`) and writes the report.

    ``installments``: the file must have the installment columns (an import); otherwise only
    ``app_id`` and the nine attributes are needed and other columns are ignored (scoring).
    ``name`` is how messages name the file (default: its file name). Raises :class:`LoanFileError`
    when the file cannot be read as a loan file. The staging files
    live in a temporary folder removed when the block ends.
    """
    path = Path(path)
    name = name or path.name
    if not path.is_file():
        raise LoanFileError(gettext("%(file)s: no such file.") % {"file": name})
    columns = LOAN_FILE_COLUMNS if installments else APPLICATION_COLUMNS
    total_lines = _scan_file(path, name)
    header, delimiter = _read_header(path, name, columns)
    with tempfile.TemporaryDirectory(prefix="npl-loan-file-") as directory:
        loan_file = LoanFile(
            path=path,
            name=name,
            columns=columns,
            directory=Path(directory),
            partitions_count=max(1, math.ceil(path.stat().st_size / partition_bytes)),
            header=header,
            delimiter=delimiter,
            total_lines=total_lines,
        )
        show = _show_progress(progress, total_lines - 1)
        with tqdm(total=max(total_lines - 1, 0), desc="reading", unit="rows", disable=not show, file=sys.stderr) as bar:
            loan_file.stage(chunk_rows, bar)
        if loan_file.rows_read == 0:
            raise LoanFileError(gettext("%(file)s: the file has a header but no loan rows.") % {"file": name})
        yield loan_file
