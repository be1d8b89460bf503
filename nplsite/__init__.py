"""The NPL credit-risk platform's Django project: settings, URLs, Celery app, roles and health."""

from nplsite.celery import app as celery_app

__all__ = ("celery_app",)
