"""Pages of the four eyes and the audit log: what is waiting for a second approver (Auditors read it,
Model admins approve or reject), and the configuration audit log with its filters (Auditors and
Model admins)."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext
from django.views.decorators.http import require_GET, require_POST

from governance.models import AuditEntry, ChangeRequest
from governance.services import ChangeRefused, approve, pending_changes, propose, recent_changes, reject
from nplsite.roles import auditor_required, model_admin_required
from web.forms.governance import AuditFilterForm

AUDIT_ROWS_PER_PAGE = 50


@auditor_required
@require_GET
def changes(request):
    """What waits for a second approver (and for whom), and the latest decisions."""
    context = {"pending": list(pending_changes()), "recent": list(recent_changes())}
    return render(request, "governance/changes.html", context)


def propose_from_page(request, kind: str, target_id: int | None, reason: str) -> bool:
    """Propose a change from a page's POST and say what happened; True when it is pending (the
    model and policy pages use it)."""
    change = None

    def make():
        nonlocal change
        change = propose(kind, request.user, reason=reason, target_id=target_id)

    if not _report(request, make):
        return False
    messages.success(
        request,
        gettext("Proposed: %(change)s. It is made when a second model admin approves it.") % {"change": change},
    )
    return True


def _report(request, action):
    try:
        action()
    except ChangeRefused as exc:
        messages.error(request, str(exc))
        return False
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return False
    return True


@model_admin_required
@require_POST
def change_approve(request, change_id: int):
    change = get_object_or_404(ChangeRequest, pk=change_id)
    if _report(request, lambda: approve(change, request.user, reason=request.POST.get("reason", ""))):
        messages.success(request, gettext("Approved: %(change)s is made.") % {"change": change.target_label})
    return redirect("governance:changes")


@model_admin_required
@require_POST
def change_reject(request, change_id: int):
    change = get_object_or_404(ChangeRequest, pk=change_id)
    if _report(request, lambda: reject(change, request.user, reason=request.POST.get("reason", ""))):
        messages.success(request, gettext("Rejected: %(change)s is not made.") % {"change": change.target_label})
    return redirect("governance:changes")


@auditor_required
@require_GET
def audit_log(request):
    """Every configuration change, newest first, filtered by what, action, who, dates and break-glass."""
    form = AuditFilterForm(request.GET or None)
    entries = form.entries() if form.is_bound and form.is_valid() else AuditEntry.objects.all()
    entries = entries.select_related("actor", "change_request").order_by("-created_at", "-id")
    page = Paginator(entries, AUDIT_ROWS_PER_PAGE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    context = {"form": form, "entries": page, "query": query.urlencode()}
    return render(request, "governance/audit.html", context, status=400 if form.is_bound and form.errors else 200)
