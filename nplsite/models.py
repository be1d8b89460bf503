"""The site's own model: API tokens as the admin names them.

django-rest-knox stores the tokens (``knox.models.AuthToken``, hashed, with an expiry;
``nplsite/tokens.py`` issues and revokes them). :class:`ApiToken` is a proxy of it — the same table,
no copy — so that the admin lists them as "API tokens" in the reader's language, as the README and
the pages call them, rather than knox's "Auth tokens" under an app called "Knox".
"""

from django.utils.translation import gettext_lazy as _
from knox.models import AuthToken


class ApiToken(AuthToken):
    class Meta:
        proxy = True
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")
