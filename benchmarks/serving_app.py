"""The site plus one bare view, for ``benchmarks/serving.py`` (``gunicorn serving_app:application``).

``GET /benchmark/bare`` answers "ok" through the same middleware as every other request of the
site, with no login, no database and no DRF: what any request costs this server before a view does
anything.
"""

from django.contrib.auth.decorators import login_not_required
from django.http import HttpResponse
from django.urls import clear_url_caches, path

from nplsite.wsgi import application  # noqa: F401 (what gunicorn serves; sets Django up first)
from web import urls


@login_not_required
def bare(request):
    return HttpResponse("ok", content_type="text/plain")


urls.urlpatterns.append(path("benchmark/bare", bare))
clear_url_caches()
