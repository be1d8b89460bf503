"""``GET /api/v1/audit-log``: the configuration audit log for auditors (Model admins), with the
audit page's filters."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, serializers
from rest_framework.exceptions import ValidationError
from rest_framework.permissions import IsAuthenticated

from governance.models import AuditEntry
from web.api.scoring import ERROR_RESPONSES, PAGE_NOT_FOUND_RESPONSE, ApiPagination, IsAuditor, ScoringApiView
from web.forms.governance import AuditFilterForm


class AuditEntrySerializer(serializers.ModelSerializer):
    actor = serializers.SerializerMethodField(help_text="User name; null for the system.")
    change_request = serializers.PrimaryKeyRelatedField(read_only=True)

    class Meta:
        model = AuditEntry
        fields = [
            "id",
            "created_at",
            "actor",
            "action",
            "object_type",
            "object_id",
            "object_label",
            "before",
            "after",
            "change_request",
            "break_glass",
            "note",
        ]

    def get_actor(self, entry) -> str | None:
        return entry.actor.get_username() if entry.actor_id else None


FILTERS = [
    OpenApiParameter("object_type", OpenApiTypes.STR, enum=AuditEntry.ObjectType.values, description="What changed."),
    OpenApiParameter("action", OpenApiTypes.STR, enum=AuditEntry.Action.values),
    OpenApiParameter("actor", OpenApiTypes.STR, description="User name of who acted."),
    OpenApiParameter("since", OpenApiTypes.DATE, description="From this day (local time), YYYY-MM-DD."),
    OpenApiParameter("until", OpenApiTypes.DATE, description="Up to this day, YYYY-MM-DD."),
    OpenApiParameter("break_glass", OpenApiTypes.BOOL, description="true: break-glass entries only."),
]


class AuditLogView(ScoringApiView, generics.ListAPIView):
    permission_classes = [IsAuthenticated, IsAuditor]
    serializer_class = AuditEntrySerializer
    pagination_class = ApiPagination

    @extend_schema(
        summary="The configuration audit log (Auditors and Model admins)",
        description=(
            "Every change to models, decision policies and their knock-out rules, users, roles and API tokens: "
            "who proposed, who approved, when, what changed (before/after). Append-only. Newest first."
        ),
        parameters=FILTERS,
        responses={200: AuditEntrySerializer(many=True), **ERROR_RESPONSES, **PAGE_NOT_FOUND_RESPONSE},
        tags=["audit"],
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        params = {key: value for key, value in self.request.query_params.items() if key != "page"}
        form = AuditFilterForm(params)
        if not form.is_valid():
            raise ValidationError({field: [str(error) for error in errors] for field, errors in form.errors.items()})
        return form.entries().select_related("actor").order_by("-created_at", "-id")
