"""The Celery application. Broker and result backend come from settings (Redis or the embedded
filesystem transport); tasks are discovered in each app's ``tasks.py``."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "nplsite.settings")

app = Celery("nplsite")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
