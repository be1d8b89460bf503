"""Writes for applicants: importing a loan file, and labelling applications from their history.

How :func:`import_loan_file` keeps memory bounded and never half-writes:

1. **Check** the raw bytes once (empty? binary? UTF-8?) and the header (delimiter, missing or
   duplicated columns). An unreadable file stops here with one :class:`LoanFileError`.
2. **Parse and stage**: read the CSV in chunks of ``chunk_rows`` rows, parse and validate every
   cell (every reason of a row is kept), write each row's rejection reasons to a temporary report
   file and the parsed rows to one of ``n`` temporary partition files chosen by ``app_id % n``
   (``n`` grows with the file size, so a partition holds about ``partition_bytes`` of the file).
   All rows of an application land in the same partition wherever they are in the file. Nothing
   is written to the database in this phase, so a file found unreadable half-way writes nothing.
3. **Reconcile and write**, one partition at a time, each in one transaction: reject applications
   with an invalid row, with rows whose attributes disagree, or with two installments due on the
   same day (their other rows are reported as rejected with the application); upsert the rest
   (new rows inserted, changed rows updated, unchanged rows left alone — so a re-import changes
   nothing) and label them as of ``as_of``. On PostgreSQL the rows travel by COPY and are compared
   with the stored ones inside the database (:func:`_write_partition_postgresql`); on SQLite, which
   runs in-process, stored rows are read and compared in pandas, and written by prepared statements.
4. **Report**: the rejection report, sorted by line, and an :class:`ImportSummary`.

A re-import updates what changed and never deletes: installments stored earlier but absent from the
file stay (an export may cover only recent months). ``source`` names the file that created or last
changed an applicant. Line numbers count physical lines (header = 1, blank lines included); a
quoted value spanning several lines would shift the numbers after it.
"""

import codecs
import csv
import io
import math
import os
import pickle
import re
import sys
import tempfile
from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from functools import partial
from itertools import chain
from pathlib import Path

import numpy as np
import pandas as pd
from django.db import connection, transaction
from django.utils import timezone
from tqdm import tqdm

from .labelling import label_installments
from .models import Applicant, Installment
from .parsing import (
    parse_column,
    parse_count,
    parse_date,
    parse_integer,
    parse_optional_date,
    parse_rupiah,
    parse_years,
)
from .selectors import (
    HISTORY_COLUMNS,
    applicant_pk_ranges,
    dates_as_text,
    installment_history_frame,
    latest_installment_date,
    queryset_frame,
    to_datetime_column,
)
from .validation import (
    ATTRIBUTE_FIELDS,
    CATEGORY_CHOICES,
    CATEGORY_FIELDS,
    attribute_field_errors,
    dp_otr_errors,
    installment_field_errors,
)

INSTALLMENT_COLUMNS = ("due_date", "paid_date", "due_amount", "paid_amount")
LOAN_FILE_COLUMNS = ("app_id", *INSTALLMENT_COLUMNS, *ATTRIBUTE_FIELDS)
REPORT_COLUMNS = ["line", "app_id", "column", "value", "reason"]

CHUNK_ROWS = 50_000  # CSV rows parsed at a time
PARTITION_BYTES = 16 * 1024 * 1024  # about this much of the file is reconciled and written at a time
SCAN_BLOCK_BYTES = 16 * 1024 * 1024
REPORT_SORT_LIMIT = 2_000_000  # larger reports are written in partition order instead of line order
PREVIEW_REJECTIONS = 20
PROGRESS_MIN_ROWS = 100_000  # progress bars appear (on a terminal) only for files at least this long
APP_IDS_PER_QUERY = 5_000


class LoanFileError(Exception):
    """The loan file cannot be read at all (nothing was imported); the message says why and what to do."""


@dataclass
class LabellingSummary:
    as_of: date | None
    labelled: int = 0
    npl: int = 0
    by_kolektibilitas: dict[int, int] = field(default_factory=dict)

    def add(self, labels: pd.DataFrame) -> None:
        self.labelled += len(labels)
        self.npl += int(labels["is_npl"].sum())
        for kol, count in labels["kolektibilitas"].value_counts().items():
            self.by_kolektibilitas[int(kol)] = self.by_kolektibilitas.get(int(kol), 0) + int(count)

    def merge(self, other: "LabellingSummary") -> None:
        self.labelled += other.labelled
        self.npl += other.npl
        for kol, count in other.by_kolektibilitas.items():
            self.by_kolektibilitas[kol] = self.by_kolektibilitas.get(kol, 0) + count


@dataclass
class ImportSummary:
    path: str
    source: str
    as_of: date | None = None
    rows_read: int = 0
    applications_created: int = 0
    applications_updated: int = 0
    applications_unchanged: int = 0
    installments_created: int = 0
    installments_updated: int = 0
    installments_unchanged: int = 0
    rejected_rows: int = 0
    rejected_applications: int = 0
    report_path: str | None = None
    rejections_preview: list[dict] = field(default_factory=list)
    ignored_columns: list[str] = field(default_factory=list)
    labelling: LabellingSummary | None = None

    @property
    def applications_imported(self) -> int:
        return self.applications_created + self.applications_updated + self.applications_unchanged

    @property
    def installments_imported(self) -> int:
        return self.installments_created + self.installments_updated + self.installments_unchanged


# ---------------------------------------------------------------------------------------------
# Database helpers (SQLite): bulk INSERT ... ON CONFLICT DO UPDATE on the DB-API cursor, because
# Django's debug cursor would format every parameter into its query log.


