"""Writes of the review desk: claim, assign, note, send to review, decide; and the reason-code list.

Every rule of who may do what lives here, so the pages and the API answer alike. A refusal raises
:class:`ReviewError` (the request is wrong: the API answers 400 with ``field`` → message) or
:class:`ReviewPermissionError` (this user may not: 403), always in words.

**Who may do what.** Anyone with the Analyst role (Model admins too, as everywhere on the site)
works the queue: claims an unassigned case, releases their own, writes notes, sends a prediction to
review and decides. Assigning a case to someone else, or taking one from its assignee, is for Model
admins. A case assigned to someone is decided by that person only.

**Decisions.** Approve, decline or refer up, with a reason code from the maintained list and free
text. An override (:func:`credit.review_desk.override_side`) needs a reason code. Approving more
than the decider's approval limit (:func:`reviews.selectors.approval_limit_for`) records a first
decision and leaves the case awaiting a second decision; referring up leaves it referred. Either
way someone who has not decided the case yet decides it next — for a case awaiting a second
decision, someone whose limit covers the amount. A decline, or an approval within the decider's
limit, settles the case.
"""

from __future__ import annotations

import re

from django.db import transaction
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext

from credit import review_desk
from governance.models import AuditEntry
from governance.services import record
from nplsite.numbers import decimal_text
from nplsite.roles import is_analyst, is_model_admin
from reviews.models import NOTE_MAX_LENGTH, ApprovalLimit, ReasonCode, ReviewCase, ReviewDecision, ReviewNote
from reviews.selectors import approval_limit_for, financed_amount, is_superseded
from scoring.models import Prediction


class ReviewError(Exception):
    """A request the review desk refuses; ``field`` names the input at fault (``non_field_errors`` if none)."""

    def __init__(self, message: str, field: str = "non_field_errors"):
        super().__init__(message)
        self.message = message
        self.field = field


class ReviewPermissionError(ReviewError):
    """The user may not do this (a role or an assignment stands in the way)."""


def _username(user) -> str:
    return user.get_username() if user is not None else "—"


def _locked_case(prediction: Prediction) -> ReviewCase:
    """The prediction's case, created if new, locked for the rest of the transaction."""
    case, _ = ReviewCase.objects.get_or_create(prediction=prediction)
    # FOR UPDATE of the case row only: PostgreSQL refuses it on the nullable side of the assignee join.
    return ReviewCase.objects.select_for_update(of=("self",)).select_related("assignee").get(pk=case.pk)


def _require_reviewer(user) -> None:
    if not is_analyst(user):
        raise ReviewPermissionError(gettext("Only users with the Analyst role work the review queue."))


def _require_current(prediction: Prediction) -> None:
    newer = is_superseded(prediction)
    if newer is not None:
        raise ReviewError(
            gettext(
                "Prediction #%(id)s has been superseded by prediction #%(newer)s of the same application; "
                "work on that one."
            )
            % {"id": prediction.pk, "newer": newer.pk}
        )


def _require_open(case: ReviewCase) -> None:
    if case.status == ReviewCase.Status.DECIDED:
        raise ReviewError(
            gettext("This case was decided on %(when)s (%(outcome)s); a decided case is not reopened.")
            % {
                "when": date_format(timezone.localtime(case.decided_at), "SHORT_DATETIME_FORMAT")
                if case.decided_at
                else "—",
                "outcome": ReviewDecision.Outcome(case.final_outcome).label if case.final_outcome else "—",
            }
        )


def claim_case(prediction: Prediction, *, user) -> ReviewCase:
    """Assign an unassigned open case to ``user`` (claiming one's own case again changes nothing)."""
    _require_reviewer(user)
    _require_current(prediction)
    with transaction.atomic():
        case = _locked_case(prediction)
        _require_open(case)
        if case.assignee_id not in (None, user.pk):
            raise ReviewPermissionError(
                gettext("This case is already assigned to %(user)s; a Model admin can reassign it.")
                % {"user": _username(case.assignee)}
            )
        if case.assignee_id is None:
            case.assignee, case.assigned_at = user, timezone.now()
            case.save(update_fields=["assignee", "assigned_at"])
        return case


def assign_case(prediction: Prediction, *, assignee, by) -> ReviewCase:
    """Assign a case to ``assignee`` (``None``: release it). Releasing one's own case is anyone's right;
    assigning to someone else, or taking a case from its assignee, is for Model admins."""
    _require_reviewer(by)
    _require_current(prediction)
    if assignee is not None and (not assignee.is_active or not is_analyst(assignee)):
        raise ReviewError(
            gettext("%(user)s cannot be assigned cases: an active user with the Analyst role is needed.")
            % {"user": _username(assignee)},
            field="assignee",
        )
    with transaction.atomic():
        case = _locked_case(prediction)
        _require_open(case)
        own_release = assignee is None and case.assignee_id == by.pk
        self_claim = assignee is not None and assignee.pk == by.pk and case.assignee_id is None
        if not (own_release or self_claim or is_model_admin(by)):
            raise ReviewPermissionError(
                gettext("Only a Model admin assigns cases to others or takes them from their assignee.")
            )
        case.assignee = assignee
        case.assigned_at = timezone.now() if assignee is not None else None
        case.save(update_fields=["assignee", "assigned_at"])
        return case


