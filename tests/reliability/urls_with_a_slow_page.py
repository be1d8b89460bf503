"""The site's URLs plus one page and one API path whose query takes a second (PostgreSQL's pg_sleep)."""

from django.db import connection
from django.http import HttpResponse
from django.urls import path

from web.urls import urlpatterns as site_urlpatterns


def slow_query(request):
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_sleep(1)")
    return HttpResponse("done")


urlpatterns = [*site_urlpatterns, path("slow-page/", slow_query), path("api/v1/slow", slow_query)]
