"""What monitoring keeps: each model version's training-time distribution, and its monitoring reports."""

from django.db import models
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _


class ReferenceDistribution(models.Model):
    """The development population of a model version, binned once: the yardstick of population stability.

    ``attributes``: per attribute and derived ratio, ``{"kind": "number", "edges": [...9 decile
    edges...], "shares": [...], "minimum", "maximum", "mean"}`` or ``{"kind": "category",
    "categories": {value: share}}``; ``score``: the same for the model's NPL probability.
    """

    class Source(models.TextChoices):
        TRAINING = "training", _("Computed at training from the development applicants")
        RECORDED_APPLICANTS = "recorded", _("Computed later from the version's recorded training applicants")

    model_version = models.OneToOneField(
        "training.ModelVersion",
        on_delete=models.CASCADE,
        related_name="reference_distribution",
        verbose_name=_("model version"),
    )
    applicants = models.PositiveIntegerField(_("development applicants"))
    attributes = models.JSONField(_("attribute distributions"))
    score = models.JSONField(_("score distribution"))
    source = models.CharField(_("source"), max_length=20, choices=Source.choices)
    created_at = models.DateTimeField(_("computed at"), auto_now_add=True)

    class Meta:
        verbose_name = _("reference distribution")
        verbose_name_plural = _("reference distributions")

    def __str__(self):
        return gettext("Reference distribution of %(version)s") % {"version": self.model_version}


class MonitoringReport(models.Model):
    """One model version watched over one period: stability, back-testing, status and alerts.

    Unique per (version, period, channel): writing the report of the same period again updates it.
    ``figures`` holds the numbers (see ``monitoring.services.compute_monitoring_figures``);
    ``alerts`` a list of ``{"level": "watch"|"alert", "kind": ..., ...}`` that
    ``monitoring.alerts.alert_message`` puts in words.
    """

    class Status(models.TextChoices):
        NOT_JUDGED = "not_judged", _("Not judged")  # too few predictions (or no reference) to tell
        OK = "ok", _("OK")
        WATCH = "watch", _("Watch")
        ALERT = "alert", _("Alert")

    model_version = models.ForeignKey(
        "training.ModelVersion",
        on_delete=models.CASCADE,
        related_name="monitoring_reports",
        verbose_name=_("model version"),
    )
    period_start = models.DateField(_("period start"))
    period_end = models.DateField(_("period end"))
    channel = models.CharField(_("channel"), max_length=10, blank=True, help_text=_("empty: every channel"))
    status = models.CharField(_("status"), max_length=10, choices=Status.choices)
    figures = models.JSONField(_("figures"), default=dict)
    alerts = models.JSONField(_("alerts"), default=list)
    created_at = models.DateTimeField(_("first written at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("last written at"), auto_now=True)

    class Meta:
        verbose_name = _("monitoring report")
        verbose_name_plural = _("monitoring reports")
        ordering = ["-period_end", "-updated_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["model_version", "period_start", "period_end", "channel"], name="one_report_per_period"
            ),
            models.CheckConstraint(
                condition=models.Q(period_start__lte=models.F("period_end")), name="report_period_in_order"
            ),
        ]
        indexes = [models.Index(fields=["model_version", "-period_end"], name="report_version_period_idx")]

    def __str__(self):
        return f"{self.model_version} {self.period_start}–{self.period_end}: {self.get_status_display()}"


class StabilityDay(models.Model):
    """A closed day of a model version's predictions, counted into the version's stability bins once
    (PostgreSQL): a report over a long period adds up its days' counts instead of reading every
    prediction again (``monitoring.daily_counts``). ``bins`` fingerprints the bins the day was counted
    into (the reference distribution's edges and categories, the features): other bins, other counts.

    A closed day's predictions never change (a prediction is written once, dated when it is made, and
    its first-of-version mark is set then), so its counts stay true."""

    model_version = models.ForeignKey(
        "training.ModelVersion",
        on_delete=models.CASCADE,
        related_name="stability_days",
        verbose_name=_("model version"),
    )
    day = models.DateField(_("day"))
    bins = models.CharField(_("bins fingerprint"), max_length=64)
    counted_at = models.DateTimeField(_("counted at"), auto_now_add=True)

    class Meta:
        verbose_name = _("counted day")
        verbose_name_plural = _("counted days")
        constraints = [
            models.UniqueConstraint(fields=["model_version", "bins", "day"], name="stability_day_counted_once"),
        ]

    def __str__(self):
        return f"{self.model_version} {self.day}"


class StabilityDayCount(models.Model):
    """How many of a counted day's applications of one channel fell into one bin of one feature (bin
    -1: the value was missing), how many of them lay outside the training range, and their sum."""

    stability_day = models.ForeignKey(StabilityDay, on_delete=models.CASCADE, related_name="counts")
    channel = models.CharField(_("channel"), max_length=10)
    feature = models.CharField(_("feature"), max_length=40)
    bin = models.SmallIntegerField(_("bin"))
    count = models.BigIntegerField(_("applications"))
    outside = models.BigIntegerField(_("outside the training range"))
    value_sum = models.FloatField(_("sum of the values"), null=True)

    class Meta:
        verbose_name = _("counted bin")
        verbose_name_plural = _("counted bins")
        constraints = [
            models.UniqueConstraint(
                fields=["stability_day", "channel", "feature", "bin"], name="stability_day_count_once"
            ),
        ]

    def __str__(self):
        return f"{self.stability_day} {self.channel} {self.feature} [{self.bin}]: {self.count}"
