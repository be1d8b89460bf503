"""The REST API (``/api/v1/``) and the deprecated ``/predict/`` of the original project.

Views only parse the request, call one service or selector and shape the answer. Every endpoint
needs authentication (token or session; no credentials → 401) and a role: Analysts (API clients
are users in the Analyst group) score and read; model internals beyond the active version's
summary are for Model admins. Errors are JSON with a ``detail`` and, for invalid data, ``errors``
per field (per item index for a batch); a missing or unusable model answers 503.
"""

from __future__ import annotations

import re

from django.conf import settings
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    PolymorphicProxySerializer,
    extend_schema,
    inline_serializer,
)
from rest_framework import generics, serializers, status
from rest_framework.exceptions import ParseError, ValidationError
from rest_framework.pagination import PageNumberPagination
from rest_framework.parsers import JSONParser
from rest_framework.permissions import BasePermission, IsAuthenticated
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from applicants.models import Applicant
from nplsite.roles import is_analyst, is_auditor, is_model_admin
from scoring import selectors
from scoring.models import Prediction
from scoring.policies import list_policies
from scoring.policy_services import ensure_active_policy
from scoring.services import create_applicant, score_requests, score_valid_applicants
from training.selectors import get_active_model_version
from web.api import examples as api_examples
from web.api.serializers import (
    ApplicantCreateSerializer,
    ApplicantDetailSerializer,
    ApplicantFilterSerializer,
    ApplicantSerializer,
    BatchScoreRequestSerializer,
    CompatPredictRequestSerializer,
    CompatPredictResponseSerializer,
    ErrorSerializer,
    ModelVersionDetailSerializer,
    ModelVersionSummarySerializer,
    PolicyDetailSerializer,
    PolicySummarySerializer,
    PredictionFilterSerializer,
    PredictionSerializer,
    ScoreRequestSerializer,
    cleaned_requests,
)

# ---------------------------------------------------------------------------------------------
# Permissions, pagination, errors
# ---------------------------------------------------------------------------------------------


class IsAnalyst(BasePermission):
    message = "Your account has no role that may use the scoring API; ask for the Analyst role."

    def has_permission(self, request, view):
        return is_analyst(request.user)


class IsModelAdmin(BasePermission):
    message = "Only Model admins may see model internals."

    def has_permission(self, request, view):
        return is_model_admin(request.user)


class IsAuditor(BasePermission):
    message = "Only Auditors and Model admins may read this."

    def has_permission(self, request, view):
        return is_auditor(request.user)


class ApiPagination(PageNumberPagination):
    page_size_query_param = "page_size"
    max_page_size = 500

    def get_paginated_response_schema(self, schema):
        """DRF's page schema, with examples that fit the schema's one-item examples (DRF's own are
        a count of 123 and links to ``api.example.org/accounts/``)."""
        paginated = super().get_paginated_response_schema(schema)
        paginated["properties"]["count"]["example"] = 1
        paginated["properties"]["next"]["example"] = None
        paginated["properties"]["previous"]["example"] = None
        return paginated


ERROR_RESPONSES = {
    400: OpenApiResponse(ErrorSerializer, description="Invalid data, with messages per field."),
    401: OpenApiResponse(ErrorSerializer, description="No or invalid credentials."),
    403: OpenApiResponse(ErrorSerializer, description="The account lacks the role."),
    429: OpenApiResponse(
        ErrorSerializer, description="Over the per-user rate limit (API_THROTTLE_RATE); Retry-After says when to retry."
    ),
}
# Paginated lists: a page number past the end (or below 1) is DRF's 404 {"detail": "Invalid page."}.
PAGE_NOT_FOUND_RESPONSE = {404: OpenApiResponse(ErrorSerializer, description="No such page of results.")}
UNAVAILABLE_RESPONSE = {
    503: OpenApiResponse(ErrorSerializer, description="No active model, or its artifact is unusable.")
}


