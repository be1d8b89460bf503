"""The review desk's API: the queue, a decision on a case, the override report.

Who sees what: users with the Analyst role (and Model admins) read the whole queue — it is one shared
desk, claimed case by case — and record decisions under the rules of ``reviews/services.py``; the
override report, which judges people's decisions, is for Model admins, as its page is. A case's id is
its prediction's id. Refusals are 400 (or 403 when a role or an assignment stands in the way) with
the reason in words, through the API's one exception handler (``web/api/errors.py``).
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.utils.translation import gettext
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
    inline_serializer,
)
from rest_framework import serializers, status
from rest_framework.exceptions import NotFound, PermissionDenied, ValidationError
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from reviews import selectors, services
from reviews.models import NOTE_MAX_LENGTH, ReviewCase, ReviewDecision
from scoring.models import Prediction
from web.api import examples as api_examples
from web.api.scoring import ERROR_RESPONSES, PAGE_NOT_FOUND_RESPONSE, ApiPagination, IsAuditor, ScoringApiView
from web.api.serializers import ErrorSerializer, ReviewDecisionSerializer
from web.page_selectors.reviews import override_report

MAX_ID = 2**63 - 1
MINE = "me"

# ---------------------------------------------------------------------------------------------
# Shapes
# ---------------------------------------------------------------------------------------------


class QueueFilterSerializer(serializers.Serializer):
    grade = serializers.CharField(required=False, max_length=4, help_text="A risk grade, e.g. C.")
    channel = serializers.ChoiceField(required=False, choices=Prediction.Channel.choices)
    assignee = serializers.CharField(
        required=False,
        max_length=150,
        help_text=f"A user name, `{MINE}` (the caller) or `{selectors.UNASSIGNED}` (unassigned cases).",
    )
    age = serializers.ChoiceField(
        required=False,
        choices=selectors.AGES,
        help_text="`overdue`: older than REVIEW_TARGET_WORKING_DAYS working days; `within_target`: the others.",
    )
    status = serializers.ChoiceField(required=False, choices=ReviewCase.Status.choices)

    def validate_status(self, value: str) -> str:
        if value == ReviewCase.Status.DECIDED:
            raise serializers.ValidationError(
                gettext("Decided cases are not in the queue; a prediction's decisions are in its answer.")
            )
        return value

    def validate_assignee(self, value: str):
        if value in (MINE, selectors.UNASSIGNED):
            return value
        user = get_user_model().objects.filter(username=value, is_active=True).first()
        if user is None:
            raise serializers.ValidationError(
                gettext("There is no active user %(name)s; give a user name, %(mine)s or %(none)s.")
                % {"name": value, "mine": MINE, "none": selectors.UNASSIGNED}
            )
        return user

    def selector_arguments(self, user) -> dict:
        data = dict(self.validated_data)
        if data.get("assignee") == MINE:
            data["assignee"] = user
        return data


class PendingDecisionSerializer(serializers.Serializer):
    outcome = serializers.ChoiceField(choices=ReviewDecision.Outcome.choices)
    decided_by = serializers.CharField()
    reason_code = serializers.CharField(allow_null=True)


class QueueItemSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="prediction.pk", help_text="The case's id: its prediction's.")
    app_id = serializers.SerializerMethodField()
    credit_score = serializers.IntegerField(source="prediction.credit_score")
    risk_grade = serializers.CharField(source="prediction.risk_grade")
    recommendation = serializers.ChoiceField(
        source="prediction.recommendation", choices=Prediction.Recommendation.choices
    )
    npl_probability = serializers.FloatField(source="prediction.npl_probability")
    financed_amount = serializers.IntegerField(help_text="otr − dp, in rupiah.")
    channel = serializers.ChoiceField(source="prediction.channel", choices=Prediction.Channel.choices)
    scored_at = serializers.DateTimeField(source="prediction.created_at")
    entered_at = serializers.DateTimeField(help_text="When the case entered the queue (scored, or sent to review).")
    sent_to_review = serializers.BooleanField(help_text="Sent to the queue by an analyst (not recommended review).")
    age_working_days = serializers.IntegerField(help_text="Working days (Monday to Friday) since it entered.")
    aging = serializers.ChoiceField(choices=["on_time", "due", "overdue"])
    target_working_days = serializers.SerializerMethodField()
    status = serializers.ChoiceField(choices=ReviewCase.Status.choices)
    assignee = serializers.SerializerMethodField()
    pending_decision = serializers.SerializerMethodField(
        help_text="For a referred case or one awaiting a second decision: the decision it awaits after."
    )

    def get_app_id(self, entry) -> int | None:
        return entry.prediction.applicant.app_id if entry.prediction.applicant_id else None

    def get_target_working_days(self, entry) -> int:
        return selectors.target_working_days()

    def get_assignee(self, entry) -> str | None:
        return entry.assignee.get_username() if entry.assignee is not None else None

    @extend_schema_field(PendingDecisionSerializer(allow_null=True))
    def get_pending_decision(self, entry) -> dict | None:
        decision = entry.pending_decision
        if decision is None:
            return None
        return {
            "outcome": decision.outcome,
            "decided_by": decision.decided_by.get_username(),
            "reason_code": decision.reason_code.code if decision.reason_code else None,
        }


class DecisionRequestSerializer(serializers.Serializer):
    outcome = serializers.ChoiceField(choices=ReviewDecision.Outcome.choices)
    reason_code = serializers.CharField(
        required=False,
        allow_blank=True,
        allow_null=True,
        max_length=20,
        help_text="A code of the maintained list (admin: Decision reason codes); required for an override.",
    )
    note = serializers.CharField(required=False, allow_blank=True, max_length=NOTE_MAX_LENGTH)


CaseStateSerializer = inline_serializer(
    "ReviewCaseState",
    {
        "id": serializers.IntegerField(),
        "status": serializers.ChoiceField(choices=ReviewCase.Status.choices),
        "final_outcome": serializers.CharField(allow_null=True),
        "assignee": serializers.CharField(allow_null=True),
    },
)


# ---------------------------------------------------------------------------------------------
# Views
# ---------------------------------------------------------------------------------------------


def _prediction(raw: str) -> Prediction:
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_ID:
        raise ValidationError({"id": [gettext("must be a case id: a prediction id, a whole number of at least 1")]})
    prediction = Prediction.objects.select_related("applicant").filter(pk=int(raw)).first()
    if prediction is None:
        raise NotFound(gettext("There is no prediction %(id)s.") % {"id": raw})
    return prediction


def _refusal(error: services.ReviewError):
    if isinstance(error, services.ReviewPermissionError):
        return PermissionDenied(error.message)
    return ValidationError({error.field: [error.message]})


class ReviewQueueView(ScoringApiView):
    pagination_class = ApiPagination

    @extend_schema(
        summary="The review queue",
        description="Applications to decide, oldest first: the latest prediction of each application recommended "
        "review, or sent to review by an analyst, that no final decision has settled (referred cases and "
        "approvals awaiting a second decision included). For every user with the Analyst role.",
        parameters=[QueueFilterSerializer],
        responses={200: QueueItemSerializer(many=True), **ERROR_RESPONSES, **PAGE_NOT_FOUND_RESPONSE},
        examples=api_examples.REVIEW_QUEUE_EXAMPLES,
        tags=["reviews"],
    )
    def get(self, request):
        params = QueueFilterSerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(
            selectors.queue(**params.selector_arguments(request.user)), request, view=self
        )
        entries = selectors.queue_entries(page)
        return paginator.get_paginated_response(QueueItemSerializer(entries, many=True).data)


class ReviewDecisionView(ScoringApiView):
    @extend_schema(
        summary="Record a decision on a case",
        description="Approve, decline or refer up a case (its id is the prediction's), with a reason code and a "
        "note. The decision is stored beside the prediction, never replacing it. A decision against an approve "
        "or decline recommendation is an override and needs a reason code. An approval of more than the "
        "caller's approval limit is a first decision: the case awaits a second one by someone else whose limit "
        "covers the amount financed.",
        # The URL takes any path segment (a malformed id gets this API's JSON 400); the documented
        # parameter is the whole number it must be.
        parameters=[
            OpenApiParameter("id", OpenApiTypes.INT, OpenApiParameter.PATH, description="The case's prediction id.")
        ],
        request=DecisionRequestSerializer,
        examples=api_examples.DECISION_EXAMPLES,
        responses={
            201: inline_serializer(
                "ReviewDecisionAnswer", {"decision": ReviewDecisionSerializer(), "case": CaseStateSerializer}
            ),
            404: OpenApiResponse(ErrorSerializer, description="No such prediction."),
            **ERROR_RESPONSES,
        },
        tags=["reviews"],
    )
    def post(self, request, id: str):  # "id": the name the URL gives the case
        prediction = _prediction(id)
        body = DecisionRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        try:
            decision = services.record_decision(prediction, user=request.user, **body.validated_data)
        except services.ReviewError as error:
            raise _refusal(error) from None
        case = decision.case
        return Response(
            {
                "decision": ReviewDecisionSerializer(decision).data,
                "case": {
                    "id": prediction.pk,
                    "status": case.status,
                    "final_outcome": case.final_outcome or None,
                    "assignee": case.assignee.get_username() if case.assignee_id else None,
                },
            },
            status=status.HTTP_201_CREATED,
        )


class OverrideReportFilterSerializer(serializers.Serializer):
    date_from = serializers.DateField(required=False, help_text="First day of decisions counted (YYYY-MM-DD).")
    date_to = serializers.DateField(required=False, help_text="Last day of decisions counted (YYYY-MM-DD).")

    def validate(self, data):
        if data.get("date_from") and data.get("date_to") and data["date_from"] > data["date_to"]:
            raise serializers.ValidationError({"date_from": [gettext("The start of the period is after its end.")]})
        return data


class OverrideReportView(ScoringApiView):
    permission_classes = [IsAuthenticated, IsAuditor]

    @extend_schema(
        summary="The override report",
        description="Override rate (overrides over decisions on an approve or decline recommendation), high-side "
        "and low-side overrides, and the realised NPL rate of overridden and followed decisions whose applicants' "
        "outcome is known (labelled MONITORING_OUTCOME_WINDOW_MONTHS after the application month): overall and by "
        "analyst, reason code, grade and month of decision. For Auditors and Model admins.",
        parameters=[OverrideReportFilterSerializer],
        responses={200: OpenApiResponse(OpenApiTypes.OBJECT, description="The report."), **ERROR_RESPONSES},
        examples=api_examples.OVERRIDE_REPORT_EXAMPLES,
        tags=["reviews"],
    )
    def get(self, request):
        params = OverrideReportFilterSerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        return Response(override_report(**params.validated_data))
