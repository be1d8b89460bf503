"""``python manage.py seed_demo``: what `make run` needs on a fresh database — a generated loan book
imported and labelled, and a trained, active model. Each step runs only when it is missing."""

from datetime import date

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand

from applicants.generator import write_loan_book
from applicants.models import Applicant
from applicants.services import import_loan_file
from training.selectors import get_active_model_version

DEMO_AS_OF = date(2026, 6, 30)


class Command(BaseCommand):
    help = "Seed the demo: a generated loan book (if there are no applicants) and a quick model (if none is active)."

    def add_arguments(self, parser):
        parser.add_argument("--applicants", type=int, default=3000, help="size of the generated demo book")
        parser.add_argument("--seed", type=int, default=7)

    def handle(self, *args, applicants, seed, **options):
        if Applicant.objects.exists():
            self.stdout.write(f"Demo data: {Applicant.objects.count()} applicants already present.")
        else:
            folder = settings.DATA_DIR / "demo"
            folder.mkdir(parents=True, exist_ok=True)
            loans, truth = folder / "loans.csv", folder / "truth.csv"
            written = write_loan_book(loans, truth, applicants, seed, DEMO_AS_OF)
            summary = import_loan_file(loans, as_of=DEMO_AS_OF, source="demo book", progress=False)
            self.stdout.write(
                f"Demo data: generated {written.applicants} applicants ({written.installments} installments) "
                f"into {loans}; imported {summary.applications_created} applications as of {DEMO_AS_OF}."
            )
        version = get_active_model_version()
        if version is not None:
            self.stdout.write(f"Model: {version.name} (version #{version.pk}) is active.")
            return
        self.stdout.write("Model: none active, training one with the quick profile…")
        call_command("train", profile="quick", seed=seed, verbosity=options["verbosity"], stdout=self.stdout)
