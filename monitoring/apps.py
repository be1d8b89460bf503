from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MonitoringConfig(AppConfig):
    name = "monitoring"
    verbose_name = _("Monitoring")

    def ready(self):
        from monitoring.services import record_reference_distribution
        from training.models import ModelVersion
        from training.signals import model_version_registered

        # A newly trained version's monitoring reference: its development applicants, binned once.
        model_version_registered.connect(
            lambda sender, version, model, development, development_scores=None, **kwargs: (
                record_reference_distribution(version, model, development, scores=development_scores)
            ),
            sender=ModelVersion,
            weak=False,
            dispatch_uid="monitoring-reference-distribution",
        )
