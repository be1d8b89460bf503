"""``python manage.py generate_loans``: write a synthetic loan book and its true outcomes as CSV."""

from datetime import date
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from applicants.generator import RISK_SETTINGS, write_loan_book


def _iso_date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise CommandError(f"--as-of must be a date written YYYY-MM-DD, got {text!r}") from None


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
            )
        except ValueError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(
            f"Wrote {summary.installments:,} installments of {summary.applicants:,} applications "
            f"(as of {as_of.isoformat()}, seed {options['seed']}, risk {options['risk']}) to {out_path}; "
            f"{summary.npl_applicants:,} NPL ({summary.npl_rate:.1%}), truth in {truth_path}"
        )