def _rows_per_statement(width: int) -> int:
    connection.ensure_connection()
    try:
        import sqlite3

        limit = connection.connection.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER)
    except AttributeError:  # Python < 3.11
        limit = 999
    return max(1, min(2_000, limit // width))


def _upsert(
    table: str,
    columns: list[str],
    rows: list[tuple],
    *,
    conflict: list[str],
    update: list[str],
    returning: list[str] | None = None,
) -> list[tuple]:
    """Insert ``rows``, updating ``update`` columns of rows that clash on ``conflict``.

    Returns the ``returning`` columns of every inserted or updated row. Prepared statements on the
    DB-API cursor: for SQLite, which runs in-process (PostgreSQL imports go through
    :func:`_write_partition_postgresql` instead).
    """
    if not rows:
        return []
    column_list = ", ".join(_q(c) for c in columns)
    conflict_clause = (
        f"ON CONFLICT ({', '.join(_q(c) for c in conflict)}) "
        f"DO UPDATE SET {', '.join(f'{_q(c)} = excluded.{_q(c)}' for c in update)}"
    )
    returning_clause = f"RETURNING {', '.join(_q(c) for c in returning)}" if returning else ""
    returned: list[tuple] = []
    with connection.cursor() as cursor:
        raw = cursor.cursor
        row_placeholder = "(" + ", ".join(["%s"] * len(columns)) + ")"
        head = f"INSERT INTO {_q(table)} ({column_list}) VALUES"
        if not returning:
            raw.executemany(f"{head} {row_placeholder} {conflict_clause}", rows)
            return returned
        batch = _rows_per_statement(len(columns))
        for start in range(0, len(rows), batch):
            part = rows[start : start + batch]
            values = ", ".join([row_placeholder] * len(part))
            raw.execute(f"{head} {values} {conflict_clause} {returning_clause}", list(chain.from_iterable(part)))
            returned.extend(raw.fetchall())
    return returned


def _q(name: str) -> str:
    return connection.ops.quote_name(name)


def _iso_dates(values: np.ndarray) -> list:
    """datetime64 array → ISO date strings, ``None`` for NaT (what both backends take for a date column)."""
    text = np.datetime_as_string(values.astype("datetime64[D]"), unit="D").astype(object)
    text[np.isnat(values)] = None
    return text.tolist()


def _chunks(values, size: int):
    for start in range(0, len(values), size):
        yield values[start : start + size]


# ---------------------------------------------------------------------------------------------
# Labelling


def _store_labels(labels: pd.DataFrame, as_of: date) -> None:
    """Write max_dpd / kolektibilitas / is_npl / labelled_as_of, by applicant primary key (``pk``)."""
    if labels.empty:
        return
    table = _q(Applicant._meta.db_table)
    rows = list(
        zip(
            labels["pk"].astype(np.int64).tolist(),
            labels["max_dpd"].astype(np.int64).tolist(),
            labels["kolektibilitas"].astype(np.int64).tolist(),
            labels["is_npl"].astype(bool).tolist(),
            strict=True,
        )
    )
    as_of_value = connection.ops.adapt_datefield_value(as_of)
    with connection.cursor() as cursor:
        raw = cursor.cursor
        if connection.vendor == "postgresql":
            for part in _chunks(rows, 2_000):
                values = ", ".join(["(%s::bigint, %s::integer, %s::smallint, %s::boolean)"] * len(part))
                # The table name comes from model metadata; every value is a parameter.
                raw.execute(
                    f"UPDATE {table} SET max_dpd = v.max_dpd, kolektibilitas = v.kol, is_npl = v.npl, "  # noqa: S608
                    f"labelled_as_of = %s FROM (VALUES {values}) AS v(pk, max_dpd, kol, npl) "
                    f"WHERE {table}.id = v.pk",
                    [as_of_value, *chain.from_iterable(part)],
                )
        else:
            raw.executemany(
                f"UPDATE {table} SET max_dpd = %s, kolektibilitas = %s, is_npl = %s, labelled_as_of = %s "  # noqa: S608
                "WHERE id = %s",
                [(max_dpd, kol, npl, as_of_value, pk) for pk, max_dpd, kol, npl in rows],
            )


STORED_LABEL_COLUMNS = ["pk", "max_dpd", "kolektibilitas", "is_npl", "labelled_as_of"]


def _stored_labels(queryset) -> pd.DataFrame:
    return queryset_frame(
        queryset.order_by().values_list("pk", "max_dpd", "kolektibilitas", "is_npl", *dates_as_text("labelled_as_of")),
        STORED_LABEL_COLUMNS,
    )


def _changed_labels(labels: pd.DataFrame, stored: pd.DataFrame, as_of: date) -> pd.DataFrame:
    """The rows of ``labels`` (keyed by ``pk``) that differ from what is stored."""
    merged = labels.merge(stored, on="pk", how="left", suffixes=("", "_stored"))
    same = (
        (merged["max_dpd"] == pd.to_numeric(merged["max_dpd_stored"]))
        & (merged["kolektibilitas"] == pd.to_numeric(merged["kolektibilitas_stored"]))
        & (merged["is_npl"].astype(float) == merged["is_npl_stored"].map({True: 1.0, False: 0.0}))
        & (merged["labelled_as_of"] == as_of.isoformat())
    )
    return labels[~same.to_numpy()]


def label_applications(as_of: date | None = None, app_ids=None) -> LabellingSummary:
    """Label applications from their stored installments as of ``as_of`` and store the labels.

    ``as_of`` defaults to the latest due or paid date of any stored installment; ``app_ids``
    (default: every applicant) limits the applications labelled. Installments are read a few
    thousand applicants at a time and labelled by :func:`applicants.labelling.label_installments`;
    only labels that differ from the stored ones are written. Applicants without installments keep
    their (empty) labels.
    """
    if as_of is None:
        as_of = latest_installment_date()
    summary = LabellingSummary(as_of=as_of)
    if as_of is None:
        return summary
    if app_ids is None:
        batches = (
            (_stored_labels(Applicant.objects.filter(pk__gte=lo, pk__lt=hi)), (lo, hi))
            for lo, hi in applicant_pk_ranges()
        )
    else:
        unique_ids = np.unique(np.asarray(list(app_ids), dtype=np.int64))
        batches = (
            (_stored_labels(Applicant.objects.filter(app_id__in=part.tolist())), None)
            for part in _chunks(unique_ids, APP_IDS_PER_QUERY)
        )
    with transaction.atomic():
        for stored, pk_range in batches:
            if stored.empty:
                continue
            if pk_range is not None:
                history = installment_history_frame(applicant_pk_range=pk_range)
            else:
                history = installment_history_frame(applicant_pks=stored["pk"].tolist())
            if history.empty:
                continue
            labels = label_installments(history.rename(columns={"applicant_id": "app_id"}), as_of)
            labels = labels.rename(columns={"app_id": "pk"})
            _store_labels(_changed_labels(labels, stored, as_of), as_of)
            summary.add(labels)
    return summary


# ---------------------------------------------------------------------------------------------
# Import, phase 1: check the bytes and the header.


def _scan_file(path: Path) -> int:
    """Check the raw bytes (not empty, text, UTF-8) and count the lines; returns the line count."""
    try:
        handle = path.open("rb")
    except OSError as exc:
        raise LoanFileError(f"{path}: cannot open the file ({exc.strerror}).") from None
    decoder = codecs.getincrementaldecoder("utf-8")(errors="strict")
    lines = 0
    non_blank = False
    last_byte = b""
    with handle:
        while block := handle.read(SCAN_BLOCK_BYTES):
            nul = block.find(b"\x00")
            if nul >= 0:
                line = lines + block.count(b"\n", 0, nul) + 1
                raise LoanFileError(
                    f"{path.name}: this is a binary file, not CSV text (NUL byte on line {line}). "
                    "Export the loan book as CSV (UTF-8) and import that file."
                )
            try:
                decoder.decode(block, final=False)
            except UnicodeDecodeError as exc:
                line = lines + block.count(b"\n", 0, max(exc.start, 0)) + 1
                bad = block[exc.start : exc.start + 1].hex().upper()
                raise LoanFileError(
                    f"{path.name}: line {line} is not UTF-8 text (byte 0x{bad}). "
                    "Save the file as CSV UTF-8 and import it again."
                ) from None
            non_blank = non_blank or bool(block.strip())
            lines += block.count(b"\n")
            last_byte = block[-1:]
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            raise LoanFileError(
                f"{path.name}: the file ends in the middle of a UTF-8 character; "
                "save it as CSV UTF-8 and import it again."
            ) from None
    if not non_blank:
        raise LoanFileError(f"{path.name}: the file is empty; expected a header line and loan rows.")
    return lines + (1 if last_byte != b"\n" else 0)


def _read_header(path: Path) -> list[str]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        first_line = handle.readline()
    names = [name.strip() for name in next(csv.reader([first_line]), [])]
    expected = ", ".join(LOAN_FILE_COLUMNS)
    missing = [column for column in LOAN_FILE_COLUMNS if column not in names]
    if missing:
        for delimiter, label in ((";", "semicolons (;)"), ("\t", "tabs"), ("|", "vertical bars (|)")):
            if first_line.count(delimiter) >= len(LOAN_FILE_COLUMNS) // 2:
                raise LoanFileError(
                    f"{path.name}: the columns are separated by {label}, but a loan file is comma-separated. "
                    "Export it again as CSV with commas (,) between the columns."
                )
        raise LoanFileError(
            f"{path.name}: missing column(s) {', '.join(missing)} in the header (line 1). "
            f"A loan file needs the columns: {expected}."
        )
    duplicated = sorted(name for name, count in Counter(names).items() if count > 1)
    if duplicated:
        raise LoanFileError(
            f"{path.name}: column(s) {', '.join(duplicated)} appear more than once in the header (line 1); "
            "keep one of each."
        )
    return names


# ---------------------------------------------------------------------------------------------
# Import, phase 2: parse, validate and stage every chunk.


def _checked(parse, check, column: str):
    """A parser that also applies the validation rule of ``column`` to the parsed value."""

    def parse_and_check(text: str):
        value = parse(text)
        problems = check(column, value)
        if problems:
            raise ValueError("; ".join(problems))
        return value

    return parse_and_check


def _strip(text: str) -> str:
    return text.strip()


_RUPIAH = partial(parse_rupiah, allow_negative=True)  # negative amounts are reported by the validation rules
COLUMN_PARSERS = {
    "app_id": (parse_integer, "int"),
    "due_date": (_checked(parse_date, installment_field_errors, "due_date"), "date"),
    "paid_date": (_checked(parse_optional_date, installment_field_errors, "paid_date"), "date"),
    "due_amount": (_checked(_RUPIAH, installment_field_errors, "due_amount"), "int"),
    "paid_amount": (_checked(_RUPIAH, installment_field_errors, "paid_amount"), "int"),
    "monthly_income": (_checked(_RUPIAH, attribute_field_errors, "monthly_income"), "int"),
    "housing_type": (_checked(_strip, attribute_field_errors, "housing_type"), "text"),
    "num_of_dependent": (_checked(parse_count, attribute_field_errors, "num_of_dependent"), "int"),
    "lama_bekerja": (_checked(parse_years, attribute_field_errors, "lama_bekerja"), "int"),
    "otr": (_checked(_RUPIAH, attribute_field_errors, "otr"), "int"),
    "status_pernikahan": (_checked(_strip, attribute_field_errors, "status_pernikahan"), "text"),
    "pekerjaan": (_checked(_strip, attribute_field_errors, "pekerjaan"), "text"),
    "tenor": (_checked(parse_integer, attribute_field_errors, "tenor"), "int"),
    "dp": (_checked(_RUPIAH, attribute_field_errors, "dp"), "int"),
}
CATEGORY_VALUES = {column: list(choices.values) for column, choices in CATEGORY_CHOICES.items()}


@dataclass
class _Staging:
    directory: Path
    partitions: int
    rows_read: int = 0
    error_rows: int = 0
    report_lines: int = 0
    latest_date: pd.Timestamp | None = None

    def partition_path(self, number: int) -> Path:
        return self.directory / f"partition-{number}.pickle"

    @property
    def report_path(self) -> Path:
        return self.directory / "rejections.csv"

    def append_report(self, records: pd.DataFrame) -> None:
        if records.empty:
            return
        exists = self.report_path.exists()
        records[REPORT_COLUMNS].to_csv(self.report_path, mode="a", header=not exists, index=False)
        self.report_lines += len(records)


def _dp_above_otr(dp: np.ndarray, otr: np.ndarray, checkable: np.ndarray) -> np.ndarray:
    """The dp ≤ otr rule of :func:`applicants.validation.dp_otr_errors`, per distinct (dp, otr) pair."""
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


def _stage_chunk(chunk: pd.DataFrame, first_line: int, staging: _Staging) -> None:
    lines = np.arange(first_line, first_line + len(chunk), dtype=np.int64)
    raw = {column: chunk[column].to_numpy(dtype=object) for column in LOAN_FILE_COLUMNS}
    blank = np.ones(len(chunk), dtype=bool)
    for column in LOAN_FILE_COLUMNS:
        blank &= raw[column] == ""
    parsed = {
        column: parse_column(raw[column], COLUMN_PARSERS[column][0], kind=COLUMN_PARSERS[column][1])
        for column in LOAN_FILE_COLUMNS
    }
    reasons = {column: parsed[column].errors for column in LOAN_FILE_COLUMNS}
    dp_checkable = ~parsed["dp"].invalid & ~parsed["otr"].invalid
    cross = _dp_above_otr(parsed["dp"].values, parsed["otr"].values, dp_checkable)
    reasons["dp"] = np.where(cross != None, cross, reasons["dp"])  # noqa: E711
    invalid = {column: (reasons[column] != None) & ~blank for column in LOAN_FILE_COLUMNS}  # noqa: E711
    has_error = np.zeros(len(chunk), dtype=bool)
    for mask in invalid.values():
        has_error |= mask

    app_id_raw = pd.Series(raw["app_id"]).str.strip().to_numpy(dtype=object)
    records = [
        pd.DataFrame(
            {
                "line": lines[invalid[column]],
                "app_id": app_id_raw[invalid[column]],
                "column": column,
                "value": raw[column][invalid[column]],
                "reason": reasons[column][invalid[column]],
                "order": order,
            }
        )
        for order, column in enumerate(LOAN_FILE_COLUMNS)
        if invalid[column].any()
    ]
    if records:
        report = pd.concat(records, ignore_index=True).sort_values(["line", "order"], kind="stable")
        staging.append_report(report)
    staging.error_rows += int(has_error.sum())
    identified = ~blank & ~parsed["app_id"].invalid

    good = identified & ~has_error
    valid = pd.DataFrame({"line": lines[good], "app_id": parsed["app_id"].values[good]})
    for column in LOAN_FILE_COLUMNS[1:]:
        values = parsed[column].values[good]
        if column in CATEGORY_FIELDS:
            values = pd.Categorical(values, categories=CATEGORY_VALUES[column])
        valid[column] = values
    bad_mask = identified & has_error
    bad = pd.DataFrame({"line": lines[bad_mask], "app_id": parsed["app_id"].values[bad_mask]})

    if len(valid):
        latest = valid["due_date"].max()
        if valid["paid_date"].notna().any():
            latest = max(latest, valid["paid_date"].max())
        staging.latest_date = latest if staging.latest_date is None else max(staging.latest_date, latest)

    valid_partition = valid["app_id"].to_numpy() % staging.partitions
    bad_partition = bad["app_id"].to_numpy() % staging.partitions
    for number in range(staging.partitions):
        valid_part = valid[valid_partition == number]
        bad_part = bad[bad_partition == number]
        if valid_part.empty and bad_part.empty:
            continue
        with staging.partition_path(number).open("ab") as handle:
            pickle.dump((valid_part, bad_part), handle, protocol=pickle.HIGHEST_PROTOCOL)


def _parser_error_message(path: Path, exc: Exception, header_width: int) -> str:
    found = re.search(r"Expected (\d+) fields in line (\d+), saw (\d+)", str(exc))
    if found:
        return (
            f"{path.name}: line {found[2]} has {found[3]} fields but the header has {header_width}. "
            'Is there an unquoted comma inside a value? Quote such values, e.g. "Rp9.295.094,00".'
        )
    return f"{path.name}: not a readable CSV file ({str(exc).strip()})."


def _stage_file(path: Path, header: list[str], staging: _Staging, chunk_rows: int, bar: tqdm) -> None:
    reader = pd.read_csv(
        path,
        dtype=object,
        na_filter=False,
        keep_default_na=False,
        skip_blank_lines=False,
        chunksize=chunk_rows,
        encoding="utf-8-sig",
        engine="c",
    )
    next_line = 2
    try:
        with reader:
            for chunk in reader:
                chunk.columns = header
                chunk = chunk.fillna("")
                _stage_chunk(chunk, next_line, staging)
                next_line += len(chunk)
                staging.rows_read += len(chunk)
                bar.update(len(chunk))
    except pd.errors.ParserError as exc:
        raise LoanFileError(_parser_error_message(path, exc, len(header))) from None
    except UnicodeDecodeError as exc:  # the scan checks UTF-8 first; kept for files changed meanwhile
        raise LoanFileError(f"{path.name}: not UTF-8 text ({exc.reason}).") from None


# ---------------------------------------------------------------------------------------------
# Import, phase 3: reconcile one partition and write it.


def _load_partition(staging: _Staging, number: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    valid_parts, bad_parts = [], []
    path = staging.partition_path(number)
    if not path.exists():
        return pd.DataFrame(), pd.DataFrame(columns=["line", "app_id"])
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


def _collateral(rows: pd.DataFrame, reasons) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "line": rows["line"].to_numpy(),
            "app_id": rows["app_id"].astype(str).to_numpy(),
            "column": "",
            "value": "",
            "reason": reasons,
        }
    )


def _display(value) -> str:
    if isinstance(value, np.datetime64 | pd.Timestamp):
        return str(pd.Timestamp(value).date()) if not pd.isna(value) else ""
    return str(value)


def _reconcile(valid: pd.DataFrame, bad: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame, set]:
    """Split a partition's rows into accepted rows and report records; returns (accepted, records, rejected ids)."""
    records = []
    rejected_ids: set = set(bad["app_id"].tolist())
    if valid.empty:
        return valid, pd.DataFrame(columns=REPORT_COLUMNS), rejected_ids

    # Applications with an invalid row: their valid rows are rejected with them.
    first_bad_line = bad.groupby("app_id")["line"].min()
    with_bad_row = valid["app_id"].isin(first_bad_line.index).to_numpy()
    if with_bad_row.any():
        rows = valid[with_bad_row]
        bad_lines = rows["app_id"].map(first_bad_line)
        records.append(
            _collateral(
                rows,
                (
                    "rejected with application "
                    + rows["app_id"].astype(str)
                    + ": line "
                    + bad_lines.astype(str)
                    + " invalid"
                ).to_numpy(),
            )
        )
    rest = valid[~with_bad_row]

    # Applications whose rows disagree on an attribute.
    grouped = rest.groupby("app_id", sort=False)
    first_line = grouped["line"].transform("first")
    differs = {}
    for column in ATTRIBUTE_FIELDS:
        first_value = grouped[column].transform("first")
        mask = (rest[column] != first_value).to_numpy()
        if mask.any():
            differs[column] = (mask, first_value)
    if differs:
        any_differs = np.zeros(len(rest), dtype=bool)
        for mask, _ in differs.values():
            any_differs |= mask
        disagreeing = set(rest.loc[any_differs, "app_id"].tolist())
        in_disagreeing = rest["app_id"].isin(disagreeing).to_numpy()
        columns_by_app: dict = {}
        for column, (mask, first_value) in differs.items():
            rows = rest[mask]
            for app_id in rows["app_id"].unique().tolist():
                columns_by_app.setdefault(app_id, []).append(column)
            records.append(
                pd.DataFrame(
                    {
                        "line": rows["line"].to_numpy(),
                        "app_id": rows["app_id"].astype(str).to_numpy(),
                        "column": column,
                        "value": [_display(v) for v in rows[column].tolist()],
                        "reason": [
                            f"disagrees with line {line} of application {app_id}, which has {_display(v)}"
                            for line, app_id, v in zip(
                                first_line[mask].tolist(),
                                rows["app_id"].tolist(),
                                first_value[mask].tolist(),
                                strict=True,
                            )
                        ],
                    }
                )
            )
        others = rest[in_disagreeing & ~any_differs]
        records.append(
            _collateral(
                others,
                [
                    f"rejected with application {app_id}: its rows disagree on {', '.join(columns_by_app[app_id])}"
                    for app_id in others["app_id"].tolist()
                ],
            )
        )
        rejected_ids |= disagreeing
        rest = rest[~in_disagreeing]

    # Applications with two installments due on the same day.
    duplicated = rest.duplicated(["app_id", "due_date"], keep=False).to_numpy()
    if duplicated.any():
        duplicate_ids = set(rest.loc[duplicated, "app_id"].tolist())
        in_duplicate_app = rest["app_id"].isin(duplicate_ids).to_numpy()
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
                        f"application {app_id} has more than one installment due on {_display(due)} "
                        f"(lines {lines_by_key[(app_id, due)]})"
                        for app_id, due in zip(dup_rows["app_id"].tolist(), dup_rows["due_date"].tolist(), strict=True)
                    ],
                }
            )
        )
        others = rest[in_duplicate_app & ~duplicated]
        records.append(
            _collateral(
                others,
                [
                    f"rejected with application {app_id}: two installments are due on the same date"
                    for app_id in others["app_id"].tolist()
                ],
            )
        )
        rejected_ids |= duplicate_ids
        rest = rest[~in_duplicate_app]

    report = pd.concat(records, ignore_index=True) if records else pd.DataFrame(columns=REPORT_COLUMNS)
    return rest, report, rejected_ids


