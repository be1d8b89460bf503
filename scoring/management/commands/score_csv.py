"""``python manage.py score_csv IN.csv OUT.csv [--report PATH] [--language id|en]``: score every application of a
loan file."""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import translation

from applicants.loan_file import LoanFileError
from scoring.batch import score_loan_file
from scoring.engine import ScoringUnavailableError


class Command(BaseCommand):
    help = (
        "Score a loan file (app_id and the nine applicant columns; installment columns are ignored) with the active "
        "model: one output row per application with every result field. Rows with errors go to a report with their "
        "line numbers; the valid applications are still scored. Every score is stored (channel batch)."
    )

    def add_arguments(self, parser):
        parser.add_argument("in_path", metavar="IN.csv", help="loan file to score")
        parser.add_argument("out_path", metavar="OUT.csv", help="where to write the scores")
        parser.add_argument(
            "--report", default=None, help="where to write the error report (default: OUT-errors.csv when needed)"
        )
        parser.add_argument(
            "--language",
            choices=[code for code, _ in settings.LANGUAGES],
            default=settings.LANGUAGE_CODE,
            help="the language of the reasons and messages in the output (default: LANGUAGE_CODE, %(default)s)",
        )

    def handle(self, *args, in_path, out_path, report, language, **options):
        try:
            with translation.override(language):
                summary = score_loan_file(in_path, out_path, report_path=report)
        except (LoanFileError, ScoringUnavailableError) as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(
            f"Read {summary.rows_read} rows; scored {summary.applications_scored} applications"
            + (f" with {summary.model_version}" if summary.model_version else "")
            + f" → {summary.out_path}"
        )
        if summary.rejected_rows:
            self.stdout.write(
                f"Rejected {summary.rejected_rows} rows of {summary.rejected_applications} applications; "
                f"every reason is in {summary.report_path}. First ones:"
            )
            for row in summary.report_preview:
                column = f" {row['column']}" if row["column"] else ""
                self.stdout.write(f"  line {row['line']} (app_id {row['app_id']}){column}: {row['reason']}")
