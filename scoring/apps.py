from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ScoringConfig(AppConfig):
    name = "scoring"
    verbose_name = _("Scores and predictions")

    def ready(self):
        from django.db.models.signals import post_delete, post_save

        from scoring import checks  # noqa: F401 (registers the scorecard settings check)
        from scoring.engine import engine
        from scoring.models import DecisionPolicy
        from scoring.policies import active_policy_changed, reading
        from scoring.policy_services import ensure_active_policy
        from training.models import ModelVersion
        from training.signals import active_version_changed

        # The process that activates a version reads the active version again at once.
        active_version_changed.connect(engine.forget_active_version, dispatch_uid="scoring-engine-active")
        post_save.connect(engine.forget_active_version, sender=ModelVersion, dispatch_uid="scoring-engine-saved")
        post_delete.connect(engine.forget_active_version, sender=ModelVersion, dispatch_uid="scoring-engine-deleted")
        # Likewise for the active decision policy.
        active_policy_changed.connect(reading.forget, dispatch_uid="scoring-policy-active")
        post_save.connect(reading.forget, sender=DecisionPolicy, dispatch_uid="scoring-policy-saved")
        post_delete.connect(reading.forget, sender=DecisionPolicy, dispatch_uid="scoring-policy-deleted")
        reading.make_first_policy = ensure_active_policy
