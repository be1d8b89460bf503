from datetime import date

from django.core.management.base import BaseCommand, CommandError

from applicants.loan_file import LoanFileError
from applicants.services import import_loan_file


def _as_of(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise CommandError(f"--as-of must be a date as YYYY-MM-DD, got {text!r}.") from None


class Command(BaseCommand):
    help = (
        "Import a loan file (CSV, one row per installment; see docs/data-format.md), then label "
        "the imported applications (max DPD, kolektibilitas, NPL). Re-importing the same file changes "
        "nothing; changed rows are updated. Rows with errors are rejected with their whole application "
        "and reported, one line per bad cell: the summary lists the first rejections, --report PATH writes all of "
        "them as CSV (line, app_id, column, value, reason; the header is line 1). Without --report no file is "
        "written. Commas or semicolons separate the columns. An unreadable file (another delimiter, missing or "
        "duplicated columns, empty, binary, not UTF-8) stops the import with one message and writes nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="the loan file (CSV, UTF-8, comma- or semicolon-separated)")
        parser.add_argument(
            "--as-of",
            type=_as_of,
            default=None,
            metavar="YYYY-MM-DD",
            help="label as of this date (default: the latest due or paid date among the file's valid rows)",
        )
        parser.add_argument(
            "--report", default=None, metavar="PATH", help="write every rejected row and reason to this CSV file"
        )
        parser.add_argument("--source", default=None, help="recorded on each applicant (default: the file name)")
        parser.add_argument(
            "--no-progress", action="store_true", help="no progress bars (they show on a terminal for long files)"
        )

    def handle(self, *args, **options):
        try:
            summary = import_loan_file(
                options["file"],
                as_of=options["as_of"],
                report_path=options["report"],
                source=options["source"],
                progress=False if options["no_progress"] else None,
            )
        except LoanFileError as exc:
            raise CommandError(str(exc)) from None

        write = self.stdout.write
        as_of = summary.as_of.isoformat() if summary.as_of else "-"
        write(f"Imported {summary.path} ({summary.rows_read} rows read), labelled as of {as_of}:")
        write(
            f"  applications: {summary.applications_imported} imported ({summary.applications_created} new, "
            f"{summary.applications_updated} updated, {summary.applications_unchanged} unchanged)"
        )
        write(
            f"  installments: {summary.installments_imported} imported ({summary.installments_created} new, "
            f"{summary.installments_updated} updated, {summary.installments_unchanged} unchanged)"
        )
        if summary.labelling is not None:
            write(f"  labelled: {summary.labelling.labelled} applications, {summary.labelling.npl} NPL")
        write(f"  rejected: {summary.rejected_rows} rows, {summary.rejected_applications} applications")
        if summary.ignored_columns:
            write(f"  ignored columns: {', '.join(summary.ignored_columns)}")
        if summary.rejections_preview:
            shown = len(summary.rejections_preview)
            write(self.style.WARNING(f"Rejections (first {shown}, by line):"))
            for record in summary.rejections_preview:
                where = f"line {record['line']}, app {record['app_id'] or '?'}"
                if record["column"]:
                    where += f", {record['column']} = {record['value']!r}"
                write(f"  {where}: {record['reason']}")
        if summary.report_path:
            write(f"Rejection report: {summary.report_path}")
        elif summary.rejected_rows:
            write("Run again with --report PATH for the full list of rejections as CSV.")
