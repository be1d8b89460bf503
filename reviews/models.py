"""The review desk: cases in the review queue, analysts' decisions on them, and the reason codes.

A prediction recommended *review* is in the queue from the moment it is stored, without a row here
(``reviews.selectors.queue``): a :class:`ReviewCase` is written only when someone claims, assigns,
notes, sends or decides it, so scoring writes nothing more. A :class:`ReviewDecision` is stored beside
the prediction it decides, never replacing it: it links the prediction (so its model version,
policy, score and recommendation) and copies what the decider saw — the recommendation, score,
grade and the amount financed — at decision time.
"""

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import get_language, gettext
from django.utils.translation import gettext_lazy as _

from credit import review_desk
from scoring.models import Prediction

NOTE_MAX_LENGTH = 2000


class ReasonCode(models.Model):
    """One entry of the maintained list of decision reasons, labelled in both languages.

    Model admins keep the list in the admin; every change goes through
    :func:`reviews.services.save_reason_code`. A code is never deleted (decisions point at it):
    a retired one is made inactive and no longer offered.
    """

    class AppliesTo(models.TextChoices):
        ANY = "any", _("Any decision")
        APPROVE = "approve", _("Approvals")
        DECLINE = "decline", _("Declines and referrals")

    code = models.CharField(
        _("code"),
        max_length=20,
        unique=True,
        help_text=_("short and stable, capitals, digits and underscores, e.g. STRONG_COLLATERAL"),
    )
    label_en = models.CharField(_("label in English"), max_length=200)
    label_id = models.CharField(_("label in Indonesian"), max_length=200)
    applies_to = models.CharField(_("offered for"), max_length=10, choices=AppliesTo.choices, default=AppliesTo.ANY)
    is_active = models.BooleanField(_("offered"), default=True, help_text=_("untick to retire the code"))
    sort_order = models.PositiveSmallIntegerField(_("order"), default=0)
    updated_at = models.DateTimeField(_("last changed at"), auto_now=True)

    class Meta:
        verbose_name = _("decision reason code")
        verbose_name_plural = _("decision reason codes")
        ordering = ["sort_order", "code"]

    def __str__(self):
        return f"{self.code} – {self.label}"

    @property
    def label(self) -> str:
        """The label in the active language."""
        return self.label_id if (get_language() or "en").startswith("id") else self.label_en

    def fits(self, outcome: str) -> bool:
        """Whether the code is offered for a decision ``outcome`` (approve, decline or refer)."""
        if self.applies_to == self.AppliesTo.ANY:
            return True
        return (self.applies_to == self.AppliesTo.APPROVE) == (outcome == review_desk.APPROVE)


