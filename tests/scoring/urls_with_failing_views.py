"""The site's URLs (and error handlers) plus an API view and a page that fail with an exception."""

from django.contrib.auth.decorators import login_not_required
from django.urls import path

from web.urls import handler400, handler404, handler500  # noqa: F401 (Django reads them from the URLconf)
from web.urls import urlpatterns as site_urlpatterns


@login_not_required
def failing_view(request):
    raise RuntimeError("the view failed")


urlpatterns = [*site_urlpatterns, path("api/v1/failing", failing_view), path("failing-page/", failing_view)]
