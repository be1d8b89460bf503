"""Reads of the review desk: the queue, a case, decisions beside predictions, approval limits, the
override report's groups.

**The queue** is a query over stored predictions, not a table scoring writes to: the latest prediction
of each application (an ad hoc one without an application is its own) that is recommended *review*,
or that an analyst sent to review, and that no final decision has settled. It is read in pages: the
database picks a page of ``(prediction id, entered)`` pairs, oldest first, from the partial index on
predictions recommended review (``prediction_review_queue_idx``, scoring migration 0009) and the few
cases sent by hand (:class:`ReviewQueue`), then one query reads those predictions — nothing loops over
the predictions in Python.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from itertools import islice

from django.conf import settings
from django.db.models import Count, DateField, Exists, F, OuterRef, Q, QuerySet
from django.db.models.functions import TruncMonth
from django.utils import timezone

from applicants.selectors import first_due_month
from credit import review_desk
from credit.backtest import application_month
from nplsite.roles import ANALYST, MODEL_ADMIN, is_model_admin
from reviews.models import ApprovalLimit, ReviewCase, ReviewDecision
from scoring.models import Prediction

UNASSIGNED = "none"
AGES = (review_desk.OVERDUE, "within_target")
OPEN_STATUSES = (ReviewCase.Status.OPEN, ReviewCase.Status.REFERRED, ReviewCase.Status.SECOND_DECISION)


def target_working_days() -> int:
    return int(settings.REVIEW_TARGET_WORKING_DAYS)


def today() -> date:
    return timezone.localdate()


def _start_of(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def superseding(prediction_ref: str = "pk") -> QuerySet[Prediction]:
    """Predictions of the same application made after the one ``prediction_ref`` points at."""
    return Prediction.objects.filter(
        Q(created_at__gt=OuterRef("created_at")) | Q(created_at=OuterRef("created_at"), id__gt=OuterRef("id")),
        applicant_id=OuterRef("applicant_id"),
    )


def _cases(**conditions) -> Exists:
    return Exists(ReviewCase.objects.filter(prediction_id=OuterRef("pk"), **conditions))


def queue(
    *,
    grade: str | None = None,
    channel: str | None = None,
    assignee=None,
    age: str | None = None,
    status: str | None = None,
    on: date | None = None,
):
    """The queue as ``(prediction id, entered)`` rows, oldest first: a :class:`ReviewQueue` to count and slice.

    ``assignee`` a user or :data:`UNASSIGNED`; ``age`` ``overdue`` (past the target in working days) or
    ``within_target``; ``status`` one of the open statuses (``open``, ``referred``, ``second_decision``);
    ``on`` the day ages are counted to (default today).
    """
    base = Prediction.objects.filter(~Exists(superseding()), ~_cases(status=ReviewCase.Status.DECIDED))
    if grade:
        base = base.filter(risk_grade=grade)
    if channel:
        base = base.filter(channel=channel)
    if assignee == UNASSIGNED:
        base = base.filter(~_cases(assignee__isnull=False))
    elif assignee is not None:
        base = base.filter(_cases(assignee=assignee))
    if status == ReviewCase.Status.OPEN:
        base = base.filter(~_cases(status__in=(ReviewCase.Status.REFERRED, ReviewCase.Status.SECOND_DECISION)))
    elif status:
        base = base.filter(_cases(status=status))
    scored = base.filter(recommendation=Prediction.Recommendation.REVIEW).annotate(entered_at=F("created_at"))
    sent = (
        base.filter(review_case__sent_at__isnull=False)
        .exclude(recommendation=Prediction.Recommendation.REVIEW)
        .annotate(entered_at=F("review_case__sent_at"))
    )
    if age:
        cutoff = _start_of(review_desk.overdue_before(on or today(), target_working_days()))
        condition = "lt" if age == review_desk.OVERDUE else "gte"
        scored = scored.filter(**{f"created_at__{condition}": cutoff})
        sent = sent.filter(**{f"review_case__sent_at__{condition}": cutoff})
    return ReviewQueue(scored, sent)


class ReviewQueue:
    """The queue's ``(prediction id, entered)`` rows, oldest first, for a paginator: ``count()`` and slices.

    Its two halves — predictions recommended review, and cases an analyst sent to review — never share a
    row. A slice asks each half for its own first rows in queue order (the recommended half walks the
    partial index ``prediction_review_queue_idx`` and stops) and merges the two: one ``UNION … ORDER
    BY … LIMIT`` would make the database sort every row of the queue for every page.
    """

    ordered = True  # for Django's paginator: the rows come in a defined order
    COLUMNS = ("id", "entered_at")

    def __init__(self, scored: QuerySet, sent: QuerySet):
        self.halves = [half.order_by("entered_at", "id").values_list(*self.COLUMNS) for half in (scored, sent)]

    def count(self) -> int:
        return sum(half.count() for half in self.halves)

    def __getitem__(self, item):
        if isinstance(item, int):
            rows = self[item : item + 1]
            if not rows:
                raise IndexError(f"the review queue has no row {item}")
            return rows[0]
        if item.step not in (None, 1) or (item.start or 0) < 0 or (item.stop is not None and item.stop < 0):
            raise ValueError("the review queue takes slices from the start, step 1")
        start, stop = item.start or 0, item.stop
        firsts = [list(half[:stop]) if stop is not None else list(half) for half in self.halves]
        merged = heapq.merge(*firsts, key=lambda row: (row[1], row[0]))
        return list(islice(merged, start, stop))


@dataclass
class QueueEntry:
    prediction: Prediction
    case: ReviewCase | None
    entered_at: datetime
    age_working_days: int
    aging: str
    financed_amount: int
    pending_decision: ReviewDecision | None  # the referral or first approval a second decider acts on

    @property
    def status(self) -> str:
        return self.case.status if self.case is not None else ReviewCase.Status.OPEN

    @property
    def assignee(self):
        return self.case.assignee if self.case is not None else None

    @property
    def sent_to_review(self) -> bool:
        return self.case is not None and self.case.sent_at is not None

    def get_status_display(self) -> str:
        return ReviewCase.Status(self.status).label


def financed_amount(prediction: Prediction) -> int:
    attributes = prediction.input_attributes or {}
    return int(attributes.get("otr", 0)) - int(attributes.get("dp", 0))


def queue_entries(rows, *, on: date | None = None) -> list[QueueEntry]:
    """The predictions behind a page of :func:`queue` rows, in the page's order, with their cases."""
    rows = list(rows)
    ids = [prediction_id for prediction_id, _ in rows]
    predictions = {
        prediction.pk: prediction
        for prediction in Prediction.objects.filter(pk__in=ids).select_related(
            "applicant", "model_version", "review_case__assignee", "review_case__sent_by"
        )
    }
    pending = pending_decisions([p.review_case.pk for p in predictions.values() if _case(p) is not None])
    day, target = on or today(), target_working_days()
    entries = []
    for prediction_id, entered_at in rows:
        prediction = predictions[prediction_id]
        case = _case(prediction)
        entered_day = timezone.localdate(entered_at)
        entries.append(
            QueueEntry(
                prediction=prediction,
                case=case,
                entered_at=entered_at,
                age_working_days=review_desk.working_days_between(entered_day, day),
                aging=review_desk.aging(entered_day, day, target),
                financed_amount=financed_amount(prediction),
                pending_decision=pending.get(case.pk) if case is not None else None,
            )
        )
    return entries


