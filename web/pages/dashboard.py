"""The dashboard: the loan book, today's scoring, the active model and recent training runs."""

from __future__ import annotations

from django.shortcuts import render
from django.views.decorators.http import require_GET

from nplsite.roles import is_analyst
from web.page_selectors.monitoring import dashboard_monitoring
from web.page_selectors.scoring import dashboard_figures


@require_GET
def home(request):
    """The dashboard: the loan book, today's scoring, the active model and recent training runs.

    A user without a role sees only what to ask for."""
    context = {}
    if is_analyst(request.user):
        context = {"figures": dashboard_figures(), "monitoring": dashboard_monitoring()}
    return render(request, "home.html", context)
