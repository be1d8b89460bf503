"""The API's one exception handler (``REST_FRAMEWORK["EXCEPTION_HANDLER"]``): every error under
``/api/`` and ``/predict/`` answers JSON in one shape.

- invalid applicant data (:class:`scoring.services.ApplicantDataError`) → 400
  ``{"detail": "Invalid applicant data.", "errors": {field: [...]}}``; a view with
  ``errors_by_item = True`` (batch scoring) keys the errors by the item's index;
- invalid query parameters or body shape (DRF's ``ValidationError``) → 400
  ``{"detail": "Invalid request.", "errors": {...}}``;
- no usable model (:class:`scoring.engine.ScoringUnavailableError`) → 503 ``{"detail": ...}``;
- everything else as DRF answers it (401, 403, 404, 405, 429, …: ``{"detail": ...}``);
- always as JSON, also from a view whose answer is another format (the OpenAPI schema's YAML).

A view with ``original_error_format = True`` (the deprecated ``/predict/``) gets the original
service's body instead, ``{"res": [], "error_msg": "..."}``, and 400 for a body it cannot read.
"""

from __future__ import annotations

from django.utils.translation import gettext
from rest_framework import status
from rest_framework.exceptions import ValidationError
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.views import exception_handler

from scoring.engine import ScoringUnavailableError
from scoring.services import ApplicantDataError


def api_exception_handler(exc, context):
    view = context.get("view")
    request = context.get("request")
    if request is not None and not isinstance(getattr(request, "accepted_renderer", None), JSONRenderer):
        # An error is JSON even where the answer would not be (the OpenAPI schema's default is YAML).
        request.accepted_renderer, request.accepted_media_type = JSONRenderer(), JSONRenderer.media_type
    if getattr(view, "original_error_format", False):
        return _original_format(exc, context)
    if isinstance(exc, ApplicantDataError):
        if getattr(view, "errors_by_item", False):
            errors = {str(index): item_errors for index, item_errors in sorted(exc.errors.items())}
        else:
            errors = exc.errors.get(0, {})
        return Response(
            {"detail": gettext("Invalid applicant data."), "errors": errors}, status=status.HTTP_400_BAD_REQUEST
        )
    if isinstance(exc, ScoringUnavailableError):
        return Response({"detail": str(exc)}, status=status.HTTP_503_SERVICE_UNAVAILABLE)
    if isinstance(exc, ValidationError):
        errors = exc.detail if isinstance(exc.detail, dict) else {"non_field_errors": exc.detail}
        return Response({"detail": gettext("Invalid request."), "errors": errors}, status=status.HTTP_400_BAD_REQUEST)
    return exception_handler(exc, context)


def _original_format(exc, context):
    if isinstance(exc, ApplicantDataError):
        errors = exc.errors.get(0, {})
        message = "; ".join(f"{field}: {' '.join(messages)}" for field, messages in errors.items())
        return Response({"res": [], "error_msg": message}, status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, ScoringUnavailableError):
        return Response({"res": [], "error_msg": str(exc)}, status=status.HTTP_503_SERVICE_UNAVAILABLE)
    response = exception_handler(exc, context)
    if response is None:
        return None
    detail = response.data.get("detail", response.data) if isinstance(response.data, dict) else response.data
    response.data = {"res": [], "error_msg": str(detail)}
    if response.status_code == status.HTTP_415_UNSUPPORTED_MEDIA_TYPE:
        response.status_code = status.HTTP_400_BAD_REQUEST
    return response
