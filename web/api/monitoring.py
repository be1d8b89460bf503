"""``GET /api/v1/monitoring``: a model version's latest monitoring report, for internal systems.

Authenticated Analysts read the active version's report; Model admins any version's (``?version=N``),
as on the pages. Alerts come with their message in the request's language (``Accept-Language``).
"""

from __future__ import annotations

from django.utils.translation import gettext
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.exceptions import NotFound, PermissionDenied, ValidationError
from rest_framework.response import Response

from monitoring.alerts import alert_message
from monitoring.selectors import latest_report
from nplsite.roles import is_model_admin
from training.models import ModelVersion
from web.api.scoring import ERROR_RESPONSES, ScoringApiView
from web.api.serializers import ErrorSerializer

MAX_ID = 2**63 - 1


class MonitoringReportView(ScoringApiView):
    @extend_schema(
        summary="A model version's latest monitoring report",
        description=(
            "Status (ok, watch, alert), the alerts in words and as numbers, population stability per attribute, "
            "derived ratio and score, and the back-test per grade and vintage. Analysts: the active version; Model "
            "admins: any version. See docs/monitoring.md for every figure."
        ),
        parameters=[OpenApiParameter("version", OpenApiTypes.INT, description="Model version id (default: active).")],
        responses={
            200: OpenApiResponse(OpenApiTypes.OBJECT, description="The report."),
            404: OpenApiResponse(ErrorSerializer, description="No such version, or no report written yet."),
            **ERROR_RESPONSES,
        },
        tags=["monitoring"],
    )
    def get(self, request):
        version = self._version(request.query_params.get("version"))
        report = latest_report(version)
        if report is None:
            return Response(
                {"detail": gettext("No monitoring report has been written for this version yet.")},
                status=status.HTTP_404_NOT_FOUND,
            )
        return Response(
            {
                "model_version": {"id": version.pk, "name": version.name, "is_active": version.is_active},
                "report": {
                    "id": report.pk,
                    "period_start": report.period_start,
                    "period_end": report.period_end,
                    "channel": report.channel,
                    "status": report.status,
                    "updated_at": report.updated_at,
                    "alerts": [{**alert, "message": alert_message(alert)} for alert in report.alerts],
                    "figures": report.figures,
                },
            }
        )

    def _version(self, raw: str | None) -> ModelVersion:
        if raw in (None, ""):
            version = ModelVersion.objects.filter(is_active=True).first()
            if version is None:
                raise NotFound(gettext("No model version is active: a model admin must train or activate one."))
            return version
        if not raw.isdigit() or int(raw) < 1 or int(raw) > MAX_ID:
            raise ValidationError({"version": [gettext("must be a model version id (a whole number of at least 1)")]})
        version = ModelVersion.objects.filter(pk=int(raw)).first()
        if version is None:
            raise NotFound(gettext("There is no model version %(id)s.") % {"id": raw})
        if not version.is_active and not is_model_admin(self.request.user):
            raise PermissionDenied(gettext("Analysts can see the active model version's monitoring only."))
        return version
