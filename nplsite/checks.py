"""Start-up checks of a production site (``DEBUG`` off).

With ``DEBUG`` off the pages' CSS and scripts are served by WhiteNoise from the files
``collectstatic`` wrote, looked up in its manifest; without them every page would fail to render
(gunicorn's bare "Internal Server Error"). :func:`static_files_collected` says so in words: it is a
deployment system check (``manage.py check --deploy``) and ``nplsite/wsgi.py`` runs it before the
web server takes a request, so the server refuses to start instead.
"""

from pathlib import Path

from django.conf import settings
from django.core import checks

STATIC_MANIFEST = "staticfiles.json"


@checks.register("npl", deploy=True)
def static_files_collected(app_configs=None, **kwargs) -> list[checks.Error]:
    if settings.DEBUG:
        return []
    manifest = Path(settings.STATIC_ROOT) / STATIC_MANIFEST
    if manifest.is_file():
        return []
    return [
        checks.Error(
            f"DEBUG is off but the static files are not collected: {manifest} does not exist.",
            hint="Run `python manage.py collectstatic --noinput` (with the same STATIC_ROOT) before starting "
            "the web server; the Dockerfile does it when the image is built.",
            id="nplsite.E001",
        )
    ]


def refuse_to_start_without_static_files() -> None:
    """Raise ``ImproperlyConfigured`` with the check's message when the static files are missing."""
    from django.core.exceptions import ImproperlyConfigured

    errors = static_files_collected()
    if errors:
        raise ImproperlyConfigured(f"{errors[0].msg} {errors[0].hint}")