def _write_applicants(applications: pd.DataFrame, source: str, summary: ImportSummary) -> tuple[pd.Series, set]:
    """Upsert the applications; returns (applicant pk by app_id, app_ids that existed before)."""
    existing_parts = [
        queryset_frame(
            Applicant.objects.filter(app_id__in=part.tolist())
            .order_by()
            .values_list("pk", "app_id", *ATTRIBUTE_FIELDS),
            ["pk", "app_id", *ATTRIBUTE_FIELDS],
        )
        for part in _chunks(applications["app_id"].to_numpy(), APP_IDS_PER_QUERY)
    ]
    existing = pd.concat(existing_parts, ignore_index=True).set_index("app_id")
    merged = applications.set_index("app_id").join(existing, suffixes=("", "_stored"))
    is_new = merged["pk"].isna().to_numpy()
    # ``source`` names the file that created or last changed an applicant: re-importing the same rows
    # from another file leaves the applicant (and its updated_at) alone.
    changed = np.zeros(len(merged), dtype=bool)
    for column in ATTRIBUTE_FIELDS:
        changed |= merged[column].astype(object).to_numpy() != merged[f"{column}_stored"].astype(object).to_numpy()
    changed &= ~is_new
    summary.applications_created += int(is_new.sum())
    summary.applications_updated += int(changed.sum())
    summary.applications_unchanged += int((~is_new & ~changed).sum())

    pk_by_app = merged.loc[~is_new & ~changed, "pk"].astype(np.int64)
    to_write = merged[is_new | changed]
    if len(to_write):
        now = connection.ops.adapt_datetimefield_value(timezone.now())
        columns = ["app_id", *ATTRIBUTE_FIELDS, "source", "created_at", "updated_at"]
        data = [to_write.index.to_numpy(np.int64).tolist()]
        for column in ATTRIBUTE_FIELDS:
            values = to_write[column]
            data.append(
                values.astype(object).tolist() if column in CATEGORY_FIELDS else values.astype(np.int64).tolist()
            )
        n = len(to_write)
        data += [[source] * n, [now] * n, [now] * n]
        returned = _upsert(
            Applicant._meta.db_table,
            columns,
            list(zip(*data, strict=True)),
            conflict=["app_id"],
            update=[*ATTRIBUTE_FIELDS, "source", "updated_at"],
            returning=["app_id", "id"],
        )
        written = pd.Series([pk for _, pk in returned], index=[app_id for app_id, _ in returned], dtype=np.int64)
        pk_by_app = pd.concat([pk_by_app, written])
    existed = set(merged.index[~is_new].tolist())
    return pk_by_app, existed


