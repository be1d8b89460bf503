"""Importing a loan file: write its accepted applications and installments, and label them.

:func:`import_loan_file` reads the file with :func:`applicants.loan_file.read_loan_file` (which
checks, parses and validates every cell and rejects inconsistent applications, partition by
partition) and writes each partition in one transaction:

- applicants: new ones are inserted with the labels computed from the file's rows; stored ones
  whose attributes changed are updated; unchanged ones are left alone (so a re-import changes
  nothing);
- installments: the same — new rows inserted, changed rows updated, equal rows left alone;
- stored applicants are then relabelled from their whole stored history
  (:func:`applicants.labelling_service.label_applications`).

Both go through one write function, :func:`upsert`: ``INSERT … ON CONFLICT (…) DO UPDATE``, the
statement ``bulk_create(update_conflicts=True)`` also sends, written out because ``bulk_create``
missed the import's target (≥ 50,000 installment rows/s on SQLite and PostgreSQL; it measured
about 20,000 rows/s on both, building a model instance and preparing every value in Python —
``benchmarks/README.md``). The rows reach the statement through the drivers' documented bulk
calls: the DB-API ``executemany`` on SQLite (in-process), psycopg2's ``copy_expert`` with CSV text
into a temporary table on PostgreSQL — or, for the installments of applicants the same transaction
has just inserted (a first import), straight into the table, since none of them can clash. What is
new, changed or unchanged is told by comparing with the stored rows of the partition's applicants,
read back a few thousand applicants at a time; only new and changed rows are written.

A re-import updates what changed and never deletes: installments stored earlier but absent from the
file stay (an export may cover only recent months). ``source`` names the file that created or last
changed an applicant.
"""

import csv
import io
import os
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext

from applicants.attributes import ATTRIBUTE_FIELDS, CATEGORY_FIELDS
from applicants.labelling_service import LABEL_FIELDS, LabellingSummary, label_applications
from applicants.loan_file import LoanFileError, read_loan_file
from applicants.models import Applicant, Installment
from applicants.selectors import dates_as_text, queryset_frame, to_datetime_column
from credit.labelling import label_installments
from nplsite.database import refresh_planner_statistics

APP_IDS_PER_QUERY = 5_000
INSTALLMENT_VALUE_FIELDS = ["paid_date", "due_amount", "paid_amount"]
STORED_LABEL_COLUMNS = [*LABEL_FIELDS, "labelled_as_of"]


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
    stored_labels: pd.DataFrame | None = field(default=None, repr=False)  # of the partition being written

    @property
    def applications_imported(self) -> int:
        return self.applications_created + self.applications_updated + self.applications_unchanged

    @property
    def installments_imported(self) -> int:
        return self.installments_created + self.installments_updated + self.installments_unchanged


def upsert(
    model, fields: list[str], rows: list[tuple], *, unique: list[str], update: list[str], expect_new: bool = False
) -> None:
    """Insert ``rows`` (values of ``fields``) into ``model``'s table; a row clashing with a stored one on
    ``unique`` updates its ``update`` fields. See the module docstring for why this is not ``bulk_create``.

    ``expect_new``: no stored row is expected to clash (the rows of applicants this transaction
    inserted). PostgreSQL then copies them straight into the table, inside a savepoint; if another
    import stored some of them meanwhile (a unique violation), the savepoint is rolled back and the
    rows go through ``INSERT … ON CONFLICT`` like any others."""
    if not rows:
        return
    quote = connection.ops.quote_name
    table = quote(model._meta.db_table)
    columns = ", ".join(quote(model._meta.get_field(name).column) for name in fields)
    conflict = (
        f"ON CONFLICT ({', '.join(quote(model._meta.get_field(name).column) for name in unique)}) DO UPDATE SET "
        + ", ".join(
            f"{quote(model._meta.get_field(name).column)} = excluded.{quote(model._meta.get_field(name).column)}"
            for name in update
        )
    )
    with connection.cursor() as cursor:
        if connection.vendor != "postgresql":
            placeholders = ", ".join(["%s"] * len(fields))
            sql = f"INSERT INTO {table} ({columns}) VALUES ({placeholders}) {conflict}"  # noqa: S608
            cursor.executemany(sql, rows)
            return
        text = io.StringIO()
        csv.writer(text, lineterminator="\n").writerows(rows)  # None → an empty field: NULL in COPY's CSV format
        if expect_new:
            from psycopg2.errors import UniqueViolation  # the driver's own: Django does not wrap copy_expert

            try:
                with transaction.atomic():
                    text.seek(0)
                    cursor.copy_expert(f"COPY {table} ({columns}) FROM STDIN WITH (FORMAT csv)", text)
                return
            except UniqueViolation:
                pass
        stage = quote(f"npl_import_{model._meta.model_name}")
        # Each statement runs once per partition: JIT-compiling it (its cost estimate exceeds
        # jit_above_cost) takes longer than it saves. SET LOCAL: for this transaction only.
        cursor.execute("SET LOCAL jit = off")
        cursor.execute(f"CREATE TEMP TABLE {stage} AS SELECT {columns} FROM {table} WITH NO DATA")  # noqa: S608
        text.seek(0)
        cursor.copy_expert(f"COPY {stage} ({columns}) FROM STDIN WITH (FORMAT csv)", text)
        cursor.execute(f"INSERT INTO {table} ({columns}) SELECT {columns} FROM {stage} {conflict}")  # noqa: S608
        cursor.execute(f"DROP TABLE {stage}")