class SafeJsonParser(JSONParser):
    """DRF's JSON parser, also answering 400 in words (not 500) for a body nested too deeply for the
    decoder, and for text that is not valid Unicode: JSON may spell a lone surrogate (``"\\ud800"``),
    which no answer can encode, so the body is refused before anything quotes it."""

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise ParseError(gettext("JSON parse error - the body is nested too deeply.")) from None
        if not _valid_unicode(data):
            raise ParseError(
                gettext(
                    "JSON parse error - the body holds text that is not valid Unicode (a lone surrogate such as "
                    "\\ud800, as a value or a key); send UTF-8 text."
                )
            )
        return data


def _valid_unicode(data) -> bool:
    """Whether every string in a parsed JSON body (values and keys) can be encoded as UTF-8."""
    pending = [data]
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            try:
                item.encode("utf-8")
            except UnicodeEncodeError:
                return False
        elif isinstance(item, dict):
            pending.extend(item.keys())
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
    return True


class ScoringApiView(APIView):
    """Authenticated Analysts; invalid data → 400 with per-field errors; no usable model → 503."""

    permission_classes = [IsAuthenticated, IsAnalyst]
    parser_classes = [SafeJsonParser]


MAX_BIGINT = 2**63 - 1

# ---------------------------------------------------------------------------------------------
# Scoring
# ---------------------------------------------------------------------------------------------


class ScoreView(ScoringApiView):
    @extend_schema(
        summary="Score one applicant",
        description="Calibrated NPL probability, label at the active version's threshold, credit score (300–850), "
        "risk grade, expected loss in rupiah, recommendation and the top three reasons. Every score is stored as "
        "a prediction. With `app_id` the prediction is linked to that applicant (stored if new).",
        request=ScoreRequestSerializer,
        responses={200: PredictionSerializer, **ERROR_RESPONSES, **UNAVAILABLE_RESPONSE},
        tags=["scoring"],
    )
    def post(self, request):
        result = score_requests(cleaned_requests([request.data]), user=request.user, channel=Prediction.Channel.API)[0]
        result.prediction.review_decisions_read = []  # just stored: nobody has decided on it yet
        return Response(PredictionSerializer(result.prediction).data)


class BatchScoreView(ScoringApiView):
    errors_by_item = True  # invalid applicants' errors keyed by their index (web/api/errors.py)

    @extend_schema(
        summary="Score many applicants",
        description='Body `{"applicants": [...]}` (or a bare list) of at most SCORING_BATCH_MAX (default 1,000) '
        "applicants. All or nothing: if any item is invalid, nothing is scored and `errors` maps each bad item's "
        "index to its field errors.",
        request=BatchScoreRequestSerializer,
        examples=api_examples.BATCH_EXAMPLES,
        responses={
            200: inline_serializer(
                "BatchScoreResponse",
                {"count": serializers.IntegerField(), "results": PredictionSerializer(many=True)},
            ),
            **ERROR_RESPONSES,
            **UNAVAILABLE_RESPONSE,
        },
        tags=["scoring"],
    )
    def post(self, request):
        data = request.data
        items = data.get("applicants") if isinstance(data, dict) else data
        maximum = settings.SCORING_BATCH_MAX
        if not isinstance(items, list):
            raise ValidationError(
                {"applicants": [gettext('Expected {"applicants": [...]}: a list of applicant objects.')]}
            )
        if not items:
            raise ValidationError({"applicants": [gettext("The list is empty: send at least one applicant.")]})
        if len(items) > maximum:
            raise ValidationError(
                {
                    "applicants": [
                        gettext("%(count)s applicants sent; at most %(maximum)s per request. Split the batch.")
                        % {"count": len(items), "maximum": maximum}
                    ]
                }
            )
        results = score_requests(cleaned_requests(items), user=request.user, channel=Prediction.Channel.API)
        return Response({"count": len(results), "results": PredictionSerializer(just_stored(results), many=True).data})


class CompatJsonParser(SafeJsonParser):
    """JSON whatever the Content-Type says (or when it is missing), as the original service read bodies."""

    media_type = "*/*"


