"""Reads about model versions and training runs."""

from .models import ModelVersion


def get_active_model_version() -> ModelVersion | None:
    """The version scoring uses, read from the database so every process agrees on it."""
    return ModelVersion.objects.filter(is_active=True).first()
