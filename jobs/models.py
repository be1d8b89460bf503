"""The lifecycle every background job shares: training runs and batch-scoring jobs.

:class:`BackgroundJob` is an abstract model: each kind of job is a table of its own with these
fields plus its own (``training.TrainingRun``: parameters, log, leaderboard; ``scoring.BatchScoringJob``:
the uploaded file and its summary), and one set of rules, in ``jobs/lifecycle.py``, moves them
queued → running → succeeded/failed, keeps their heartbeat and fails those whose worker died.
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class BackgroundJob(models.Model):
    """Work a Celery worker does for a user: who asked and when, how far it got, how it ended."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Running")
        SUCCEEDED = "succeeded", _("Succeeded")
        FAILED = "failed", _("Failed")

    #: What kind of work this is, in words (each concrete model sets it).
    kind = ""

    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("started by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("requested at"), auto_now_add=True)
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    heartbeat_at = models.DateTimeField(_("last heartbeat"), null=True, blank=True)
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.QUEUED)
    progress = models.PositiveSmallIntegerField(_("progress (%)"), default=0)
    error = models.TextField(_("error"), blank=True)
    celery_task_id = models.CharField(_("worker task id"), max_length=64, blank=True)
    retry_of = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="retries",
        verbose_name=_("retry of"),
        help_text=_("The failed job this one started again."),
    )

    class Meta:
        abstract = True

    @property
    def finished(self) -> bool:
        return self.status in (self.Status.SUCCEEDED, self.Status.FAILED)

    def failure_fields(self, message: str, now) -> list[str]:
        """Set fields of this kind of job that record a failure (besides the shared ones); their names."""
        return []