def _write_installments(accepted: pd.DataFrame, pk_by_app: pd.Series, existed: set, summary: ImportSummary) -> None:
    """Upsert the accepted installments, ``APP_IDS_PER_QUERY`` applications at a time."""
    installments = pd.DataFrame(
        {
            "applicant_id": accepted["app_id"].map(pk_by_app).astype(np.int64).to_numpy(),
            "due_date": accepted["due_date"].astype("datetime64[s]").to_numpy(),
            "paid_date": accepted["paid_date"].astype("datetime64[s]").to_numpy(),
            "due_amount": accepted["due_amount"].to_numpy(),
            "paid_amount": accepted["paid_amount"].to_numpy(),
        }
    ).sort_values(["applicant_id", "due_date"], ignore_index=True)
    existed_pks = set(pk_by_app[pk_by_app.index.isin(existed)].tolist())
    applicant_ids = installments["applicant_id"].to_numpy()
    boundaries = np.flatnonzero(np.diff(applicant_ids)) + 1  # where a new applicant's rows begin
    starts = np.concatenate([[0], boundaries])[::APP_IDS_PER_QUERY]
    ends = np.append(starts[1:], len(installments))
    for start, end in zip(starts.tolist(), ends.tolist(), strict=True):
        part = installments.iloc[start:end]
        stored_ids = [pk for pk in np.unique(part["applicant_id"].to_numpy()).tolist() if pk in existed_pks]
        is_new, changed = _compare_with_stored(part, stored_ids)
        summary.installments_created += int(is_new.sum())
        summary.installments_updated += int(changed.sum())
        summary.installments_unchanged += int((~is_new & ~changed).sum())
        to_write = part[is_new | changed]
        if to_write.empty:
            continue
        data = [
            to_write["applicant_id"].tolist(),
            _iso_dates(to_write["due_date"].to_numpy()),
            _iso_dates(to_write["paid_date"].to_numpy()),
            to_write["due_amount"].astype(np.int64).tolist(),
            to_write["paid_amount"].astype(np.int64).tolist(),
        ]
        _upsert(
            Installment._meta.db_table,
            ["applicant_id", "due_date", "paid_date", "due_amount", "paid_amount"],
            list(zip(*data, strict=True)),
            conflict=["applicant_id", "due_date"],
            update=["paid_date", "due_amount", "paid_amount"],
        )


