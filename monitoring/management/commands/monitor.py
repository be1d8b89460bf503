"""``python manage.py monitor [--version N] [--from DATE] [--to DATE] [--channel C]``: write a monitoring report."""

from datetime import date

from django.core.management.base import BaseCommand, CommandError

from monitoring.alerts import alert_message
from monitoring.services import scheduled_period, write_monitoring_report
from scoring.models import Prediction
from training.models import ModelVersion


def _date(option: str):
    def parse(text: str) -> date:
        try:
            return date.fromisoformat(text)
        except ValueError:
            raise CommandError(f"{option} must be a date written YYYY-MM-DD, got {text!r}") from None

    return parse


class Command(BaseCommand):
    help = (
        "Monitor a model version over a period: population stability of its predictions, back-testing of "
        "earlier predictions whose outcomes are known, status and alerts. Writes (or updates) the report of "
        "that period. See docs/monitoring.md."
    )

    def add_base_argument(self, parser, *args, **kwargs):
        if "--version" in args:  # here --version names a model version, not Django's version
            return
        super().add_base_argument(parser, *args, **kwargs)

    def add_arguments(self, parser):
        parser.add_argument("--version", type=int, default=None, help="model version id (default: the active one)")
        parser.add_argument("--from", dest="start", type=_date("--from"), default=None, help="first day, YYYY-MM-DD")
        parser.add_argument("--to", dest="end", type=_date("--to"), default=None, help="last day (default today)")
        parser.add_argument(
            "--channel", choices=Prediction.Channel.values, default="", help="only this channel (default every one)"
        )

    def handle(self, *args, **options):
        if options["version"] is not None:
            version = ModelVersion.objects.filter(pk=options["version"]).first()
            if version is None:
                raise CommandError(f"--version: there is no model version {options['version']}")
        else:
            version = ModelVersion.objects.filter(is_active=True).first()
            if version is None:
                raise CommandError("No model version is active: name one with --version")
        default_start, default_end = scheduled_period()
        end = options["end"] or default_end
        start = options["start"] or min(default_start, end)
        if start > end:
            raise CommandError(f"--from {start} is after --to {end}")
        report = write_monitoring_report(version, start, end, options["channel"])
        self.stdout.write(
            f"Monitoring report #{report.pk} of {version} for {start}–{end}: {report.status.upper()}, "
            f"{report.figures['stability']['predictions']:,} predictions in the period, "
            f"{report.figures['backtest']['overall']['n']:,} back-tested"
        )
        for alert in report.alerts:
            self.stdout.write(f"  [{alert['level']}] {alert_message(alert)}")