def _for_new(values: list, new: list[bool]) -> list:
    """``values`` where ``new``, ``None`` elsewhere."""
    return [value if is_new else None for value, is_new in zip(values, new, strict=True)]


def _parts(values: np.ndarray, size: int):
    for start in range(0, len(values), size):
        yield values[start : start + size]


def _dates(values: np.ndarray) -> list:
    """datetime64 values as ISO dates (``None`` for NaT), which both databases take for a date column."""
    text = np.datetime_as_string(values.astype("datetime64[D]"), unit="D").astype(object)
    text[np.isnat(values)] = None
    return text.tolist()


def _write_applicants(
    applications: pd.DataFrame, labels: pd.DataFrame, source: str, as_of: date, summary: ImportSummary
) -> tuple[pd.Series, np.ndarray]:
    """Insert new applicants (with ``labels``) and update changed ones.

    Returns (pk by app_id, the app_ids stored before)."""
    stored = pd.concat(
        [
            queryset_frame(
                Applicant.objects.filter(app_id__in=part.tolist())
                .order_by()
                .values_list("pk", "app_id", *ATTRIBUTE_FIELDS, *LABEL_FIELDS, *dates_as_text("labelled_as_of")),
                ["pk", "app_id", *ATTRIBUTE_FIELDS, *STORED_LABEL_COLUMNS],
            )
            for part in _parts(applications["app_id"].to_numpy(), APP_IDS_PER_QUERY)
        ],
        ignore_index=True,
    ).set_index("app_id")
    summary.stored_labels = stored[STORED_LABEL_COLUMNS]
    merged = applications.set_index("app_id").join(stored.drop(columns=STORED_LABEL_COLUMNS), suffixes=("", "_stored"))
    merged = merged.join(labels.set_index("app_id"))
    is_new = merged["pk"].isna().to_numpy()
    changed = np.zeros(len(merged), dtype=bool)
    for column in ATTRIBUTE_FIELDS:
        changed |= merged[column].astype(object).to_numpy() != merged[f"{column}_stored"].astype(object).to_numpy()
    changed &= ~is_new
    summary.applications_created += int(is_new.sum())
    summary.applications_updated += int(changed.sum())
    summary.applications_unchanged += int((~is_new & ~changed).sum())

    to_write = merged[is_new | changed]
    if len(to_write):
        columns = {
            name: to_write[name].astype(object if name in CATEGORY_FIELDS else np.int64).tolist()
            for name in ATTRIBUTE_FIELDS
        }
        n = len(to_write)
        new = is_new[is_new | changed].tolist()
        labels_of = {name: to_write[name].fillna(0).astype(np.int64).tolist() for name in LABEL_FIELDS}
        # A new applicant's labels are final (the file's rows are its whole history); a stored one keeps its
        # labels here and is relabelled from its stored history afterwards.
        now = connection.ops.adapt_datetimefield_value(timezone.now())
        labelled_as_of = as_of.isoformat() if as_of else None
        upsert(
            Applicant,
            ["app_id", *ATTRIBUTE_FIELDS, "source", "created_at", "updated_at", *LABEL_FIELDS, "labelled_as_of"],
            list(
                zip(
                    to_write.index.to_numpy(np.int64).tolist(),
                    *(columns[name] for name in ATTRIBUTE_FIELDS),
                    [source] * n,
                    [now] * n,
                    [now] * n,
                    [
                        value if is_new_one else None
                        for value, is_new_one in zip(labels_of["max_dpd"], new, strict=True)
                    ],
                    [
                        value if is_new_one else None
                        for value, is_new_one in zip(labels_of["kolektibilitas"], new, strict=True)
                    ],
                    [
                        bool(value) if is_new_one else None
                        for value, is_new_one in zip(labels_of["is_npl"], new, strict=True)
                    ],
                    [labelled_as_of if is_new_one else None for is_new_one in new],
                    strict=True,
                )
            ),
            unique=["app_id"],
            update=[*ATTRIBUTE_FIELDS, "source", "updated_at"],
        )
    pk_by_app = pd.concat(
        [
            queryset_frame(
                Applicant.objects.filter(app_id__in=part.tolist()).order_by().values_list("app_id", "pk"),
                ["app_id", "pk"],
            )
            for part in _parts(merged.index[is_new].to_numpy(), APP_IDS_PER_QUERY)
        ]
        + [merged.loc[~is_new, "pk"].reset_index()],
        ignore_index=True,
    )
    return pd.Series(pk_by_app["pk"].astype(np.int64).to_numpy(), index=pk_by_app["app_id"].to_numpy()), merged.index[
        ~is_new
    ].to_numpy()


