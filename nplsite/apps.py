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
        from django.contrib.auth.models import Group
        from django.db.models.signals import m2m_changed, post_delete, post_save, pre_save
        from knox.models import get_token_model

        from nplsite import (
            authentication,
            checks,  # noqa: F401 (registers the start-up checks)
        )
        from nplsite.tokens import revoke_tokens_when_credentials_change

        user_model = get_user_model()
        pre_save.connect(revoke_tokens_when_credentials_change, sender=user_model, dispatch_uid="npl-revoke-api-tokens")
        # What this process remembers of verified API tokens is forgotten at once when access changes.
        # Also for the admin's proxy of the token (nplsite.models.ApiToken): Django sends a proxy's
        # deletions with the proxy as the sender.
        from nplsite.models import ApiToken

        for token_model in (get_token_model(), ApiToken):
            for signal, uid in ((post_save, "npl-forget-saved-token"), (post_delete, "npl-forget-deleted-token")):
                signal.connect(
                    authentication.forget_token, sender=token_model, dispatch_uid=f"{uid}-{token_model.__name__}"
                )
        for signal, uid in ((post_save, "npl-forget-saved-user"), (post_delete, "npl-forget-deleted-user")):
            signal.connect(authentication.forget_changed_user, sender=user_model, dispatch_uid=uid)
        m2m_changed.connect(
            authentication.forget_changed_roles, sender=user_model.groups.through, dispatch_uid="npl-forget-roles"
        )
        for signal, uid in ((post_save, "npl-forget-saved-group"), (post_delete, "npl-forget-deleted-group")):
            signal.connect(authentication.forget_everything, sender=Group, dispatch_uid=uid)


class NplAdminConfig(AdminConfig):
    default_site = "web.admin_site.NplAdminSite"


class SignInAttemptsConfig(AxesAppConfig):
    """django-axes (lock-out after failed sign-ins) under a name an administrator reads, in their
    language: the way Django lets a project rename a third-party app (a subclass of its AppConfig)."""

    verbose_name = _("Sign-in attempts")
