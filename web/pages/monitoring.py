"""The monitoring page of a model version: its latest report (or a chosen one) and its earlier reports.

Analysts see the active version's monitoring; Model admins every version's (as on the model pages).
"""

from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import get_object_or_404, render
from django.utils.translation import gettext
from django.views.decorators.http import require_GET

from monitoring.selectors import latest_report, reports_of
from nplsite.roles import analyst_required
from training.models import ModelVersion
from web.page_selectors.monitoring import monitoring_page
from web.page_selectors.training import can_view_model_version


@analyst_required
@require_GET
def version_monitoring(request, pk: int):
    version = get_object_or_404(ModelVersion, pk=pk)
    if not can_view_model_version(request.user, version):
        raise PermissionDenied(gettext("Analysts can see the active model version only."))
    reports = reports_of(version)
    chosen = request.GET.get("report")
    if chosen:
        if not chosen.isdigit():
            raise Http404(gettext("No such report."))
        report = reports.filter(pk=int(chosen)).first()
        if report is None:
            raise Http404(gettext("No such report."))
    else:
        report = latest_report(version) or reports.first()
    context = {"version": version, "reports": reports[:24], **monitoring_page(version, report)}
    return render(request, "monitoring/version.html", context)
