"""API tokens: issued, listed and revoked per user (django-rest-knox keeps them hashed, with an expiry).

A client sends ``Authorization: Token <key>``. The key is shown once, when it is issued (the
``create_api_token`` command, or "Add API token" in the admin); only its SHA-512 digest is stored.
Tokens expire ``API_TOKEN_LIFETIME_DAYS`` after issue. Changing a user's password or deactivating
the user revokes all of that user's tokens (:func:`revoke_tokens_when_credentials_change`,
connected in ``NplSiteConfig.ready``).
"""

from __future__ import annotations

import logging
from datetime import timedelta

from django.contrib.auth import get_user_model
from knox.models import AuthToken

logger = logging.getLogger(__name__)


def issue_api_token(user, *, lifetime: timedelta | None = None) -> tuple[AuthToken, str]:
    """A new token for ``user`` (an active user): the stored token and its key, which is never shown again."""
    if not user.is_active:
        raise ValueError(f"{user.get_username()} is deactivated: activate the account before issuing a token.")
    if lifetime is None:
        return AuthToken.objects.create(user=user)
    return AuthToken.objects.create(user=user, expiry=lifetime)


def revoke_api_tokens(user) -> int:
    """Delete every token of ``user``; how many there were."""
    deleted, _ = AuthToken.objects.filter(user=user).delete()
    if deleted:
        logger.info("Revoked %s API token(s) of %s", deleted, user.get_username())
    return deleted


def revoke_tokens_when_credentials_change(sender, instance, update_fields=None, **kwargs) -> None:
    """``pre_save`` of the user model: a new password or a deactivation revokes the user's tokens."""
    if instance.pk is None or (update_fields is not None and not {"password", "is_active"} & set(update_fields)):
        return  # a new user has no tokens; a login (last_login only) changes neither
    before = get_user_model().objects.filter(pk=instance.pk).values("password", "is_active").first()
    if before is None:
        return
    if before["password"] != instance.password or (before["is_active"] and not instance.is_active):
        revoke_api_tokens(instance)
