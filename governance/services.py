"""Maker-checker for what moves money, and the audit log every configuration change writes to.

**Four eyes.** Activating a model version, rolling back to the previous one and activating a
decision policy are *proposed* (:func:`propose`) by a Model admin with a reason, and made only when a
*second* Model admin approves (:func:`approve`) — the proposer's own approval is refused — or dropped
when someone rejects them (:func:`reject`), with a reason either way. The system's own activation (the
first model trained, when none is active) needs no second person: no person's word is involved.

**Break glass.** When the active model must go at once (a broken artifact, a model gone wrong in
production), a Model admin rolls back without a second person (:func:`break_glass_roll_back`): the
reason is required, the entry is flagged, and it shows on the audit page and the dashboard.

**Audit log.** :func:`record` appends an :class:`governance.models.AuditEntry`; every function here
writes one, and the web layer records what it changes elsewhere (policies created, users, roles,
tokens) through it.
"""

from __future__ import annotations

import logging

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext

from governance.models import AuditEntry, ChangeRequest
from nplsite.roles import is_model_admin
from scoring.models import DecisionPolicy
from scoring.policies import POLICY_FIELDS
from scoring.policy_services import activate_policy, check_policy
from training.models import ModelVersion
from training.selectors import get_active_model_version, get_previous_model_version
from training.services import (
    ModelActivationError,
    activate_model_version,
    check_activatable,
    roll_back_model_version,
)

logger = logging.getLogger(__name__)

Kind = ChangeRequest.Kind
Status = ChangeRequest.Status
Action = AuditEntry.Action
ObjectType = AuditEntry.ObjectType
REASON_MAX_CHARS = 2000


class ChangeRefused(Exception):
    """A change cannot be proposed, approved or rejected; the message says why in words."""


def record(
    actor,
    action: str,
    object_type: str,
    obj=None,
    *,
    object_id=None,
    label: str = "",
    before=None,
    after=None,
    change_request: ChangeRequest | None = None,
    break_glass: bool = False,
    note: str = "",
) -> AuditEntry:
    """Append one entry to the audit log (``actor`` ``None``: the system)."""
    return AuditEntry.objects.create(
        actor=actor if actor is not None and getattr(actor, "is_authenticated", False) else None,
        action=action,
        object_type=object_type,
        object_id=str(object_id if object_id is not None else getattr(obj, "pk", "") or ""),
        object_label=(label or (str(obj) if obj is not None else ""))[:200],
        before=before,
        after=after,
        change_request=change_request,
        break_glass=break_glass,
        note=note[:REASON_MAX_CHARS],
    )


def _require_model_admin(user) -> None:
    if user is None or not is_model_admin(user):
        raise PermissionDenied(gettext("Only model admins can propose or decide changes."))


def _reason(reason: str) -> str:
    text = (reason or "").strip()
    if not text:
        raise ValidationError({"reason": [gettext("Say why: the reason is kept in the audit log.")]})
    if len(text) > REASON_MAX_CHARS:
        raise ValidationError(
            {
                "reason": [
                    gettext("Keep the reason to %(maximum)s characters (it has %(length)s).")
                    % {"maximum": REASON_MAX_CHARS, "length": len(text)}
                ]
            }
        )
    return text


def _active_state(kind: str) -> dict:
    if kind == Kind.ACTIVATE_POLICY:
        active = DecisionPolicy.objects.filter(is_active=True).first()
        return {"active_policy": active.pk if active else None}
    active = get_active_model_version()
    return {"active_model_version": active.pk if active else None, "name": str(active) if active else None}


def _target(kind: str, target_id: int | None):
    """(id, label) of what a change of ``kind`` acts on, checked to be possible now."""
    if kind == Kind.ACTIVATE_MODEL:
        version = ModelVersion.objects.filter(pk=target_id).first()
        if version is None:
            raise ChangeRefused(gettext("No such model version."))
        if version.is_active:
            raise ChangeRefused(gettext("%(version)s is already the active model.") % {"version": version})
        try:
            check_activatable(version)  # a version whose artifact cannot be loaded is not proposed
        except ModelActivationError as exc:
            raise ChangeRefused(str(exc)) from exc
        return version.pk, str(version)
    if kind == Kind.ROLL_BACK_MODEL:
        previous = get_previous_model_version()
        if previous is None:
            raise ChangeRefused(gettext("There is no previously active model version to roll back to."))
        return previous.pk, str(previous)
    if kind == Kind.ACTIVATE_POLICY:
        policy = DecisionPolicy.objects.filter(pk=target_id).first()
        if policy is None:
            raise ChangeRefused(gettext("No such decision policy."))
        if policy.is_active:
            raise ChangeRefused(gettext("%(policy)s is already in force.") % {"policy": policy})
        check_policy(policy)  # one stored before its figures were bounded cannot be proposed
        return policy.pk, str(policy)
    raise ChangeRefused(gettext("Unknown change: %(kind)s.") % {"kind": kind})


def _object_type(kind: str) -> str:
    return ObjectType.DECISION_POLICY if kind == Kind.ACTIVATE_POLICY else ObjectType.MODEL_VERSION


