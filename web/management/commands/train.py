"""``python manage.py train``: train, register and (if better) activate a model version, synchronously."""

from datetime import date

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from credit.model_search import PROFILES, SCORECARD, UNCERTAIN_BELOW_NPL
from scoring.policies import current_policy
from training.models import TrainingRun
from training.services import TrainingFailed, leaderboard_line, train_model_version


def parse_date(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise CommandError(f"--as-of must be a date like 2019-06-30, got {value!r}") from None


# --candidate: what the command line says → what training registers (None: the rule's choice).
CANDIDATES = {"search": None, "scorecard": SCORECARD}


class Command(BaseCommand):
    help = "Search every algorithm × balancing, register the best model version, and activate it if it is better."

    def add_arguments(self, parser):
        parser.add_argument("--profile", choices=sorted(PROFILES), default="quick", help="how hard to search")
        parser.add_argument("--as-of", default=None, help="label applicants as of this date (default: latest in data)")
        parser.add_argument("--seed", type=int, default=7, help="random seed (same data + seed → same model)")
        parser.add_argument("--out-of-time", action="store_true", help="test on the most recently disbursed loans")
        parser.add_argument(
            "--candidate",
            choices=sorted(CANDIDATES),
            default="search",
            help="which candidate to register: the one the one-standard-error rule chooses (search, the default) "
            "or the credit scorecard (scorecard), deliberately; every candidate is searched either way",
        )

    def handle(self, *args, profile, as_of, seed, out_of_time, candidate, **options):
        as_of_date = parse_date(as_of) if as_of else None
        requested = CANDIDATES[candidate]
        run = TrainingRun.objects.create(
            parameters={
                "profile": profile,
                "as_of": as_of_date.isoformat() if as_of_date else None,
                "seed": seed,
                "out_of_time": out_of_time,
                "source": "manage.py train",
                **({"candidate": requested} if requested else {}),
            },
            status=TrainingRun.Status.QUEUED,
        )
        quiet = options["verbosity"] == 0
        with tqdm(total=100, unit="%", disable=quiet, file=self.stderr._out, leave=True) as bar:

            def show(percent: int, step: str):
                bar.update(max(0, percent - bar.n))
                bar.set_description(step[:60])

            policy = current_policy()  # the rules training is for: the active decision policy's
            try:
                version = train_model_version(
                    run,
                    profile=profile,
                    as_of=as_of_date,
                    seed=seed,
                    out_of_time=out_of_time,
                    progress=show,
                    recall_target=policy.recall_target,
                    score_scaling=policy.parameters,
                    candidate=requested,
                )
            except TrainingFailed as exc:
                raise CommandError(f"Training run #{run.pk} failed: {exc}") from exc

        metrics = version.metrics
        state = "ACTIVE" if version.is_active else "registered inactive"
        self.stdout.write(
            f"Training run #{run.pk} succeeded: {version.name} (version #{version.pk}, {state}), "
            f"threshold {version.threshold:.4f}"
        )
        selection = metrics.get("selection") or {}
        if selection.get("requested"):
            self.stdout.write(
                f"Registered the requested candidate {selection['chosen']}; the one-standard-error rule would have "
                f"chosen {selection['rule_choice']}."
            )
        if selection:
            self.stdout.write(
                f"Chosen by cross-validated {selection['metric']} over {selection['folds']} shared folds, "
                f"{selection['rule']} rule: {selection['chosen']} {selection['chosen_cv_mean']:.3f} ± "
                f"{selection['chosen_cv_se']:.3f}; best mean {selection['best_mean']} "
                f"{selection['best_cv_mean']:.3f} ± "
                f"{selection['best_cv_se']:.3f}"
            )
        for row in run.leaderboard:
            self.stdout.write(f"  {leaderboard_line(row)}")
        intervals = metrics.get("intervals") or {}

        def figure(name: str, label: str, digits: int = 3) -> str:
            low_high = intervals.get(name)
            span = f" [{low_high[0]:.{digits}f}, {low_high[1]:.{digits}f}]" if low_high else ""
            return f"{label} {metrics[name]:.{digits}f}{span}"

        self.stdout.write(
            f"Test ({metrics['applicants']} applicants, {metrics['npl']} NPL; 95 % bootstrap intervals in brackets): "
            + ", ".join(
                figure(name, label, 4 if name == "brier" else 3)
                for name, label in (
                    ("precision", "precision"),
                    ("recall", "recall"),
                    ("f1", "F1"),
                    ("accuracy", "accuracy"),
                    ("roc_auc", "ROC AUC"),
                    ("pr_auc", "PR AUC"),
                    ("brier", "Brier"),
                )
            )
        )
        if metrics.get("uncertain"):
            self.stdout.write(
                self.style.WARNING(
                    f"Warning: the book has only {version.training_data.get('npl')} NPL applicants (fewer than "
                    f"{UNCERTAIN_BELOW_NPL}): every figure above is uncertain; read the intervals."
                )
            )
        self.stdout.write(metrics["champion_comparison"]["reason"])