def _compare_with_stored(installments: pd.DataFrame, stored_ids: list[int]) -> tuple[np.ndarray, np.ndarray]:
    """Which of ``installments`` are new, and which differ from the stored row with the same due date."""
    if not stored_ids:
        return np.ones(len(installments), dtype=bool), np.zeros(len(installments), dtype=bool)
    stored = queryset_frame(
        Installment.objects.filter(applicant_id__in=stored_ids)
        .order_by()
        .values_list("applicant_id", *dates_as_text("due_date", "paid_date"), "due_amount", "paid_amount"),
        ["applicant_id", "due_date", "paid_date", "due_amount", "paid_amount"],
    )
    stored["due_date"] = to_datetime_column(stored["due_date"]).astype("datetime64[s]")
    stored["paid_date"] = to_datetime_column(stored["paid_date"]).astype("datetime64[s]")
    stored["applicant_id"] = stored["applicant_id"].astype(np.int64)
    merged = installments.merge(
        stored, on=["applicant_id", "due_date"], how="left", suffixes=("", "_stored"), indicator=True
    )
    is_new = (merged["_merge"] == "left_only").to_numpy()
    same_paid_date = (merged["paid_date"] == merged["paid_date_stored"]) | (
        merged["paid_date"].isna() & merged["paid_date_stored"].isna()
    )
    same = (
        same_paid_date
        & (merged["due_amount"] == merged["due_amount_stored"])
        & (merged["paid_amount"] == merged["paid_amount_stored"])
    ).to_numpy()
    return is_new, ~is_new & ~same


# PostgreSQL: a partition goes through COPY, and the comparison with stored rows happens in the
# database, so nothing stored is read back. New applicants are inserted with their labels and their
# installments copied straight into the table; the rows of applicants stored before go through
# temporary tables and INSERT ... ON CONFLICT DO UPDATE ... WHERE <changed>, which leaves unchanged
# rows (and their updated_at) alone. RETURNING tells what was written: ``xmax = 0`` marks a row this
# statement inserted (a row updated through ON CONFLICT carries this transaction's lock in ``xmax``);
# the rows not returned are the unchanged ones.

