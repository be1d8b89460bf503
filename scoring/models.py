"""Predictions: every score the platform gives, with its input, model version and result — the audit trail."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Prediction(models.Model):
    """One applicant scored by one model version, as it was answered to whoever asked."""

    class Channel(models.TextChoices):
        WEB = "web", _("Web form")
        API = "api", _("REST API")
        BATCH = "batch", _("Batch file")

    class Recommendation(models.TextChoices):
        APPROVE = "approve", _("Approve")
        REVIEW = "review", _("Review")
        DECLINE = "decline", _("Decline")

    applicant = models.ForeignKey(
        "applicants.Applicant",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="predictions",
        verbose_name=_("applicant"),
        help_text=_("empty for an ad hoc request that named no application"),
    )
    input_attributes = models.JSONField(_("input attributes"), help_text=_("the nine attributes as scored"))
    model_version = models.ForeignKey(
        "training.ModelVersion", on_delete=models.PROTECT, related_name="predictions", verbose_name=_("model version")
    )
    npl_probability = models.FloatField(_("NPL probability"))
    is_npl = models.BooleanField(_("predicted NPL"))
    threshold = models.FloatField(_("decision threshold used"))
    credit_score = models.SmallIntegerField(_("credit score"))
    risk_grade = models.CharField(_("risk grade"), max_length=4)
    expected_loss = models.BigIntegerField(_("expected loss (Rp)"))
    recommendation = models.CharField(_("recommendation"), max_length=10, choices=Recommendation.choices)
    reasons = models.JSONField(_("reasons"), default=list)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="predictions",
        verbose_name=_("requested by"),
    )
    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices)
    created_at = models.DateTimeField(_("scored at"), auto_now_add=True)

    class Meta:
        verbose_name = _("prediction")
        verbose_name_plural = _("predictions")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["-created_at", "-id"], name="prediction_created_idx"),
            models.Index(fields=["applicant", "-created_at"], name="prediction_applicant_idx"),
            models.Index(fields=["model_version", "-created_at"], name="prediction_version_idx"),
            models.Index(fields=["is_npl", "-created_at"], name="prediction_label_idx"),
            models.Index(fields=["channel", "-created_at"], name="prediction_channel_idx"),
        ]

    def __str__(self):
        return f"Prediction #{self.pk} ({self.npl_probability:.1%} NPL)"
