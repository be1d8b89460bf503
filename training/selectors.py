"""Reads about model versions and training runs."""

from training.models import ModelVersion, TrainingRun


def get_active_model_version() -> ModelVersion | None:
    """The version scoring uses, read from the database so every process agrees on it."""
    return ModelVersion.objects.filter(is_active=True).first()


def get_previous_model_version() -> ModelVersion | None:
    """The version a roll-back would activate: the most recently activated one that is not active now."""
    return (
        ModelVersion.objects.filter(activated_at__isnull=False, is_active=False)
        .order_by("-activated_at", "-pk")
        .first()
    )


def list_model_versions():
    return ModelVersion.objects.order_by("-trained_at", "-id")


def recent_training_runs(limit: int = 20):
    return TrainingRun.objects.select_related("started_by", "model_version").order_by("-created_at", "-id")[:limit]