def _case(prediction: Prediction) -> ReviewCase | None:
    try:
        return prediction.review_case
    except ReviewCase.DoesNotExist:
        return None


def pending_decisions(case_ids) -> dict[int, ReviewDecision]:
    """The latest decision of each case that awaits another decider (referred or above authority)."""
    decisions = (
        ReviewDecision.objects.filter(
            case_id__in=list(case_ids),
            case__status__in=(ReviewCase.Status.REFERRED, ReviewCase.Status.SECOND_DECISION),
        )
        .select_related("decided_by", "reason_code")
        .order_by("case_id", "-decided_at", "-id")
    )
    latest = {}
    for decision in decisions:
        latest.setdefault(decision.case_id, decision)
    return latest


def entry_for(prediction: Prediction, *, on: date | None = None) -> QueueEntry:
    """One prediction as the queue would show it (whether or not it is in the queue now)."""
    case = _case(prediction)
    entered_at = case.sent_at if case is not None and case.sent_at is not None else prediction.created_at
    return queue_entries([(prediction.pk, entered_at)], on=on)[0]


def in_queue(prediction: Prediction) -> bool:
    """Whether the queue holds ``prediction`` (the rule of :func:`queue`, for one prediction)."""
    case = ReviewCase.objects.filter(prediction=prediction).first()
    if case is not None and case.status == ReviewCase.Status.DECIDED:
        return False
    if is_superseded(prediction):
        return False
    return prediction.recommendation == Prediction.Recommendation.REVIEW or (
        case is not None and case.sent_at is not None
    )


