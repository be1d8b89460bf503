from django.contrib.auth.decorators import login_not_required
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from nplsite.health import run_health_checks


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
