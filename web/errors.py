"""The site's answers to 404, 400/413 and 500: JSON for API clients, the site's pages for people.

Django calls these handlers (``handler404``/``handler400``/``handler500`` in ``web/urls.py``)
when no view answers: an unknown address, a body over ``DATA_UPLOAD_MAX_MEMORY_SIZE`` (Django's
``RequestDataTooBig``, answered 413 Payload Too Large), a view that raised. Under ``/api/`` the
answer is the REST API's ``{"detail": "…"}``; the deprecated ``/predict/`` keeps its own
``{"res": [], "error_msg": "…"}``; every other address gets the HTML page.
"""

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import HttpResponse, JsonResponse
from django.utils.translation import gettext
from django.views import defaults


def _api_answer(request, message: str, status: int) -> JsonResponse | None:
    """The JSON answer for an API address, ``None`` for a page."""
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": message}, status=status)
    if request.path.startswith("/predict/"):
        return JsonResponse({"res": [], "error_msg": message}, status=status)
    return None


def page_not_found(request, exception=None):
    message = gettext("Not found: there is no API endpoint at this address.")
    return _api_answer(request, message, 404) or defaults.page_not_found(request, exception)


def bad_request(request, exception=None):
    if isinstance(exception, RequestDataTooBig):
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        message = gettext("The request body is too large: at most %(limit)s bytes are accepted.") % {"limit": limit}
        return _api_answer(request, message, 413) or HttpResponse(message, status=413, content_type="text/plain")
    message = gettext("Bad request.")
    return _api_answer(request, message, 400) or defaults.bad_request(request, exception)


def server_error(request):
    message = gettext("The server failed to answer this request; the error is logged. Try again later.")
    return _api_answer(request, message, 500) or defaults.server_error(request)
