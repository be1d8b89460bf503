"""Applicant pages: the searchable, filterable list and one applicant's history and predictions."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_GET

from applicants.models import Applicant
from nplsite.roles import analyst_required
from web.forms.applicants import ApplicantFilterForm
from web.page_selectors.applicants import (
    applicant_list,
    dpd_timeline_chart,
    known_grades,
    payment_history,
    prediction_history,
)
from web.page_selectors.reviews import applicant_decisions

PAGE_SIZE = 25


@analyst_required
@require_GET
def applicant_index(request):
    form = ApplicantFilterForm(request.GET or None, grades=known_grades())
    filters = form.filters() if form.is_bound and form.is_valid() else {}
    page = Paginator(applicant_list(**filters), PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "form": form,
        "page": page,
        "query": query.urlencode(),
        "filtered": any(value for key, value in filters.items() if key != "sort"),
    }
    return render(request, "applicants/list.html", context)


@analyst_required
@require_GET
def applicant_detail(request, app_id: int):
    applicant = get_object_or_404(Applicant, app_id=app_id)
    history = payment_history(applicant)
    context = {
        "applicant": applicant,
        "history": history,
        "dpd_chart": dpd_timeline_chart(history),
        "predictions": prediction_history(applicant),
        "decisions": applicant_decisions(applicant),
    }
    return render(request, "applicants/detail.html", context)
