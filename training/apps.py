from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TrainingConfig(AppConfig):
    name = "training"
    verbose_name = _("Model training")

    def ready(self):
        from training import checks  # noqa: F401 (registers the calibration-method check)
