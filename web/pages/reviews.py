"""The review desk's pages: the queue, a case (claim, assign, notes, decision) and sending a prediction
to review for Analysts (and Model admins); the override report, which judges people's decisions, for
Model admins.

Thin views: read the request, call one service or selector; the rules (who may, what a decision
needs) are :mod:`reviews.services`', whose refusals are shown in words.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext
from django.views.decorators.http import require_GET, require_POST

from nplsite.roles import analyst_required, auditor_required, is_model_admin
from reviews import selectors, services
from reviews.models import ReviewDecision
from scoring.models import Prediction
from web.forms.reviews import (
    AssignForm,
    DecisionForm,
    NoteForm,
    OverrideReportForm,
    QueueFilterForm,
    SendToReviewForm,
)
from web.page_selectors.reviews import assignable_users, case_context, override_report, queue_grades

PAGE_SIZE = 25


def _prediction(prediction_id: int) -> Prediction:
    return get_object_or_404(Prediction.objects.select_related("applicant", "model_version", "user"), pk=prediction_id)


@analyst_required
@require_GET
def review_queue(request):
    users = list(assignable_users())
    form = QueueFilterForm(request.GET or None, grades=queue_grades(), users=users)
    filters = form.filters(request.user) if form.is_bound and form.is_valid() else {}
    page = Paginator(selectors.queue(**filters), PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "form": form,
        "page": page,
        "entries": selectors.queue_entries(page.object_list),
        "query": query.urlencode(),
        "filtered": any(value for value in filters.values()),
        "target_working_days": selectors.target_working_days(),
    }
    return render(request, "reviews/queue.html", context)


def _case_page(request, prediction, *, decision_form=None, note_form=None, status=200):
    context = {
        "prediction": prediction,
        **case_context(prediction),
        "decision_form": decision_form or DecisionForm(),
        "note_form": note_form or NoteForm(),
        "send_form": SendToReviewForm(),
        "assign_form": AssignForm(users=assignable_users()) if is_model_admin(request.user) else None,
        "approval_limit": selectors.approval_limit_for(request.user),
    }
    return render(request, "reviews/case.html", context, status=status)


@analyst_required
@require_GET
def review_case(request, prediction_id: int):
    return _case_page(request, _prediction(prediction_id))


def _back(prediction_id: int):
    return redirect("reviews:case", prediction_id=prediction_id)


@analyst_required
@require_POST
def review_claim(request, prediction_id: int):
    prediction = _prediction(prediction_id)
    try:
        services.claim_case(prediction, user=request.user)
    except services.ReviewError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, gettext("The case is yours now."))
    return _back(prediction_id)


@analyst_required
@require_POST
def review_assign(request, prediction_id: int):
    prediction = _prediction(prediction_id)
    form = AssignForm(request.POST, users=assignable_users())
    if not form.is_valid():
        messages.error(request, gettext("Choose someone from the list to assign the case to."))
        return _back(prediction_id)
    assignee = form.cleaned_data["assignee"]
    try:
        services.assign_case(prediction, assignee=assignee, by=request.user)
    except services.ReviewError as error:
        messages.error(request, error.message)
    else:
        if assignee is None:
            messages.success(request, gettext("The case is unassigned now."))
        else:
            messages.success(request, gettext("The case is assigned to %(user)s.") % {"user": assignee.get_username()})
    return _back(prediction_id)


@analyst_required
@require_POST
def review_release(request, prediction_id: int):
    prediction = _prediction(prediction_id)
    try:
        services.assign_case(prediction, assignee=None, by=request.user)
    except services.ReviewError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, gettext("The case is unassigned now."))
    return _back(prediction_id)


@analyst_required
@require_POST
def review_note(request, prediction_id: int):
    prediction = _prediction(prediction_id)
    form = NoteForm(request.POST)
    if not form.is_valid():
        return _case_page(request, prediction, note_form=form, status=400)
    try:
        services.add_note(prediction, user=request.user, text=form.cleaned_data["text"])
    except services.ReviewError as error:
        form.add_error("text" if error.field == "text" else None, error.message)
        return _case_page(request, prediction, note_form=form, status=400)
    messages.success(request, gettext("Note added."))
    return _back(prediction_id)


@analyst_required
@require_POST
def review_send(request, prediction_id: int):
    prediction = _prediction(prediction_id)
    form = SendToReviewForm(request.POST)
    note = form.cleaned_data.get("note", "") if form.is_valid() else ""
    try:
        services.send_to_review(prediction, user=request.user, note=note)
    except services.ReviewError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, gettext("Prediction #%(id)s is in the review queue.") % {"id": prediction.pk})
    return _back(prediction_id)


@analyst_required
@require_POST
def review_decide(request, prediction_id: int):
    prediction = _prediction(prediction_id)
    form = DecisionForm(request.POST)
    if not form.is_valid():
        return _case_page(request, prediction, decision_form=form, status=400)
    try:
        decision = services.record_decision(prediction, user=request.user, **form.decision())
    except services.ReviewError as error:
        field = error.field if error.field in form.fields else None
        form.add_error(field, error.message)
        return _case_page(request, prediction, decision_form=form, status=400)
    messages.success(request, decision_message(decision))
    return _back(prediction_id)


def decision_message(decision: ReviewDecision) -> str:
    if decision.outcome == ReviewDecision.Outcome.REFER:
        return gettext("Referred up: the case is back in the queue for someone else to decide.")
    if not decision.is_final:
        return gettext(
            "Approval recorded as a first decision: the amount financed is above your approval limit, so the "
            "case awaits a second decision by someone whose limit covers it."
        )
    return gettext("Decision recorded: %(outcome)s.") % {"outcome": decision.get_outcome_display()}


@auditor_required
@require_GET
def override_report_page(request):
    form = OverrideReportForm(request.GET or None)
    period = (
        {"date_from": form.cleaned_data.get("date_from"), "date_to": form.cleaned_data.get("date_to")}
        if form.is_bound and form.is_valid()
        else {}
    )
    context = {"form": form, "report": override_report(**period)}
    return render(request, "reviews/overrides.html", context, status=400 if form.errors else 200)