def _compare_with_stored(installments: pd.DataFrame, stored_pks: list[int]) -> tuple[np.ndarray, np.ndarray]:
    """Which of ``installments`` are new, and which differ from the stored row with the same due date."""
    if not stored_pks:
        return np.ones(len(installments), dtype=bool), np.zeros(len(installments), dtype=bool)
    stored = queryset_frame(
        Installment.objects.filter(applicant_id__in=stored_pks)
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


def _write_installments(accepted: pd.DataFrame, pk_by_app: pd.Series, stored_apps: np.ndarray, summary) -> set:
    """Insert new installments and update changed ones, ``APP_IDS_PER_QUERY`` applications at a time;
    returns the primary keys of the applicants with an installment written."""
    touched: set = set()
    installments = pd.DataFrame(
        {
            "applicant_id": accepted["app_id"].map(pk_by_app).astype(np.int64).to_numpy(),
            "due_date": accepted["due_date"].astype("datetime64[s]").to_numpy(),
            "paid_date": accepted["paid_date"].astype("datetime64[s]").to_numpy(),
            "due_amount": accepted["due_amount"].to_numpy(),
            "paid_amount": accepted["paid_amount"].to_numpy(),
        }
    ).sort_values(["applicant_id", "due_date"], ignore_index=True)
    stored_pks = set(pk_by_app[pk_by_app.index.isin(stored_apps)].tolist())
    applicant_ids = installments["applicant_id"].to_numpy()
    boundaries = np.flatnonzero(np.diff(applicant_ids)) + 1  # where a new applicant's rows begin
    starts = np.concatenate([[0], boundaries])[::APP_IDS_PER_QUERY]
    ends = np.append(starts[1:], len(installments))
    for start, end in zip(starts.tolist(), ends.tolist(), strict=True):
        part = installments.iloc[start:end]
        stored_here = [pk for pk in np.unique(part["applicant_id"].to_numpy()).tolist() if pk in stored_pks]
        is_new, changed = _compare_with_stored(part, stored_here)
        summary.installments_created += int(is_new.sum())
        summary.installments_updated += int(changed.sum())
        summary.installments_unchanged += int((~is_new & ~changed).sum())
        to_write = part[is_new | changed]
        if to_write.empty:
            continue
        touched.update(to_write["applicant_id"].unique().tolist())
        rows = zip(
            to_write["applicant_id"].tolist(),
            _dates(to_write["due_date"].to_numpy()),
            _dates(to_write["paid_date"].to_numpy()),
            to_write["due_amount"].astype(np.int64).tolist(),
            to_write["paid_amount"].astype(np.int64).tolist(),
            strict=True,
        )
        upsert(
            Installment,
            ["applicant", "due_date", *INSTALLMENT_VALUE_FIELDS],
            list(rows),
            unique=["applicant", "due_date"],
            update=INSTALLMENT_VALUE_FIELDS,
            expect_new=not stored_here,
        )
    return touched


# PostgreSQL advisory lock key of the import's partition transactions (any constant no other code uses).
IMPORT_LOCK_KEY = 0x4E504C_494D50  # "NPL" "IMP"


def _one_import_writes_at_a_time() -> None:
    """Two imports of overlapping files each read what is stored, then write: without a lock both
    would read "not stored yet" and report the same applications as created. PostgreSQL: a
    transaction-scoped advisory lock serialises the partitions of simultaneous imports (they still
    interleave, one partition at a time), so each import's counts are what it actually wrote.
    SQLite's write transactions (``transaction_mode IMMEDIATE``) are serialised already."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [IMPORT_LOCK_KEY])


def _import_partition(accepted: pd.DataFrame, source: str, as_of: date, summary: ImportSummary) -> None:
    """Write one partition's accepted rows and their labels, in one transaction."""
    history = accepted[["app_id", "due_date", "paid_date", "due_amount"]]
    labels = label_installments(history, as_of)  # from the file's rows: final for new applicants
    applications = accepted.drop_duplicates("app_id")[["app_id", *ATTRIBUTE_FIELDS]]
    with transaction.atomic():
        _one_import_writes_at_a_time()
        pk_by_app, stored_apps = _write_applicants(applications, labels, source, as_of, summary)
        touched = _write_installments(accepted, pk_by_app, stored_apps, summary)
        summary.labelling.add(labels[~labels["app_id"].isin(stored_apps)])
        # A stored applicant is relabelled from its whole stored history (which may hold installments the
        # file does not list) unless nothing of it changed and it is already labelled as of this date.
        stored = summary.stored_labels
        current = stored.index[(stored["labelled_as_of"] == as_of.isoformat()).to_numpy()]
        unchanged = pk_by_app.index.isin(current) & ~np.isin(pk_by_app.to_numpy(), list(touched))
        unchanged_apps = pk_by_app.index[unchanged]
        summary.labelling.add(stored.loc[unchanged_apps, LABEL_FIELDS].reset_index(drop=True).astype(np.int64))
        relabel = np.setdiff1d(stored_apps, unchanged_apps)
        if len(relabel):
            summary.labelling.merge(label_applications(as_of, app_ids=relabel))


def import_loan_file(
    path,
    *,
    as_of: date | None = None,
    report_path=None,
    source: str | None = None,
    progress: bool | None = None,
    **reading,
) -> ImportSummary:
    """Import a loan file (one row per installment, see ``docs/data-format.md``) and label it.

    - ``as_of``: the date the imported applications are labelled as of; default the latest due or
      paid date among the file's valid rows.
    - ``report_path``: where to write the rejection report (CSV: line, app_id, column, value,
      reason; one line per bad cell, line 1 being the header). Nothing is written when ``None``;
      the summary carries the first rejections either way.
    - ``source``: recorded on each applicant; default the file name.
    - ``progress``: tqdm progress bars on stderr; ``None`` shows them for long files on a terminal.
    - ``reading``: ``chunk_rows`` / ``partition_bytes`` of :func:`applicants.loan_file.read_loan_file`.

    Raises :class:`applicants.loan_file.LoanFileError` (and writes nothing) when the file cannot be
    read as a loan file. Rows with errors are not errors of the import: they are reported, and
    their applications skipped.
    """
    path = Path(path)
    if report_path is not None:
        report_folder = Path(report_path).resolve().parent
        if not report_folder.is_dir() or not os.access(report_folder, os.W_OK):
            raise LoanFileError(
                gettext("%(path)s: cannot write the rejection report there (no such writable folder).")
                % {"path": report_path}
            )
    summary = ImportSummary(path=str(path), source=source or path.name)
    with read_loan_file(path, installments=True, progress=progress, **reading) as loan_file:
        summary.rows_read = loan_file.rows_read
        summary.ignored_columns = loan_file.ignored_columns
        if as_of is None and loan_file.latest_date is not None:
            as_of = pd.Timestamp(loan_file.latest_date).date()
        summary.as_of = as_of
        summary.labelling = LabellingSummary(as_of=as_of)
        for accepted in loan_file.partitions():
            _import_partition(accepted, summary.source, as_of, summary)
        summary.rejected_rows = loan_file.rejected_rows
        summary.rejected_applications = loan_file.rejected_applications
        refresh_planner_statistics(Applicant, Installment)
        loan_file.write_report(Path(report_path) if report_path is not None else None)
        summary.report_path = str(report_path) if report_path is not None else None
        summary.rejections_preview = loan_file.report_preview
    return summary