class ApprovalLimit(models.Model):
    """A user's own approval limit, replacing the role's (``REVIEW_*_APPROVAL_LIMIT``)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="approval_limit", verbose_name=_("user")
    )
    amount = models.BigIntegerField(
        _("approval limit (Rp)"),
        validators=[MinValueValidator(0)],
        help_text=_("the largest amount financed (vehicle price minus down payment) this user may approve alone"),
    )
    updated_at = models.DateTimeField(_("last changed at"), auto_now=True)

    class Meta:
        verbose_name = _("approval limit")
        verbose_name_plural = _("approval limits")
        constraints = [models.CheckConstraint(condition=Q(amount__gte=0), name="approval_limit_not_negative")]

    def __str__(self):
        return gettext("Approval limit of %(user)s") % {"user": self.user.get_username()}


class ReviewCase(models.Model):
    """A prediction someone has worked on in the review desk (one per prediction)."""

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        REFERRED = "referred", _("Referred up")
        SECOND_DECISION = "second_decision", _("Awaiting a second decision")
        DECIDED = "decided", _("Decided")

    prediction = models.OneToOneField(
        Prediction, on_delete=models.PROTECT, related_name="review_case", verbose_name=_("prediction")
    )
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.OPEN)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="assigned_review_cases",
        verbose_name=_("assigned to"),
    )
    assigned_at = models.DateTimeField(_("assigned at"), null=True, blank=True)
    sent_at = models.DateTimeField(
        _("sent to review at"),
        null=True,
        blank=True,
        help_text=_("set when an analyst sent a prediction recommended approve or decline to the queue"),
    )
    sent_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="sent_review_cases",
        verbose_name=_("sent to review by"),
    )
    final_outcome = models.CharField(_("final decision"), max_length=10, blank=True)
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("review case")
        verbose_name_plural = _("review cases")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["status", "prediction"], name="review_case_status_idx"),
            models.Index(fields=["assignee", "status"], name="review_case_assignee_idx"),
            models.Index(fields=["sent_at"], name="review_case_sent_idx", condition=Q(sent_at__isnull=False)),
        ]

    def __str__(self):
        return gettext("Review case of prediction #%(id)s") % {"id": self.prediction_id}


class ReviewNote(models.Model):
    case = models.ForeignKey(ReviewCase, on_delete=models.CASCADE, related_name="notes", verbose_name=_("case"))
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="review_notes", verbose_name=_("author")
    )
    text = models.TextField(_("note"), max_length=NOTE_MAX_LENGTH)
    created_at = models.DateTimeField(_("written at"), auto_now_add=True)

    class Meta:
        verbose_name = _("review note")
        verbose_name_plural = _("review notes")
        ordering = ["created_at", "id"]

    def __str__(self):
        return gettext("Note #%(id)s") % {"id": self.pk}


class ReviewDecision(models.Model):
    """One person's decision on a prediction, beside it: approve, decline or refer up."""

    class Outcome(models.TextChoices):
        APPROVE = review_desk.APPROVE, _("Approve")
        DECLINE = review_desk.DECLINE, _("Decline")
        REFER = review_desk.REFER, _("Refer up")

    class Override(models.TextChoices):
        NONE = review_desk.NO_OVERRIDE, _("Follows the recommendation")
        HIGH_SIDE = review_desk.HIGH_SIDE, _("High-side override")
        LOW_SIDE = review_desk.LOW_SIDE, _("Low-side override")

    case = models.ForeignKey(
        ReviewCase, on_delete=models.PROTECT, related_name="decisions", verbose_name=_("review case")
    )
    prediction = models.ForeignKey(
        Prediction, on_delete=models.PROTECT, related_name="review_decisions", verbose_name=_("prediction")
    )
    outcome = models.CharField(_("decision"), max_length=10, choices=Outcome.choices)
    reason_code = models.ForeignKey(
        ReasonCode,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="decisions",
        verbose_name=_("reason code"),
    )
    note = models.TextField(_("note"), blank=True, max_length=NOTE_MAX_LENGTH)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="review_decisions",
        verbose_name=_("decided by"),
    )
    decided_at = models.DateTimeField(_("decided at"))
    # What the decider saw, copied at decision time.
    recommendation = models.CharField(
        _("recommendation at decision time"), max_length=10, choices=Prediction.Recommendation.choices
    )
    credit_score = models.SmallIntegerField(_("credit score at decision time"))
    risk_grade = models.CharField(_("risk grade at decision time"), max_length=4)
    financed_amount = models.BigIntegerField(_("amount financed (Rp)"), help_text=_("vehicle price minus down payment"))
    override = models.CharField(_("override"), max_length=10, choices=Override.choices)
    approval_limit = models.BigIntegerField(
        _("decider's approval limit (Rp)"), null=True, blank=True, help_text=_("empty: no limit (a superuser)")
    )
    is_final = models.BooleanField(
        _("final"), help_text=_("not final: a referral, or an approval above the decider's limit awaiting a second")
    )

    class Meta:
        verbose_name = _("review decision")
        verbose_name_plural = _("review decisions")
        ordering = ["-decided_at", "-id"]
        indexes = [
            models.Index(fields=["prediction", "decided_at"], name="review_decision_prediction_idx"),
            models.Index(fields=["decided_at"], name="review_decision_time_idx"),
            models.Index(fields=["decided_by", "decided_at"], name="review_decision_user_idx"),
        ]

    def __str__(self):
        return gettext("%(outcome)s on prediction #%(id)s") % {
            "outcome": self.get_outcome_display(),
            "id": self.prediction_id,
        }

    @property
    def is_override(self) -> bool:
        return self.override != self.Override.NONE