class CompatPredictView(APIView):
    """The original project's endpoint, kept for its clients: ``{"res", "prob", "error_msg"}``."""

    permission_classes = [IsAuthenticated, IsAnalyst]
    parser_classes = [CompatJsonParser]
    renderer_classes = [JSONRenderer]
    original_error_format = True  # {"res": [], "error_msg": ...} (web/api/errors.py)

    @extend_schema(
        summary="Score one applicant (original format, deprecated)",
        description='Deprecated: use POST /api/v1/score. Answers `res` ("Ya" = predicted NPL, "Tidak" = not), '
        "`prob` (100 × probability of NOT becoming NPL, 2 decimals) and `error_msg`. Numbers may be sent as "
        'floats or numeric strings; other fields are ignored. Errors answer `{"res": [], "error_msg": ...}`.',
        request=CompatPredictRequestSerializer,
        examples=api_examples.COMPAT_EXAMPLES,
        responses={
            200: CompatPredictResponseSerializer,
            400: CompatPredictResponseSerializer,
            401: CompatPredictResponseSerializer,
            403: CompatPredictResponseSerializer,
            503: CompatPredictResponseSerializer,
        },
        deprecated=True,
        tags=["compatibility"],
    )
    def post(self, request):
        ((attributes, _),) = cleaned_requests([request.data], allow_app_id=False, lenient=True)
        result = score_valid_applicants([attributes], user=request.user, channel=Prediction.Channel.API)[0]
        return Response(
            {"res": "Ya" if result.prediction.is_npl else "Tidak", "prob": result.not_npl_percent, "error_msg": ""}
        )

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        response["Deprecation"] = "true"
        response["Link"] = '</api/v1/score>; rel="successor-version"'
        return response


# ---------------------------------------------------------------------------------------------
# Predictions and applicants
# ---------------------------------------------------------------------------------------------


