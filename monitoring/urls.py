"""URL of the monitoring API under /api/v1/: it authenticates itself (token or session, 401 without),
so it is exempt from the site's login redirect, as the scoring API is."""

from django.contrib.auth.decorators import login_not_required
from django.urls import path

from .api import MonitoringReportView

urlpatterns = [
    path("api/v1/monitoring", login_not_required(MonitoringReportView.as_view()), name="api-monitoring"),
]
