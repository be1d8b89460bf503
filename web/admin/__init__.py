"""The Django admin: the model admins of every app, registered on import on the site of
``web/admin_site.py`` (kept outside this package: resolving the site must not register on it first)
(Django's admin autodiscovery imports this package)."""

from web.admin import (  # noqa: F401 (registers the admins)
    accounts,
    applicants,
    governance,
    monitoring,
    reviews,
    scoring,
    training,
)
