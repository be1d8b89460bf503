"""URLs of the REST API under /api/v1/ and the deprecated /predict/.

API views authenticate themselves (token or session) and answer 401 without credentials, so they
are exempt from the site's login redirect; the Swagger UI page is not (it is for people).
"""

from django.contrib.auth.decorators import login_not_required, login_required
from django.urls import path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.permissions import IsAuthenticated

from web.api import governance, monitoring, reviews, scoring


def _api(view_class, **initkwargs):
    return login_not_required(view_class.as_view(**initkwargs))


urlpatterns = [
    path("api/v1/score", _api(scoring.ScoreView), name="api-score"),
    path("api/v1/score/batch", _api(scoring.BatchScoreView), name="api-score-batch"),
    path("api/v1/predictions", _api(scoring.PredictionListView), name="api-predictions"),
    path("api/v1/applicants", _api(scoring.ApplicantListCreateView), name="api-applicants"),
    # Any segment: the view answers a malformed id with the API's JSON 400, not the site's HTML 404.
    path("api/v1/applicants/<str:app_id>", _api(scoring.ApplicantDetailView), name="api-applicant"),
    path("api/v1/models", _api(scoring.ModelVersionListView), name="api-models"),
    path("api/v1/models/active", _api(scoring.ActiveModelVersionView), name="api-model-active"),
    path("api/v1/policies", _api(scoring.PolicyListView), name="api-policies"),
    path("api/v1/policies/active", _api(scoring.ActivePolicyView), name="api-policy-active"),
    # The schema and its docs page describe the scoring API: for users with a role, like the API itself.
    path(
        "api/v1/schema/",
        _api(SpectacularAPIView, permission_classes=[IsAuthenticated, scoring.IsAnalyst]),
        name="api-schema",
    ),
    path(
        "api/v1/docs/",
        # A page for people: an anonymous visit is sent to the login page (the site's login
        # redirect), not answered with the API's bare 401. Split view: the start-up script is served
        # as a file (?script), so the page passes the Content-Security-Policy without inline code;
        # its template drops the inline <style> too.
        # (DRF marks its views exempt from the site's login redirect: login_required puts it back.)
        login_required(
            SpectacularSwaggerSplitView.as_view(
                url_name="api-schema",
                template_name="api/swagger_ui.html",
                permission_classes=[IsAuthenticated, scoring.IsAnalyst],
            )
        ),
        name="api-docs",
    ),
    path("api/v1/monitoring", _api(monitoring.MonitoringReportView), name="api-monitoring"),
    path("api/v1/audit-log", _api(governance.AuditLogView), name="api-audit-log"),
    path("api/v1/reviews", _api(reviews.ReviewQueueView), name="api-reviews"),
    path("api/v1/reviews/overrides", _api(reviews.OverrideReportView), name="api-review-overrides"),
    # Any segment: a malformed id answers the API's JSON 400, not the site's HTML 404.
    path("api/v1/reviews/<str:id>/decision", _api(reviews.ReviewDecisionView), name="api-review-decision"),
    path("predict/", _api(scoring.CompatPredictView), name="predict-compat"),
]
