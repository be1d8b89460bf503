from django.contrib.auth.decorators import login_not_required
from django.http import JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from monitoring.page_selectors import dashboard_monitoring
from scoring.page_selectors import dashboard_figures

from .health import run_health_checks
from .roles import is_analyst


@login_not_required
@never_cache
@require_GET
def healthz(request):
    """Readiness for load balancers and monitors: no authentication, no secrets.

    Answers 200 when database, broker and active model are all fine, 503 otherwise, always with the
    per-dependency JSON so an operator sees which one is down.
    """
    report = run_health_checks()
    return JsonResponse(report, status=200 if report["status"] == "ok" else 503)


@require_GET
def home(request):
    """The dashboard: the loan book, today's scoring, the active model and recent training runs.

    A user without a role sees only what to ask for."""
    context = {}
    if is_analyst(request.user):
        context = {"figures": dashboard_figures(), "monitoring": dashboard_monitoring()}
    return render(request, "home.html", context)
