"""Changes that need a second person (maker-checker) and the configuration audit log.

- :class:`ChangeRequest`: a proposed activation of a model version, roll-back of the active model, or
  activation of a decision policy. It waits until a second Model admin (never the proposer)
  approves it — then, and only then, the change is made — or someone rejects it, with a reason.
- :class:`AuditEntry`: who did what to the configuration, when, and what changed (before/after):
  proposals and decisions, activations (a break-glass roll-back flagged), policies created, users,
  roles and tokens. **Append-only**: a saved entry cannot be changed or deleted through the ORM
  (:class:`AuditEntryQuerySet`, :meth:`AuditEntry.save`, :meth:`AuditEntry.delete`), the admin shows it
  read-only, and on PostgreSQL a trigger refuses ``UPDATE`` and ``DELETE`` of its rows from any client
  (migration 0002).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _


class ChangeRequest(models.Model):
    class Kind(models.TextChoices):
        ACTIVATE_MODEL = "activate_model", _("Activate a model version")
        ROLL_BACK_MODEL = "roll_back_model", _("Roll back to the previous model version")
        ACTIVATE_POLICY = "activate_policy", _("Activate a decision policy")

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting for a second approver")
        APPROVED = "approved", _("Approved and made")
        REJECTED = "rejected", _("Rejected")
        FAILED = "failed", _("Approved but could not be made")

    kind = models.CharField(_("change"), max_length=20, choices=Kind.choices)
    target_id = models.PositiveIntegerField(_("target id"))
    target_label = models.CharField(_("target"), max_length=200)
    reason = models.TextField(_("reason"))
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.PENDING)
    proposed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("proposed by"), on_delete=models.PROTECT, related_name="+"
    )
    proposed_at = models.DateTimeField(_("proposed at"), auto_now_add=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("decided by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    decision_reason = models.TextField(_("decision reason"), blank=True)

    class Meta:
        verbose_name = _("change request")
        verbose_name_plural = _("change requests")
        ordering = ["-proposed_at", "-id"]
        constraints = [
            # One pending request per change: a second proposal of the same change is refused.
            models.UniqueConstraint(
                fields=["kind", "target_id"],
                condition=models.Q(status="pending"),
                name="change_request_one_pending_per_change",
            )
        ]

    def __str__(self):
        return gettext("Change #%(id)s: %(kind)s %(target)s") % {
            "id": self.pk,
            "kind": self.get_kind_display(),
            "target": self.target_label,
        }


class AuditEntryQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise AuditLogIsAppendOnly(gettext("The audit log is append-only: its entries cannot be changed."))

    def delete(self):
        raise AuditLogIsAppendOnly(gettext("The audit log is append-only: its entries cannot be deleted."))


class AuditLogIsAppendOnly(Exception):
    pass


class AuditEntry(models.Model):
    class Action(models.TextChoices):
        PROPOSED = "proposed", _("Proposed")
        APPROVED = "approved", _("Approved")
        REJECTED = "rejected", _("Rejected")
        ACTIVATED = "activated", _("Activated")
        BREAK_GLASS = "break_glass", _("Break-glass roll-back")
        CREATED = "created", _("Created")
        CHANGED = "changed", _("Changed")
        DEACTIVATED = "deactivated", _("Deactivated")
        REVOKED = "revoked", _("Revoked")

    class ObjectType(models.TextChoices):
        MODEL_VERSION = "model_version", _("Model version")
        DECISION_POLICY = "decision_policy", _("Decision policy")
        USER = "user", _("User")
        API_TOKEN = "api_token", _("API token")
        REASON_CODE = "reason_code", _("Reason code")

    created_at = models.DateTimeField(_("when"), auto_now_add=True, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("who"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text=_("empty: the system"),
    )
    action = models.CharField(_("action"), max_length=20, choices=Action.choices)
    object_type = models.CharField(_("what"), max_length=20, choices=ObjectType.choices)
    object_id = models.CharField(_("object id"), max_length=40, blank=True)
    object_label = models.CharField(_("object"), max_length=200, blank=True)
    before = models.JSONField(_("before"), null=True, blank=True)
    after = models.JSONField(_("after"), null=True, blank=True)
    change_request = models.ForeignKey(
        ChangeRequest,
        verbose_name=_("change request"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="audit_entries",
    )
    break_glass = models.BooleanField(_("break-glass"), default=False)
    note = models.TextField(_("note"), blank=True)

    objects = AuditEntryQuerySet.as_manager()

    class Meta:
        verbose_name = _("audit log entry")
        verbose_name_plural = _("audit log")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["object_type", "-created_at"], name="audit_object_recent")]

    def __str__(self):
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.get_action_display()} {self.object_label}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise AuditLogIsAppendOnly(gettext("The audit log is append-only: its entries cannot be changed."))
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AuditLogIsAppendOnly(gettext("The audit log is append-only: its entries cannot be deleted."))
