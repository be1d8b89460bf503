from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from credit import steps
from jobs.models import BackgroundJob


class ModelVersion(models.Model):
    """One trained, stored model: the winner of a training run, with its metrics and artifact."""

    class Status(models.TextChoices):
        CANDIDATE = "candidate", _("Candidate (inactive)")
        ACTIVE = "active", _("Active")
        RETIRED = "retired", _("Retired")

    name = models.CharField(_("name"), max_length=120, help_text=_("e.g. XGBClassifier-oversampling"))
    algorithm = models.CharField(_("algorithm"), max_length=60)
    balancing = models.CharField(_("balancing"), max_length=40)
    hyperparameters = models.JSONField(_("hyperparameters"), default=dict)
    threshold = models.FloatField(_("decision threshold"))
    metrics = models.JSONField(_("test metrics"), default=dict)
    training_data = models.JSONField(
        _("training data summary"), default=dict, help_text=_("as_of, applicant counts per split, NPL rate")
    )
    trained_at = models.DateTimeField(_("training date"), auto_now_add=True)
    artifact_path = models.CharField(_("artifact path"), max_length=500)
    artifact_sha256 = models.CharField(_("artifact SHA-256"), max_length=64)
    artifact_size = models.BigIntegerField(_("artifact size (bytes)"))
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.CANDIDATE)
    is_active = models.BooleanField(_("active"), default=False)
    activated_at = models.DateTimeField(_("activated at"), null=True, blank=True)

    class Meta:
        verbose_name = _("model version")
        verbose_name_plural = _("model versions")
        ordering = ["-trained_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["is_active"], condition=Q(is_active=True), name="one_active_model_version"),
        ]

    def __str__(self):
        return f"{self.name} #{self.pk}"


class TrainingRun(BackgroundJob):
    """One request to train: who asked, with what parameters, how far it got, what it produced.

    Its lifecycle (status, progress, heartbeat, error, times) is every background job's
    (``jobs/models.py``, ``jobs/lifecycle.py``)."""

    kind = "training run"

    parameters = models.JSONField(_("parameters"), default=dict)
    current_step = models.CharField(_("current step"), max_length=200, blank=True)
    log = models.TextField(_("log"), blank=True)
    leaderboard = models.JSONField(_("leaderboard"), default=list, blank=True)
    model_version = models.ForeignKey(
        ModelVersion,
        verbose_name=_("model version"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="training_runs",
    )

    class Meta:
        verbose_name = _("training run")
        verbose_name_plural = _("training runs")
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return gettext("Training run #%(id)s (%(status)s)") % {"id": self.pk, "status": self.get_status_display()}

    def failure_fields(self, message: str, now) -> list[str]:
        self.current_step = steps.FAILED.text()
        self.log = f"{self.log}{timezone.localtime(now):%H:%M:%S} FAILED: {message}\n"
        return ["current_step", "log"]


class VersionValidation(models.Model):
    """What a validator re-checks of a version, recorded when it was trained (``training.validation``).

    ``test_predictions``: the held-out test applicants, column by column (``app_id``, ``is_npl``,
    ``probability`` — the registered model's calibrated NPL probability — ``otr``, ``dp`` and
    ``scorecard_probability``, the scorecard's own, or ``None``), in ``app_id`` order.
    ``figures``: what depends on the model alone (``credit.validation.validation_figures``: KS, the
    gains table, calibration by band, the characteristic analysis, the scorecard's discrimination).
    ``scorecard``: the scorecard fitted beside the model (``source``, ``hyperparameters``,
    ``points_table``, ``cv_mean``, ``cv_se``; or ``error``). Figures that depend on a decision policy
    (credit scores, grades) are computed from the test predictions when shown.
    """

    model_version = models.OneToOneField(
        ModelVersion, on_delete=models.CASCADE, related_name="validation", verbose_name=_("model version")
    )
    test_predictions = models.JSONField(_("test predictions"))
    figures = models.JSONField(_("validation figures"))
    scorecard = models.JSONField(_("scorecard"), default=dict)
    created_at = models.DateTimeField(_("recorded at"), auto_now_add=True)

    class Meta:
        verbose_name = _("version validation")
        verbose_name_plural = _("version validations")

    def __str__(self):
        return f"Validation of {self.model_version}"


class SearchSnapshot(models.Model):
    """A training run's search data, handed to the workers once (``training.distributed``).

    When the search is spread over Celery workers, the run's first task reads the labelled applicants
    once, holds out the test applicants and makes the shared folds (``credit.model_search.plan_search``)
    and stores that plan here; every candidate-fold task loads it from here (not from the loan tables)
    and the last task deletes it. The database is the one place every worker, on any machine, already
    reaches. ``data`` is ``credit.model_search.plan_to_bytes`` (a compressed joblib pickle, written only
    by this application: ``sha256`` is checked before it is read).
    """

    run = models.OneToOneField(
        TrainingRun,
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="search_snapshot",
        verbose_name=_("training run"),
    )
    data = models.BinaryField(_("search data"))
    sha256 = models.CharField(_("SHA-256"), max_length=64)
    fits = models.PositiveIntegerField(_("fits"))
    fits_done = models.PositiveIntegerField(_("fits done"), default=0)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("search snapshot")
        verbose_name_plural = _("search snapshots")

    def __str__(self):
        return f"Search snapshot of training run #{self.run_id}"
