"""The site's URLs plus one view that fails: the logs of a 500 are checked in test_logs.py."""

from django.urls import path

from web.urls import urlpatterns as site_urlpatterns


def failing_view(request):
    raise RuntimeError("the view failed")


urlpatterns = [*site_urlpatterns, path("failing-view/", failing_view)]
