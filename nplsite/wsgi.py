import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "nplsite.settings")
application = get_wsgi_application()

from nplsite.checks import refuse_to_start_without_static_files  # noqa: E402 (needs the settings loaded)

refuse_to_start_without_static_files()