def add_note(prediction: Prediction, *, user, text: str) -> ReviewNote:
    _require_reviewer(user)
    text = (text or "").strip()
    if not text:
        raise ReviewError(gettext("Write the note first: it is empty."), field="text")
    if len(text) > NOTE_MAX_LENGTH:
        raise ReviewError(
            gettext("A note may be at most %(maximum)s characters; this one has %(length)s.")
            % {"maximum": NOTE_MAX_LENGTH, "length": len(text)},
            field="text",
        )
    with transaction.atomic():
        case = _locked_case(prediction)
        return ReviewNote.objects.create(case=case, author=user, text=text)


def send_to_review(prediction: Prediction, *, user, note: str = "") -> ReviewCase:
    """Put a prediction recommended approve or decline in the queue (one recommended review is there)."""
    _require_reviewer(user)
    _require_current(prediction)
    if prediction.recommendation == Prediction.Recommendation.REVIEW:
        raise ReviewError(gettext("This prediction is recommended review: it is in the review queue already."))
    with transaction.atomic():
        case = _locked_case(prediction)
        _require_open(case)
        if case.sent_at is None:
            case.sent_at, case.sent_by = timezone.now(), user
            case.save(update_fields=["sent_at", "sent_by"])
        if note and note.strip():
            add_note(prediction, user=user, text=note)
        return case


def _reason_code(code: str | None, outcome: str) -> ReasonCode | None:
    if code in (None, ""):
        return None
    reason = ReasonCode.objects.filter(code=code).first()
    if reason is None:
        raise ReviewError(
            gettext("%(code)s is not a reason code; choose one from the list (%(codes)s).")
            % {
                "code": code,
                "codes": ", ".join(ReasonCode.objects.filter(is_active=True).values_list("code", flat=True)),
            },
            field="reason_code",
        )
    if not reason.is_active:
        raise ReviewError(
            gettext("The reason code %(code)s has been retired; choose a current one.") % {"code": code},
            field="reason_code",
        )
    if not reason.fits(outcome):
        raise ReviewError(
            gettext("The reason code %(code)s (%(label)s) is for %(kind)s, not for this decision.")
            % {"code": code, "label": reason.label, "kind": reason.get_applies_to_display().lower()},
            field="reason_code",
        )
    return reason


def record_decision(
    prediction: Prediction, *, user, outcome: str, reason_code: str | None = None, note: str = ""
) -> ReviewDecision:
    """Record ``user``'s decision on ``prediction`` (see the module's rules) and return it."""
    _require_reviewer(user)
    if outcome not in ReviewDecision.Outcome.values:
        raise ReviewError(
            gettext("The decision must be one of %(choices)s.") % {"choices": ", ".join(ReviewDecision.Outcome.values)},
            field="outcome",
        )
    note = (note or "").strip()
    if len(note) > NOTE_MAX_LENGTH:
        raise ReviewError(
            gettext("A note may be at most %(maximum)s characters; this one has %(length)s.")
            % {"maximum": NOTE_MAX_LENGTH, "length": len(note)},
            field="note",
        )
    reason = _reason_code(reason_code, outcome)
    side = review_desk.override_side(prediction.recommendation, outcome)
    if side != review_desk.NO_OVERRIDE and reason is None:
        raise ReviewError(
            gettext(
                "This decision goes against the recommendation (%(recommendation)s): an override needs a reason code."
            )
            % {"recommendation": prediction.get_recommendation_display()},
            field="reason_code",
        )
    _require_current(prediction)
    amount = financed_amount(prediction)
    limit = approval_limit_for(user)
    with transaction.atomic():
        case = _locked_case(prediction)
        _require_open(case)
        if case.assignee_id is not None and case.assignee_id != user.pk:
            raise ReviewPermissionError(
                gettext("This case is assigned to %(user)s: only they decide it (a Model admin can reassign it).")
                % {"user": _username(case.assignee)}
            )
        if case.status in (ReviewCase.Status.REFERRED, ReviewCase.Status.SECOND_DECISION):
            if case.decisions.filter(decided_by=user).exists():
                raise ReviewPermissionError(
                    gettext("You have decided this case already: the next decision must be someone else's.")
                )
            if case.status == ReviewCase.Status.SECOND_DECISION and limit is not None and amount > limit:
                raise ReviewPermissionError(
                    gettext(
                        "This case awaits a second decision by someone whose approval limit covers "
                        "Rp %(amount)s; yours is Rp %(limit)s."
                    )
                    % {"amount": decimal_text(amount, 0, grouping=True), "limit": decimal_text(limit, 0, grouping=True)}
                )
        above_limit = outcome == review_desk.APPROVE and limit is not None and amount > limit
        is_final = outcome == review_desk.DECLINE or (outcome == review_desk.APPROVE and not above_limit)
        now = timezone.now()
        decision = ReviewDecision.objects.create(
            case=case,
            prediction=prediction,
            outcome=outcome,
            reason_code=reason,
            note=note,
            decided_by=user,
            decided_at=now,
            recommendation=prediction.recommendation,
            credit_score=prediction.credit_score,
            risk_grade=prediction.risk_grade,
            financed_amount=amount,
            override=side,
            approval_limit=limit,
            is_final=is_final,
        )
        if is_final:
            case.status, case.final_outcome, case.decided_at = ReviewCase.Status.DECIDED, outcome, now
        else:
            # Someone else decides next: the case goes back to the queue, unassigned.
            case.status = ReviewCase.Status.SECOND_DECISION if above_limit else ReviewCase.Status.REFERRED
            case.assignee, case.assigned_at = None, None
        case.save(update_fields=["status", "final_outcome", "decided_at", "assignee", "assigned_at"])
        return decision


