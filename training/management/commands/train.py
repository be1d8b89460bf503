"""``python manage.py train``: train, register and (if better) activate a model version, synchronously."""

from datetime import date

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from training.models import TrainingRun
from training.pipeline import PROFILES
from training.services import TrainingFailed, train_model_version


def parse_date(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise CommandError(f"--as-of must be a date like 2019-06-30, got {value!r}") from None


class Command(BaseCommand):
    help = "Search every algorithm × balancing, register the best model version, and activate it if it is better."

    def add_arguments(self, parser):
        parser.add_argument("--profile", choices=sorted(PROFILES), default="quick", help="how hard to search")
        parser.add_argument("--as-of", default=None, help="label applicants as of this date (default: latest in data)")
        parser.add_argument("--seed", type=int, default=7, help="random seed (same data + seed → same model)")
        parser.add_argument("--out-of-time", action="store_true", help="test on the most recently disbursed loans")

    def handle(self, *args, profile, as_of, seed, out_of_time, **options):
        as_of_date = parse_date(as_of) if as_of else None
        run = TrainingRun.objects.create(
            parameters={
                "profile": profile,
                "as_of": as_of_date.isoformat() if as_of_date else None,
                "seed": seed,
                "out_of_time": out_of_time,
                "source": "manage.py train",
            },
            status=TrainingRun.Status.QUEUED,
        )
        quiet = options["verbosity"] == 0
        with tqdm(total=100, unit="%", disable=quiet, file=self.stderr._out, leave=True) as bar:

            def show(percent: int, step: str):
                bar.update(max(0, percent - bar.n))
                bar.set_description(step[:60])

            try:
                version = train_model_version(
                    run, profile=profile, as_of=as_of_date, seed=seed, out_of_time=out_of_time, progress=show
                )
            except TrainingFailed as exc:
                raise CommandError(f"Training run #{run.pk} failed: {exc}") from exc

        metrics = version.metrics
        state = "ACTIVE" if version.is_active else "registered inactive"
        self.stdout.write(
            f"Training run #{run.pk} succeeded: {version.name} (version #{version.pk}, {state}), "
            f"threshold {version.threshold:.4f}"
        )
        self.stdout.write(
            f"Test: precision {metrics['precision']:.3f}, recall {metrics['recall']:.3f}, F1 {metrics['f1']:.3f}, "
            f"ROC AUC {metrics['roc_auc']:.3f}, PR AUC {metrics['pr_auc']:.3f}, Brier {metrics['brier']:.4f} "
            f"({metrics['applicants']} applicants, {metrics['npl']} NPL)"
        )
        self.stdout.write(metrics["champion_comparison"]["reason"])
