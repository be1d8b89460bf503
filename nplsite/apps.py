from axes.apps import AppConfig as AxesAppConfig
from django.apps import AppConfig
from django.contrib.admin.apps import AdminConfig
from django.utils.translation import gettext_lazy as _


class NplSiteConfig(AppConfig):
    """Site-wide pieces: roles (groups and their data migration), API tokens, demo users, health."""

    name = "nplsite"
    label = "nplsite"
    verbose_name = _("API access")

    def ready(self):
        from django.contrib.auth import get_user_model
        from django.db.models.signals import pre_save

        from nplsite import checks  # noqa: F401 (registers the start-up checks)
        from nplsite.tokens import revoke_tokens_when_credentials_change

        pre_save.connect(
            revoke_tokens_when_credentials_change, sender=get_user_model(), dispatch_uid="npl-revoke-api-tokens"
        )


class NplAdminConfig(AdminConfig):
    default_site = "web.admin_site.NplAdminSite"


class SignInAttemptsConfig(AxesAppConfig):
    """django-axes (lock-out after failed sign-ins) under a name an administrator reads, in their
    language: the way Django lets a project rename a third-party app (a subclass of its AppConfig)."""

    verbose_name = _("Sign-in attempts")