STAGE_APPLICANTS = "npl_import_applicants"
STAGE_INSTALLMENTS = "npl_import_installments"
STAGE_LABELS = "npl_import_labels"
INSTALLMENT_ROW_COLUMNS = ["applicant_id", "due_date", "paid_date", "due_amount", "paid_amount"]
INSTALLMENT_VALUE_COLUMNS = ["paid_date", "due_amount", "paid_amount"]
LABEL_FIELDS = ["max_dpd", "kolektibilitas", "is_npl"]

# PostgreSQL's binary COPY format: a header, then per row the number of fields and, per field, its
# length in bytes (-1 for NULL) and its big-endian value; a date is the number of days since 2000-01-01.
_PG_COPY_HEADER = b"PGCOPY\n\xff\r\n\x00" + bytes(8)  # signature, flags, header extension length
_PG_COPY_TRAILER = b"\xff\xff"
_PG_BINARY_FORMATS = {"bigint": ">i8", "integer": ">i4", "smallint": ">i2", "boolean": "?", "date": ">i4"}
_PG_DATE_EPOCH = np.datetime64("2000-01-01", "D")


def _pg_binary_copy_data(fields: list, columns: list[np.ndarray]) -> io.BytesIO:
    """Rows for ``COPY ... (FORMAT binary)``, built column by column with numpy (no Python loop per row).

    ``columns`` holds one array per model field of ``fields``: integers or booleans for integer and
    boolean fields, datetime64 for date fields (NaT becomes NULL).
    """
    types = [field.db_type(connection) for field in fields]
    layout = [("fields", ">i2")]
    for position, db_type in enumerate(types):
        layout += [(f"length{position}", ">i4"), (f"value{position}", _PG_BINARY_FORMATS[db_type])]
    rows = np.zeros(len(columns[0]), dtype=layout)
    rows["fields"] = len(fields)
    send = None  # which bytes of the fixed-width rows to send, when some value is NULL (no value bytes)
    for position, (db_type, values) in enumerate(zip(types, columns, strict=True)):
        size = np.dtype(_PG_BINARY_FORMATS[db_type]).itemsize
        rows[f"length{position}"] = size
        if db_type != "date":
            rows[f"value{position}"] = values
            continue
        days = np.asarray(values).astype("datetime64[D]")
        null = np.isnat(days)
        rows[f"value{position}"] = np.where(null, 0, (days - _PG_DATE_EPOCH).astype(np.int64))
        if null.any():
            rows[f"length{position}"][null] = -1
            if send is None:
                send = np.ones((len(rows), rows.dtype.itemsize), dtype=bool)
            offset = rows.dtype.fields[f"value{position}"][1]
            send[null, offset : offset + size] = False
    body = rows.tobytes() if send is None else rows.view(np.uint8).reshape(len(rows), -1)[send].tobytes()
    return io.BytesIO(_PG_COPY_HEADER + body + _PG_COPY_TRAILER)


def _pg_copy(raw, table: str, fields: list, data: io.IOBase, data_format: str = "binary") -> None:
    column_list = ", ".join(_q(field.column) for field in fields)
    raw.copy_expert(f"COPY {_q(table)} ({column_list}) FROM STDIN WITH (FORMAT {data_format})", data, size=1 << 20)


def _pg_stage_tables() -> str:
    """The stage tables, named in the temporary schema (never a permanent table of the same name)."""
    return ", ".join(f"pg_temp.{_q(name)}" for name in (STAGE_APPLICANTS, STAGE_INSTALLMENTS, STAGE_LABELS))


def _pg_create_stage_tables(raw) -> None:
    """Empty temporary tables with the types of the columns they stage (recreated for every partition,
    so that an import running inside an outer transaction never finds a previous partition's rows)."""
    applicants, installments = _q(Applicant._meta.db_table), _q(Installment._meta.db_table)
    raw.execute(f"DROP TABLE IF EXISTS {_pg_stage_tables()}")
    for stage, columns, source_table in (
        (STAGE_APPLICANTS, ["app_id", *ATTRIBUTE_FIELDS, *LABEL_FIELDS], applicants),
        (STAGE_INSTALLMENTS, INSTALLMENT_ROW_COLUMNS, installments),
        (STAGE_LABELS, ["id", *LABEL_FIELDS], applicants),
    ):
        raw.execute(
            f"CREATE TEMP TABLE {_q(stage)} AS "  # noqa: S608 (names from model metadata and constants)
            f"SELECT {', '.join(_q(c) for c in columns)} FROM {source_table} WITH NO DATA"
        )


def _pg_write_applicants(
    raw, applications: pd.DataFrame, source: str, as_of: date, summary: ImportSummary
) -> tuple[np.ndarray, np.ndarray]:
    """Upsert ``applications`` (one row per app_id, ascending, with the labels from the file's rows);
    returns (their primary keys, True where this transaction inserted the applicant).

    A new applicant is inserted with its labels; an applicant stored before gets its attributes
    updated when they changed, and keeps its labels here (see :func:`_pg_relabel_existing`). ON
    CONFLICT DO UPDATE locks every stored applicant of the partition, changed or not, so no other
    import writes their installments before this transaction ends.
    """
    fields = [Applicant._meta.get_field(name) for name in ["app_id", *ATTRIBUTE_FIELDS, *LABEL_FIELDS]]
    buffer = io.StringIO()
    cells = [applications[f.name].astype(object if f.name in CATEGORY_FIELDS else np.int64).tolist() for f in fields]
    csv.writer(buffer, lineterminator="\n").writerows(zip(*cells, strict=True))
    buffer.seek(0)
    _pg_copy(raw, STAGE_APPLICANTS, fields, buffer, data_format="csv")

    table, stage = _q(Applicant._meta.db_table), _q(STAGE_APPLICANTS)
    columns = ", ".join(_q(f.column) for f in fields)
    attributes = [_q(c) for c in ATTRIBUTE_FIELDS]
    raw.execute(
        f"INSERT INTO {table} ({columns}, source, created_at, updated_at, labelled_as_of) "  # noqa: S608
        f"SELECT {columns}, %(source)s, %(now)s, %(now)s, %(as_of)s FROM {stage} ORDER BY app_id "
        f"ON CONFLICT (app_id) DO UPDATE SET {', '.join(f'{c} = excluded.{c}' for c in attributes)}, "
        "source = excluded.source, updated_at = excluded.updated_at "
        f"WHERE ({', '.join(f'{table}.{c}' for c in attributes)}) "
        f"IS DISTINCT FROM ({', '.join(f'excluded.{c}' for c in attributes)}) "
        "RETURNING app_id, xmax = 0",
        {"source": source, "now": timezone.now(), "as_of": as_of},
    )
    written = raw.fetchall()
    inserted_ids = [app_id for app_id, inserted in written if inserted]
    summary.applications_created += len(inserted_ids)
    summary.applications_updated += len(written) - len(inserted_ids)
    summary.applications_unchanged += len(applications) - len(written)

    # One index lookup per application (OFFSET 0 keeps the planner from scanning the whole table instead).
    raw.execute(
        f"SELECT s.app_id, a.id FROM {stage} s "  # noqa: S608
        f"CROSS JOIN LATERAL (SELECT id FROM {table} WHERE app_id = s.app_id OFFSET 0) a"
    )
    pk_by_app = pd.Series(dict(raw.fetchall()), dtype=np.int64)
    app_ids = applications["app_id"]
    return pk_by_app.reindex(app_ids).to_numpy(), app_ids.isin(inserted_ids).to_numpy()


