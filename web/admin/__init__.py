"""The Django admin: the site (``site.py``) and the model admins of every app, registered on import
(Django's admin autodiscovery imports this package)."""

from web.admin import accounts, applicants, monitoring, scoring, training  # noqa: F401 (registers the admins)