def is_superseded(prediction: Prediction) -> Prediction | None:
    """The newest prediction of the same application when ``prediction`` is not the latest, else ``None``."""
    if prediction.applicant_id is None:
        return None
    return (
        Prediction.objects.filter(
            Q(created_at__gt=prediction.created_at) | Q(created_at=prediction.created_at, id__gt=prediction.pk),
            applicant_id=prediction.applicant_id,
        )
        .order_by("-created_at", "-id")
        .first()
    )


def case_notes(case: ReviewCase | None) -> list:
    return list(case.notes.select_related("author")) if case is not None else []


def decisions(*, prediction_ids=None, applicant=None) -> QuerySet[ReviewDecision]:
    """Decisions, newest first, of some predictions or of an application's predictions."""
    queryset = ReviewDecision.objects.select_related("decided_by", "reason_code")
    if prediction_ids is not None:
        queryset = queryset.filter(prediction_id__in=list(prediction_ids))
    if applicant is not None:
        queryset = queryset.filter(prediction__applicant=applicant)
    return queryset.order_by("-decided_at", "-id")


def approval_limit_for(user) -> int | None:
    """The largest amount financed ``user`` may approve alone: their own limit if a model admin set one,
    else their role's (``REVIEW_ANALYST_APPROVAL_LIMIT``, ``REVIEW_MODEL_ADMIN_APPROVAL_LIMIT``, the
    larger for someone with both); ``None`` (no limit) for a superuser; 0 for someone with no role."""
    if user.is_superuser:
        return None
    own = ApprovalLimit.objects.filter(user=user).values_list("amount", flat=True).first()
    if own is not None:
        return int(own)
    roles = set(user.groups.filter(name__in=(ANALYST, MODEL_ADMIN)).values_list("name", flat=True))
    limits = [0]
    if ANALYST in roles:
        limits.append(int(settings.REVIEW_ANALYST_APPROVAL_LIMIT))
    if MODEL_ADMIN in roles or is_model_admin(user):
        limits.append(int(settings.REVIEW_MODEL_ADMIN_APPROVAL_LIMIT))
    return max(limits)


# ---------------------------------------------------------------------------------------------
# The override report
# ---------------------------------------------------------------------------------------------


def override_groups(*, date_from: date | None = None, date_to: date | None = None) -> list[dict]:
    """Decisions made from ``date_from`` to ``date_to`` (whole days, local time), counted by the
    database per analyst, reason code, grade, month, recommendation, override and outcome; the groups
    :func:`credit.review_desk.override_report` reads.

    The application month (``vintage``) is the back-test's (:func:`credit.backtest.application_month`),
    with the month the decided prediction was made for an applicant without instalments.
    """
    queryset = ReviewDecision.objects.all()
    if date_from is not None:
        queryset = queryset.filter(decided_at__gte=_start_of(date_from))
    if date_to is not None:
        queryset = queryset.filter(decided_at__lt=_start_of(date_to + timedelta(days=1)))
    rows = (
        queryset.order_by()
        .annotate(
            month_start=TruncMonth("decided_at", output_field=DateField()),
            first_due_month=first_due_month("prediction__applicant_id"),
            scored_month=TruncMonth("prediction__created_at", output_field=DateField()),
        )
        .values(
            "month_start",
            "first_due_month",
            "scored_month",
            "recommendation",
            "override",
            analyst=F("decided_by__username"),
            reason=F("reason_code__code"),
            grade=F("risk_grade"),
            labelled_as_of=F("prediction__applicant__labelled_as_of"),
            outcome_npl=F("prediction__applicant__is_npl"),
        )
        .annotate(n=Count("id"))
    )
    groups = []
    for row in rows:
        month = _as_date(row.pop("month_start"))
        first_due, scored = _as_date(row.pop("first_due_month")), _as_date(row.pop("scored_month"))
        groups.append(
            {
                **row,
                "month": month.strftime("%Y-%m"),
                "vintage": application_month(first_due, scored),
            }
        )
    return groups


def _as_date(value) -> date | None:
    return value.date() if isinstance(value, datetime) else value


def outcome_window_months() -> int:
    return int(settings.MONITORING_OUTCOME_WINDOW_MONTHS)


def override_report(*, date_from: date | None = None, date_to: date | None = None) -> dict:
    report = review_desk.override_report(
        override_groups(date_from=date_from, date_to=date_to), window_months=outcome_window_months()
    )
    return {"date_from": date_from, "date_to": date_to, **report}


def queue_size() -> int:
    return queue().count()