def _pg_write_installments(raw, rows: pd.DataFrame, is_new: np.ndarray, summary: ImportSummary) -> None:
    """Copy the installments of new applicants into the table; upsert the others through a stage table."""
    fields = [Installment._meta.get_field(name) for name in INSTALLMENT_ROW_COLUMNS]

    def copy_rows(table: str, mask: np.ndarray) -> None:
        columns = [rows[name].to_numpy()[mask] for name in INSTALLMENT_ROW_COLUMNS]
        _pg_copy(raw, table, fields, _pg_binary_copy_data(fields, columns))

    if is_new.any():
        copy_rows(Installment._meta.db_table, is_new)
        summary.installments_created += int(is_new.sum())
    if is_new.all():
        return
    copy_rows(STAGE_INSTALLMENTS, ~is_new)
    table, stage = _q(Installment._meta.db_table), _q(STAGE_INSTALLMENTS)
    columns = ", ".join(_q(c) for c in INSTALLMENT_ROW_COLUMNS)
    values = [_q(c) for c in INSTALLMENT_VALUE_COLUMNS]
    # Rows equal to a stored row are left out before the upsert, so that it neither locks nor
    # rewrites them (one index lookup per row: OFFSET 0 keeps the planner from hashing the whole table).
    raw.execute(
        f"WITH written AS (INSERT INTO {table} ({columns}) SELECT {columns} FROM {stage} s "  # noqa: S608
        f"WHERE NOT EXISTS (SELECT 1 FROM {table} i WHERE i.applicant_id = s.applicant_id "
        f"AND i.due_date = s.due_date AND ({', '.join(f'i.{c}' for c in values)}) "
        f"IS NOT DISTINCT FROM ({', '.join(f's.{c}' for c in values)}) OFFSET 0) "
        f"ON CONFLICT (applicant_id, due_date) DO UPDATE SET {', '.join(f'{c} = excluded.{c}' for c in values)} "
        f"WHERE ({', '.join(f'{table}.{c}' for c in values)}) "
        f"IS DISTINCT FROM ({', '.join(f'excluded.{c}' for c in values)}) "
        "RETURNING xmax = 0 AS inserted) "
        "SELECT count(*) FILTER (WHERE inserted), count(*) FILTER (WHERE NOT inserted) FROM written"
    )
    created, updated = raw.fetchone()
    summary.installments_created += created
    summary.installments_updated += updated
    summary.installments_unchanged += int((~is_new).sum()) - created - updated


def _pg_relabel_existing(
    raw, existing: pd.DataFrame, history: pd.DataFrame, labels: pd.DataFrame, as_of: date
) -> pd.DataFrame:
    """Label the applicants stored before (``existing``: app_id, id) and store the labels that changed.

    Their history is the file's rows (``history``, now stored) plus their stored installments the
    file does not list (usually none: an export repeats what it knows); ``labels``, computed from
    the file's rows, are returned with those applicants' labels recomputed.
    """
    table, stage = _q(Installment._meta.db_table), _q(STAGE_INSTALLMENTS)
    raw.execute(  # per applicant, one index range scan (OFFSET 0 keeps it from becoming a table scan)
        f"SELECT e.applicant_id, i.due_date::text, i.paid_date::text, i.due_amount "  # noqa: S608
        f"FROM (SELECT DISTINCT applicant_id FROM {stage}) e CROSS JOIN LATERAL "
        f"(SELECT due_date, paid_date, due_amount FROM {table} WHERE applicant_id = e.applicant_id OFFSET 0) i "
        f"WHERE NOT EXISTS (SELECT 1 FROM {stage} s WHERE s.applicant_id = e.applicant_id AND s.due_date = i.due_date)"
    )
    unlisted = pd.DataFrame.from_records(raw.fetchall(), columns=HISTORY_COLUMNS, coerce_float=False)
    if len(unlisted):
        unlisted["app_id"] = unlisted["applicant_id"].map(pd.Series(existing["app_id"].to_numpy(), existing["id"]))
        unlisted["due_date"] = to_datetime_column(unlisted["due_date"])
        unlisted["paid_date"] = to_datetime_column(unlisted["paid_date"])
        full = pd.concat([history[history["app_id"].isin(unlisted["app_id"])], unlisted[history.columns]])
        relabelled = label_installments(full, as_of)
        labels = pd.concat([labels[~labels["app_id"].isin(relabelled["app_id"])], relabelled], ignore_index=True)

    fields = [Applicant._meta.get_field(name) for name in ["id", *LABEL_FIELDS]]
    staged = existing[["app_id", "id"]].merge(labels, on="app_id", how="left", validate="one_to_one")
    _pg_copy(raw, STAGE_LABELS, fields, _pg_binary_copy_data(fields, [staged[f.name].to_numpy() for f in fields]))
    table = _q(Applicant._meta.db_table)
    raw.execute(
        f"UPDATE {table} a SET {', '.join(f'{_q(c)} = l.{_q(c)}' for c in LABEL_FIELDS)}, "  # noqa: S608
        f"labelled_as_of = %(as_of)s FROM {_q(STAGE_LABELS)} l WHERE a.id = l.id "
        f"AND ({', '.join(f'a.{_q(c)}' for c in [*LABEL_FIELDS, 'labelled_as_of'])}) "
        f"IS DISTINCT FROM ({', '.join(f'l.{_q(c)}' for c in LABEL_FIELDS)}, %(as_of)s::date)",
        {"as_of": as_of},
    )
    return labels