# ---------------------------------------------------------------------------------------------
# The reason-code list and approval limits (configuration: each changed in one function here)
# ---------------------------------------------------------------------------------------------

CODE_PATTERN = re.compile(r"^[A-Z][A-Z0-9_]{1,19}$")
REASON_CODE_FIELDS = ("code", "label_en", "label_id", "applies_to", "is_active", "sort_order")


def reason_code_problems(reason: ReasonCode | None, values: dict) -> dict[str, str]:
    """What is wrong with creating (``reason`` ``None``) or changing a reason code to ``values``:
    field → message, empty when nothing is (the admin's form shows these beside its fields)."""
    unknown = sorted(set(values) - set(REASON_CODE_FIELDS))
    if unknown:
        raise ValueError(f"unknown reason-code fields: {', '.join(unknown)}")
    problems = {}
    code = values.get("code", reason.code if reason else "")
    if not CODE_PATTERN.match(code or ""):
        problems["code"] = gettext(
            "A code is 2 to 20 capitals, digits or underscores, starting with a letter (e.g. GUARANTOR)."
        )
    elif reason is not None and code != reason.code and reason.decisions.exists():
        problems["code"] = gettext("%(code)s is used by decisions and keeps its code; retire it and add a new one.") % {
            "code": reason.code
        }
    elif ReasonCode.objects.filter(code=code).exclude(pk=reason.pk if reason else None).exists():
        problems["code"] = gettext("The code %(code)s exists already.") % {"code": code}
    for field in ("label_en", "label_id"):
        if field in values and not str(values[field] or "").strip():
            problems[field] = gettext("Both labels are needed, in English and in Indonesian.")
    return problems


def save_reason_code(reason: ReasonCode | None, *, values: dict, user) -> ReasonCode:
    """Create (``reason`` ``None``) or change a reason code: the one way the list changes (the admin
    calls it; a configuration audit log hooks in here).

    ``values`` holds some of ``code``, ``label_en``, ``label_id``, ``applies_to``, ``is_active`` and
    ``sort_order``. A code already used by a decision keeps its ``code`` (retire it and add another);
    codes are never deleted.
    """
    if not is_model_admin(user):
        raise ReviewPermissionError(gettext("Only Model admins maintain the reason codes."))
    problems = reason_code_problems(reason, values)
    if problems:
        field, message = next(iter(problems.items()))
        raise ReviewError(message, field=field)
    with transaction.atomic():
        before = _reason_code_state(reason) if reason is not None else None
        reason = reason or ReasonCode()
        for field, value in values.items():
            setattr(reason, field, value.strip() if isinstance(value, str) else value)
        reason.full_clean()
        reason.save()
        after = _reason_code_state(reason)
        if before != after:
            action = AuditEntry.Action.CREATED if before is None else AuditEntry.Action.CHANGED
            record(
                user, action, AuditEntry.ObjectType.REASON_CODE, reason, label=reason.code, before=before, after=after
            )
        return reason


def _reason_code_state(reason: ReasonCode) -> dict:
    """What the audit log keeps of a reason code."""
    fields = ("code", "label_en", "label_id", "applies_to", "is_active", "sort_order")
    return {field: getattr(reason, field) for field in fields if hasattr(reason, field)}


def set_approval_limit(user, amount: int | None, *, by) -> ApprovalLimit | None:
    """Give ``user`` an approval limit of their own (``None``: back to their role's)."""
    if not is_model_admin(by):
        raise ReviewPermissionError(gettext("Only Model admins set approval limits."))
    if amount is not None and amount < 0:
        raise ReviewError(gettext("An approval limit cannot be negative."), field="amount")
    previous = ApprovalLimit.objects.filter(user=user).values_list("amount", flat=True).first()
    if amount is None:
        ApprovalLimit.objects.filter(user=user).delete()
        limit = None
    else:
        limit, _ = ApprovalLimit.objects.update_or_create(user=user, defaults={"amount": amount})
    if previous != amount:
        record(
            by,
            AuditEntry.Action.CHANGED,
            AuditEntry.ObjectType.USER,
            user,
            label=user.get_username(),
            before={"approval_limit": previous},
            after={"approval_limit": amount},
            note="approval limit",
        )
    return limit
