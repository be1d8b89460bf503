"""The change requests and the audit log in the Django admin: read-only for everyone (the audit log
is append-only; changes are proposed and decided on the Changes page), and the admin actions that
propose a change."""

from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext

from governance.models import AuditEntry, ChangeRequest
from governance.services import ChangeRefused, propose
from web.admin_site import ReadOnlyForModelAdmins


def propose_from_admin(modeladmin, request, kind: str, target_id: int | None) -> None:
    """An admin action's proposal (the reason says where it came from; the approver adds theirs)."""
    try:
        change = propose(kind, request.user, reason=gettext("Proposed in the administration"), target_id=target_id)
    except (ChangeRefused, ValidationError) as exc:
        text = " ".join(exc.messages) if isinstance(exc, ValidationError) else str(exc)
        modeladmin.message_user(request, text, messages.ERROR)
        return
    modeladmin.message_user(
        request,
        format_html(
            gettext("Proposed: {}. It is made when a second model admin approves it under <a href='{}'>Changes</a>."),
            change,
            reverse("governance:changes"),
        ),
        messages.SUCCESS,
    )


@admin.register(ChangeRequest)
class ChangeRequestAdmin(ReadOnlyForModelAdmins, admin.ModelAdmin):
    list_display = ["id", "kind", "target_label", "status", "proposed_by", "proposed_at", "decided_by", "decided_at"]
    list_filter = ["status", "kind"]


@admin.register(AuditEntry)
class AuditEntryAdmin(ReadOnlyForModelAdmins, admin.ModelAdmin):
    list_display = ["created_at", "actor", "action", "object_type", "object_label", "break_glass"]
    list_filter = ["object_type", "action", "break_glass"]
    search_fields = ["object_label", "note", "actor__username"]