def _write_partition_postgresql(accepted: pd.DataFrame, source: str, as_of: date, summary: ImportSummary) -> None:
    """Write a partition's accepted rows and their labels (inside the partition's transaction)."""
    accepted = accepted.iloc[np.lexsort((accepted["due_date"].to_numpy(), accepted["app_id"].to_numpy()))]
    history = accepted[["app_id", "due_date", "paid_date", "due_amount"]]
    labels = label_installments(history, as_of)  # from the file's rows: final for new applicants
    applications = accepted.drop_duplicates("app_id")[["app_id", *ATTRIBUTE_FIELDS]]
    applications = applications.merge(labels, on="app_id", how="left", validate="one_to_one")
    with connection.cursor() as cursor:
        raw = cursor.cursor
        # Each statement here runs once per partition: JIT-compiling them (their cost estimates exceed
        # jit_above_cost) takes longer than it saves. SET LOCAL: for this transaction only.
        raw.execute("SET LOCAL jit = off")
        _pg_create_stage_tables(raw)
        pks, inserted = _pg_write_applicants(raw, applications, source, as_of, summary)
        application_of_row = np.searchsorted(applications["app_id"].to_numpy(), accepted["app_id"].to_numpy())
        rows = accepted[["due_date", "paid_date", "due_amount", "paid_amount"]].assign(
            applicant_id=pks[application_of_row]
        )
        _pg_write_installments(raw, rows, inserted[application_of_row], summary)
        if not inserted.all():
            existing = pd.DataFrame({"app_id": applications["app_id"][~inserted], "id": pks[~inserted]})
            labels = _pg_relabel_existing(raw, existing, history, labels, as_of)
        raw.execute(f"DROP TABLE {_pg_stage_tables()}")
    summary.labelling.add(labels)


def _import_partition(staging: _Staging, number: int, source: str, as_of: date, summary: ImportSummary) -> None:
    """Reconcile one partition, then write and label its accepted applications in one transaction."""
    valid, bad = _load_partition(staging, number)
    accepted, report, rejected_ids = _reconcile(valid, bad)
    staging.append_report(report)
    summary.rejected_rows += len(report.drop_duplicates("line")) if len(report) else 0
    summary.rejected_applications += len(rejected_ids)
    if accepted.empty:
        return
    with transaction.atomic():
        if connection.vendor == "postgresql":
            _write_partition_postgresql(accepted, source, as_of, summary)
            return
        applications = accepted.drop_duplicates("app_id")[["app_id", *ATTRIBUTE_FIELDS]]
        pk_by_app, existed = _write_applicants(applications, source, summary)
        _write_installments(accepted, pk_by_app, existed, summary)
        summary.labelling.merge(label_applications(as_of, app_ids=applications["app_id"].to_numpy()))


# ---------------------------------------------------------------------------------------------
# Import, phase 4: the report.


def _finish_report(staging: _Staging, report_path: Path | None, summary: ImportSummary) -> None:
    if not staging.report_path.exists():
        if report_path is not None:
            pd.DataFrame(columns=REPORT_COLUMNS).to_csv(report_path, index=False)
        return
    if staging.report_lines <= REPORT_SORT_LIMIT:
        report = pd.read_csv(staging.report_path, dtype=str, keep_default_na=False)
        report["line"] = report["line"].astype(np.int64)
        report = report.sort_values("line", kind="stable")
        summary.rejections_preview = report.head(PREVIEW_REJECTIONS).to_dict("records")
        if report_path is not None:
            report.to_csv(report_path, index=False)
        return
    head = pd.read_csv(staging.report_path, dtype=str, keep_default_na=False, nrows=PREVIEW_REJECTIONS)
    head["line"] = head["line"].astype(np.int64)
    summary.rejections_preview = head.to_dict("records")
    if report_path is not None:
        with staging.report_path.open("rb") as source, report_path.open("wb") as target:
            while block := source.read(SCAN_BLOCK_BYTES):
                target.write(block)


def _refresh_planner_statistics() -> None:
    """ANALYZE the two tables on PostgreSQL after an import: after a bulk load its planner would otherwise
    guess that every "installments of these applicants" query (labelling, training) reads the whole
    table, and scan all of it. (The import's own queries do not depend on these statistics.)"""
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {_q(Applicant._meta.db_table)}, {_q(Installment._meta.db_table)}")


def _show_progress(progress: bool | None, rows: int) -> bool:
    if progress is None:
        return rows >= PROGRESS_MIN_ROWS and sys.stderr.isatty()
    return progress


def import_loan_file(
    path,
    *,
    as_of: date | None = None,
    report_path=None,
    source: str | None = None,
    progress: bool | None = None,
    chunk_rows: int = CHUNK_ROWS,
    partition_bytes: int = PARTITION_BYTES,
) -> ImportSummary:
    """Import a loan file (one row per installment, see ``shared/docs/data-format.md``) and label it.

    - ``as_of``: the date the imported applications are labelled as of; default the latest due or
      paid date among the file's valid rows.
    - ``report_path``: where to write the rejection report (CSV: line, app_id, column, value,
      reason; one line per reason, line 1 being the header). Nothing is written when ``None``;
      the summary carries the first rejections either way.
    - ``source``: recorded on each applicant; default the file name.
    - ``progress``: tqdm progress bars on stderr; ``None`` shows them for long files on a terminal.
    - ``chunk_rows`` / ``partition_bytes``: memory bounds (see the module docstring).

    Raises :class:`LoanFileError` (and writes nothing) when the file cannot be read as a loan file.
    Rows with errors are not errors of the import: they are reported, and their applications skipped.
    """
    path = Path(path)
    if not path.is_file():
        raise LoanFileError(f"{path}: no such file.")
    if report_path is not None:
        report_folder = Path(report_path).resolve().parent
        if not report_folder.is_dir() or not os.access(report_folder, os.W_OK):
            raise LoanFileError(f"{report_path}: cannot write the rejection report there (no such writable folder).")
    total_lines = _scan_file(path)
    header = _read_header(path)
    summary = ImportSummary(path=str(path), source=source or path.name)
    summary.ignored_columns = [name for name in header if name not in LOAN_FILE_COLUMNS]
    partitions = max(1, math.ceil(path.stat().st_size / partition_bytes))
    show = _show_progress(progress, total_lines - 1)

    with tempfile.TemporaryDirectory(prefix="npl-import-") as directory:
        staging = _Staging(directory=Path(directory), partitions=partitions)
        with tqdm(total=max(total_lines - 1, 0), desc="reading", unit="rows", disable=not show, file=sys.stderr) as bar:
            _stage_file(path, header, staging, chunk_rows, bar)
        summary.rows_read = staging.rows_read
        if staging.latest_date is None and staging.error_rows == 0:
            raise LoanFileError(f"{path.name}: the file has a header but no loan rows.")
        if as_of is None and staging.latest_date is not None:
            as_of = pd.Timestamp(staging.latest_date).date()
        summary.as_of = as_of
        summary.labelling = LabellingSummary(as_of=as_of)
        summary.rejected_rows = staging.error_rows
        with tqdm(total=partitions, desc="writing", unit="partitions", disable=not show, file=sys.stderr) as bar:
            for number in range(partitions):
                _import_partition(staging, number, summary.source, as_of, summary)
                bar.update(1)
        _refresh_planner_statistics()
        summary.report_path = str(report_path) if report_path is not None else None
        _finish_report(staging, Path(report_path) if report_path is not None else None, summary)
    return summary