def propose(kind: str, user, *, reason: str, target_id: int | None = None) -> ChangeRequest:
    """A pending change, waiting for a second Model admin. Raises :class:`ChangeRefused` when it
    cannot be made (or the same change is pending already), ``ValidationError`` without a reason."""
    _require_model_admin(user)
    text = _reason(reason)
    target, label = _target(kind, target_id)
    try:
        with transaction.atomic():
            change = ChangeRequest.objects.create(
                kind=kind, target_id=target, target_label=label, reason=text, proposed_by=user
            )
            record(
                user,
                Action.PROPOSED,
                _object_type(kind),
                object_id=target,
                label=label,
                before=_active_state(kind),
                after={"proposed": change.get_kind_display(), "target": target},
                change_request=change,
                note=text,
            )
    except IntegrityError:
        raise ChangeRefused(
            gettext("This change is already waiting for approval: approve or reject the pending one.")
        ) from None
    logger.info("%s proposed by %s", change, user)
    return change


def _pending(change: ChangeRequest) -> ChangeRequest:
    change = ChangeRequest.objects.select_for_update().get(pk=change.pk)
    if change.status != Status.PENDING:
        raise ChangeRefused(
            gettext("This change was already decided: %(status)s.") % {"status": change.get_status_display()}
        )
    return change


def approve(change: ChangeRequest, user, *, reason: str = "") -> ChangeRequest:
    """A second Model admin approves ``change``: it is made now. The proposer cannot approve it. A
    change that can no longer be made (e.g. the versions moved on) is marked failed, in words."""
    _require_model_admin(user)
    failure = None
    with transaction.atomic():
        change = _pending(change)
        if change.proposed_by_id == user.pk:
            raise ChangeRefused(gettext("You proposed this change: a second model admin must approve it (four eyes)."))
        before = _active_state(change.kind)
        try:
            with transaction.atomic():
                made = _make(change, user)
        except (ModelActivationError, ValidationError, ChangeRefused) as exc:
            failure = "; ".join(exc.messages) if isinstance(exc, ValidationError) else str(exc)
            status, label, after = Status.FAILED, change.target_label, {"failed": failure}
            object_id = change.target_id
        else:
            status, label, after = Status.APPROVED, str(made), _active_state(change.kind)
            object_id = made.pk
        change.status, change.decided_by, change.decided_at = status, user, timezone.now()
        change.decision_reason = (failure or (reason or "").strip())[:REASON_MAX_CHARS]
        change.save(update_fields=["status", "decided_by", "decided_at", "decision_reason"])
        record(
            user,
            Action.APPROVED,
            _object_type(change.kind),
            object_id=object_id,
            label=label,
            before=before,
            after=after,
            change_request=change,
            note=change.decision_reason,
        )
    if failure is not None:
        raise ChangeRefused(failure)
    logger.info("%s approved by %s", change, user)
    return change


def _make(change: ChangeRequest, user):
    if change.kind == Kind.ACTIVATE_MODEL:
        return activate_model_version(ModelVersion.objects.get(pk=change.target_id), user)
    if change.kind == Kind.ROLL_BACK_MODEL:
        previous = get_previous_model_version()
        if previous is None or previous.pk != change.target_id:
            raise ChangeRefused(
                gettext("The model versions have changed since this roll-back was proposed: propose it again.")
            )
        return roll_back_model_version(user)
    return activate_policy(DecisionPolicy.objects.get(pk=change.target_id), user)


def reject(change: ChangeRequest, user, *, reason: str) -> ChangeRequest:
    """Drop a pending change, with a reason (the proposer may withdraw their own)."""
    _require_model_admin(user)
    text = _reason(reason)
    with transaction.atomic():
        change = _pending(change)
        change.status, change.decided_by, change.decided_at = Status.REJECTED, user, timezone.now()
        change.decision_reason = text
        change.save(update_fields=["status", "decided_by", "decided_at", "decision_reason"])
        record(
            user,
            Action.REJECTED,
            _object_type(change.kind),
            object_id=change.target_id,
            label=change.target_label,
            change_request=change,
            note=text,
        )
    return change


def break_glass_roll_back(user, *, reason: str) -> ModelVersion:
    """Roll back to the previous model version at once, without a second person: logged and flagged."""
    _require_model_admin(user)
    text = _reason(reason)
    before = _active_state(Kind.ROLL_BACK_MODEL)
    with transaction.atomic():
        version = roll_back_model_version(user)
        record(
            user,
            Action.BREAK_GLASS,
            ObjectType.MODEL_VERSION,
            version,
            before=before,
            after=_active_state(Kind.ROLL_BACK_MODEL),
            break_glass=True,
            note=text,
        )
    logger.warning("Break-glass roll-back to %s by %s: %s", version, user, text)
    return version


def pending_changes():
    return ChangeRequest.objects.filter(status=Status.PENDING).select_related("proposed_by")


def recent_changes(limit: int = 20):
    return (
        ChangeRequest.objects.exclude(status=Status.PENDING)
        .select_related("proposed_by", "decided_by")
        .order_by("-decided_at", "-id")[:limit]
    )


def record_policy_created(policy: DecisionPolicy, user) -> AuditEntry:
    """A new decision policy version (its figures and knock-out rules) in the audit log."""
    return record(
        user,
        Action.CREATED,
        ObjectType.DECISION_POLICY,
        policy,
        after={name: getattr(policy, name) for name in POLICY_FIELDS},
        note=policy.reason,
    )
