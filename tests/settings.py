"""Settings of the test suite: the product's settings with development mode turned on explicitly.

``DEBUG`` defaults to off (production); the tests, like ``make run``, ask for the development
defaults (the public development key, localhost hosts, no HTTPS redirect) by setting ``DEBUG=1``
before the settings are read. Processes the tests start (Celery workers, ``manage.py``) inherit it.
pytest-django still runs each test with ``settings.DEBUG = False``, as Django's own test runner does.
"""

import os
import uuid

os.environ.setdefault("DEBUG", "1")
# One test session's cache entries (rate-limit counts, above all) apart from another's and, under
# pytest-xdist, each worker's apart from the other's: their databases give users the same ids. The
# processes a worker starts (Celery, gunicorn) inherit both variables, so they share its namespace.
os.environ.setdefault("NPL_TEST_SESSION", uuid.uuid4().hex[:8])

from nplsite.settings import *  # noqa: E402, F403

WORKER = os.environ.get("PYTEST_XDIST_WORKER", "main")
CACHES["default"]["KEY_PREFIX"] = f"test-{os.environ['NPL_TEST_SESSION']}-{WORKER}"  # noqa: F405