class PredictionListView(ScoringApiView, generics.ListAPIView):
    serializer_class = PredictionSerializer
    pagination_class = ApiPagination

    @extend_schema(
        summary="List stored predictions",
        parameters=[PredictionFilterSerializer],
        responses={200: PredictionSerializer(many=True), **ERROR_RESPONSES, **PAGE_NOT_FOUND_RESPONSE},
        tags=["predictions"],
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        params = PredictionFilterSerializer(data=self.request.query_params)
        params.is_valid(raise_exception=True)
        return selectors.predictions(**params.selector_arguments())


class ApplicantListCreateView(ScoringApiView, generics.ListAPIView):
    serializer_class = ApplicantSerializer
    pagination_class = ApiPagination

    @extend_schema(
        summary="List applicants",
        parameters=[ApplicantFilterSerializer],
        responses={200: ApplicantSerializer(many=True), **ERROR_RESPONSES, **PAGE_NOT_FOUND_RESPONSE},
        tags=["applicants"],
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    @extend_schema(
        summary="Store one applicant",
        description="A new application (no payment history yet) with its nine attributes.",
        request=ApplicantCreateSerializer,
        responses={201: ApplicantSerializer, **ERROR_RESPONSES},
        tags=["applicants"],
    )
    def post(self, request, *args, **kwargs):
        ((attributes, app_id),) = cleaned_requests([request.data], require_app_id=True)
        applicant = create_applicant(attributes, app_id=app_id)
        return Response(ApplicantSerializer(applicant).data, status=status.HTTP_201_CREATED)

    def get_queryset(self):
        params = ApplicantFilterSerializer(data=self.request.query_params)
        params.is_valid(raise_exception=True)
        return selectors.applicants(**params.selector_arguments())


class ApplicantDetailView(ScoringApiView):
    @extend_schema(
        summary="One applicant",
        description="Attributes, payment summary (kolektibilitas, max DPD, NPL, installment counts) and the latest "
        "prediction.",
        # The URL takes any path segment (so a malformed id gets this API's JSON 400, not the site's HTML
        # 404 page); the documented parameter is the whole number it must be.
        parameters=[OpenApiParameter("app_id", OpenApiTypes.INT, OpenApiParameter.PATH)],
        responses={200: ApplicantDetailSerializer, 404: ErrorSerializer, **ERROR_RESPONSES},
        tags=["applicants"],
    )
    def get(self, request, app_id: str):
        if not re.fullmatch(r"-?[0-9]{1,30}", app_id):
            raise ValidationError({"app_id": [f"must be a whole number, got {app_id!r}"]})
        if abs(int(app_id)) > MAX_BIGINT:
            raise ValidationError({"app_id": [f"must be at most {MAX_BIGINT}"]})
        applicant = get_object_or_404(Applicant, app_id=int(app_id))
        return Response(ApplicantDetailSerializer(applicant).data)


# ---------------------------------------------------------------------------------------------
# Model versions
# ---------------------------------------------------------------------------------------------


class ModelVersionListView(ScoringApiView, generics.ListAPIView):
    permission_classes = [IsAuthenticated, IsModelAdmin]
    serializer_class = ModelVersionDetailSerializer
    pagination_class = ApiPagination

    @extend_schema(
        summary="All model versions (Model admins)",
        description="Every version with hyperparameters, full metrics and its training run's leaderboard.",
        responses={200: ModelVersionDetailSerializer(many=True), **ERROR_RESPONSES, **PAGE_NOT_FOUND_RESPONSE},
        tags=["models"],
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        return selectors.model_versions()


class ActiveModelVersionView(ScoringApiView):
    @extend_schema(
        summary="The active model version",
        description="Analysts get a summary (name, algorithm, threshold, dates, headline test metrics); Model "
        "admins get everything, as in /api/v1/models.",
        responses={
            200: OpenApiResponse(
                PolymorphicProxySerializer(
                    component_name="ActiveModelVersion",
                    serializers=[ModelVersionSummarySerializer, ModelVersionDetailSerializer],
                    resource_type_field_name=None,
                ),
                description="Summary (Analysts) or full detail (Model admins).",
            ),
            404: ErrorSerializer,
            **ERROR_RESPONSES,
        },
        tags=["models"],
    )
    def get(self, request):
        version = get_active_model_version()
        if version is None:
            return Response(
                {"detail": gettext("No model version is active: a model admin must train or activate one.")},
                status=status.HTTP_404_NOT_FOUND,
            )
        serializer = ModelVersionDetailSerializer if is_model_admin(request.user) else ModelVersionSummarySerializer
        return Response(serializer(version).data)


# ---------------------------------------------------------------------------------------------
# Decision policies
# ---------------------------------------------------------------------------------------------


class ActivePolicyView(ScoringApiView):
    @extend_schema(
        summary="The decision policy in force",
        description="Analysts get the grade bands and cut-offs that apply (the fields below); Model admins get "
        "every field of a policy in /api/v1/policies (PolicyDetail: these and the rest).",
        responses={
            200: OpenApiResponse(
                PolicySummarySerializer,
                description="Bands and cut-offs; for Model admins also every other field (PolicyDetail).",
            ),
            **ERROR_RESPONSES,
        },
        tags=["policies"],
    )
    def get(self, request):
        policy = ensure_active_policy()
        serializer = PolicyDetailSerializer if is_model_admin(request.user) else PolicySummarySerializer
        return Response(serializer(policy).data)


class PolicyListView(ScoringApiView, generics.ListAPIView):
    permission_classes = [IsAuthenticated, IsModelAdmin]
    serializer_class = PolicyDetailSerializer
    pagination_class = ApiPagination

    @extend_schema(
        summary="All decision policies (Model admins)",
        description="Every policy version, newest first, with who created and activated it and why.",
        responses={200: PolicyDetailSerializer(many=True), **ERROR_RESPONSES, **PAGE_NOT_FOUND_RESPONSE},
        tags=["policies"],
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        return list_policies()


def just_stored(results) -> list:
    """The predictions of a scoring call, marked as having no review decision yet (none can exist)."""
    for result in results:
        result.prediction.review_decisions_read = []
    return [result.prediction for result in results]
