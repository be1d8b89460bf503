"""Settings of the test suite: the product's settings with development mode turned on explicitly.

``DEBUG`` defaults to off (production); the tests, like ``make run``, ask for the development
defaults (the public development key, localhost hosts, no HTTPS redirect) by setting ``DEBUG=1``
before the settings are read. Processes the tests start (Celery workers, ``manage.py``) inherit it.
pytest-django still runs each test with ``settings.DEBUG = False``, as Django's own test runner does.
"""

import os

os.environ.setdefault("DEBUG", "1")

from nplsite.settings import *  # noqa: E402, F403
