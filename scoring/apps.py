from django.apps import AppConfig


class ScoringConfig(AppConfig):
    name = "scoring"
    verbose_name = "Scoring"

    def ready(self):
        from django.db.models.signals import post_delete, post_save

        from training.models import ModelVersion
        from training.signals import active_version_changed

        from . import checks  # noqa: F401 (registers the scorecard settings check)
        from .engine import engine

        # The process that changes the active version, or any version row, reads it again at once.
        active_version_changed.connect(engine.forget_active_version, dispatch_uid="scoring-engine-active")
        post_save.connect(engine.forget_active_version, sender=ModelVersion, dispatch_uid="scoring-engine-saved")
        post_delete.connect(engine.forget_active_version, sender=ModelVersion, dispatch_uid="scoring-engine-deleted")
