"""``python manage.py generate_loans``: write a synthetic loan book and its true outcomes as CSV."""

from datetime import date
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from applicants.generator import RISK_SETTINGS, parse_shift, write_loan_book


def _iso_date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise CommandError(f"--as-of must be a date written YYYY-MM-DD, got {text!r}") from None


def _book_date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise CommandError(f"--book-as-of must be a date written YYYY-MM-DD, got {text!r}") from None


def _shift(text: str):
    try:
        return parse_shift(text)
    except ValueError as exc:
        raise CommandError(f"--shift: {exc}") from None


class Command(BaseCommand):
    help = (
        "Generate a realistic loan book in the raw export format (one row per installment) and a "
        "truth file with each application's true NPL probability and outcome. See docs/dataset-generator.md."
    )

    def add_arguments(self, parser):
        parser.add_argument("--applicants", type=int, default=10_000, help="number of applications (default 10000)")
        parser.add_argument("--seed", type=int, default=0, help="random seed; same seed, same files (default 0)")
        parser.add_argument(
            "--as-of",
            type=_iso_date,
            default=None,
            help="date the histories run up to, YYYY-MM-DD (default today)",
        )
        parser.add_argument("--out", type=Path, default=Path("loans.csv"), help="loan book CSV (default loans.csv)")
        parser.add_argument(
            "--truth",
            type=Path,
            default=None,
            help="truth CSV: app_id, true_npl_probability, true_npl (default <out>_truth.csv)",
        )
        parser.add_argument("--first-app-id", type=int, default=1, help="app_id of the first application (default 1)")
        parser.add_argument(
            "--risk",
            choices=sorted(RISK_SETTINGS),
            default="standard",
            help=(
                "how strongly the attributes decide the outcome: standard (NPL about 12 %%, oracle ROC AUC about 0.86) "
                "or real-like (NPL about 24 %%, oracle ROC AUC about 0.74, like real lenders' books); default standard"
            ),
        )
        parser.add_argument(
            "--shift",
            type=_shift,
            default=None,
            help="applicants shifted in known ways, e.g. income=-0.2,otr=+0.3,pekerjaan=Buruh:+0.1 "
            "(numbers: relative change; categories: CATEGORY:SHARE of the population moved into it)",
        )
        parser.add_argument(
            "--book-as-of",
            type=_book_date,
            default=None,
            help="the later payment histories of an earlier book: that book's as-of date (same --seed, "
            "--applicants, --first-app-id, --risk); its loans keep their dates and the histories run on to --as-of",
        )

    def handle(self, *args, **options):
        out_path: Path = options["out"]
        truth_path: Path = options["truth"] or out_path.with_name(f"{out_path.stem}_truth.csv")
        as_of: date = options["as_of"] or date.today()
        if out_path.resolve() == truth_path.resolve():
            raise CommandError(f"--out and --truth must be different files, both are {out_path}")
        for path in (out_path, truth_path):
            if not path.parent.is_dir():
                raise CommandError(f"cannot write {path}: folder {path.parent} does not exist")
        try:
            summary = write_loan_book(
                out_path,
                truth_path,
                n_applicants=options["applicants"],
                seed=options["seed"],
                as_of=as_of,
                first_app_id=options["first_app_id"],
                risk=RISK_SETTINGS[options["risk"]],
                shift=options["shift"],
                book_as_of=options["book_as_of"],
            )
        except ValueError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(
            f"Wrote {summary.installments:,} installments of {summary.applicants:,} applications "
            f"(as of {as_of.isoformat()}, seed {options['seed']}, risk {options['risk']}) to {out_path}; "
            f"{summary.npl_applicants:,} NPL ({summary.npl_rate:.1%}), truth in {truth_path}"
        )
