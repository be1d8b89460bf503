"""The site plus two benchmark views, for ``benchmarks/serving.py`` (``gunicorn serving_app:application``).

- ``GET /benchmark/bare`` answers "ok" through the same middleware as every other request of the
  site, with no login, no database and no DRF: what any request costs this server before a view
  does anything.
- ``POST /benchmark/engine`` with one applicant's nine attributes as JSON scores it with the
  engine, as ``POST /api/v1/score`` does (``engine.score(columns).row(0)``: the active model, the
  policy's figures, the reasons chosen and built), and answers the milliseconds that call took,
  measured here: the engine's own time for that applicant in the server's process, on its thread
  and its OpenMP setting, at the moment of the requests it is compared with.
"""

import json
import time

from django.contrib.auth.decorators import login_not_required
from django.http import HttpResponse
from django.urls import clear_url_caches, path
from django.views.decorators.csrf import csrf_exempt

from nplsite.wsgi import application  # noqa: F401 (what gunicorn serves; sets Django up first)
from web import urls


@login_not_required
def bare(request):
    return HttpResponse("ok", content_type="text/plain")


@csrf_exempt
@login_not_required
def engine_time(request):
    from scoring.engine import engine

    columns = {name: [value] for name, value in json.loads(request.body).items()}
    started = time.perf_counter()
    engine.score(columns).row(0)
    return HttpResponse(f"{(time.perf_counter() - started) * 1000:.6f}", content_type="text/plain")


urls.urlpatterns += [path("benchmark/bare", bare), path("benchmark/engine", engine_time)]
clear_url_caches()
