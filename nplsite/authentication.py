"""API token authentication: knox's check, remembered in each process for at most half a second.

knox checks a token with two queries on every request — the token and its user, then all of the
user's other tokens (to delete expired ones) — and the role check adds a third (the user's
groups). For an internal system that scores one application after another on one token, those
three queries were a third of a scoring request's time beyond the model. So
:class:`CachedTokenAuthentication` runs knox's own ``authenticate_credentials`` (every check knox
makes: the token's digest, its expiry, an active user) and then remembers, in this process, for
``API_AUTH_CACHE_SECONDS`` (default 0.5 s; 0 turns the memory off), the token's digest
(``knox.crypto.hash_token``: the key, never the token itself), the user as read then, its roles,
and the token's expiry. Within that time a request with the same token gets a copy of that user
without a query; the token's expiry is still checked on every request.

**Revocation within a second.** Whatever revokes access — deleting a token (or changing its expiry),
a password change or a deactivation (both delete the user's tokens: :mod:`nplsite.tokens`), a change of role or of the
user row — takes effect in the process that made it at once (the model signals below drop what
this process remembers of that token or user), and in every other process when its memory of the
token runs out: at most ``API_AUTH_CACHE_SECONDS`` later, a second at most (the setting is
bounded to 0–1 s). Nothing is remembered of a token that failed.
"""

from __future__ import annotations

import binascii
import copy
import threading
import time
from dataclasses import dataclass

from django.conf import settings
from django.utils import timezone
from drf_spectacular.contrib.knox_auth_token import KnoxTokenScheme
from knox.auth import TokenAuthentication
from knox.crypto import hash_token

from nplsite.roles import ROLES_ATTRIBUTE, roles_of

#: At most this many tokens are remembered per process (the oldest readings are dropped beyond it).
MAX_REMEMBERED = 1000


@dataclass(frozen=True)
class _Verified:
    user: object  # the user row as knox read it
    auth_token: object  # knox's AuthToken
    roles: frozenset[str]
    checked_at: float  # time.monotonic() of knox's check


class _Memory:
    """What this process remembers of verified tokens, by digest (thread-safe)."""

    def __init__(self):
        self._entries: dict[str, _Verified] = {}
        self._lock = threading.Lock()

    def get(self, digest: str) -> _Verified | None:
        return self._entries.get(digest)

    def put(self, digest: str, entry: _Verified) -> None:
        with self._lock:
            if len(self._entries) >= MAX_REMEMBERED:
                oldest = sorted(self._entries, key=lambda key: self._entries[key].checked_at)
                for key in oldest[: len(oldest) // 2 + 1]:
                    del self._entries[key]
            self._entries[digest] = entry

    def forget_token(self, digest: str) -> None:
        with self._lock:
            self._entries.pop(digest, None)

    def forget_user(self, user_id) -> None:
        with self._lock:
            for key in [key for key, entry in self._entries.items() if entry.user.pk == user_id]:
                del self._entries[key]

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


memory = _Memory()


class CachedTokenAuthentication(TokenAuthentication):
    """knox's ``TokenAuthentication`` (``Authorization: Token <key>``), its result remembered briefly
    (see the module docstring)."""

    def authenticate_credentials(self, token: bytes):
        seconds = settings.API_AUTH_CACHE_SECONDS
        if seconds <= 0:
            return super().authenticate_credentials(token)
        try:
            digest = hash_token(token.decode("utf-8"))
        except (UnicodeDecodeError, TypeError, ValueError, binascii.Error):
            return super().authenticate_credentials(token)  # knox answers a malformed token in its words
        now = time.monotonic()
        entry = memory.get(digest)
        if entry is not None and now - entry.checked_at < seconds and not _expired(entry.auth_token):
            return _copy_of(entry), entry.auth_token
        memory.forget_token(digest)
        user, auth_token = super().authenticate_credentials(token)
        entry = _Verified(user=user, auth_token=auth_token, roles=frozenset(roles_of(user)), checked_at=now)
        memory.put(digest, entry)
        return _copy_of(entry), auth_token


def _expired(auth_token) -> bool:
    return auth_token.expiry is not None and auth_token.expiry < timezone.now()


def _copy_of(entry: _Verified):
    """This request's own copy of the remembered user, with its roles known (no query)."""
    user = copy.copy(entry.user)
    setattr(user, ROLES_ATTRIBUTE, set(entry.roles))
    return user


class CachedKnoxTokenScheme(KnoxTokenScheme):
    """The OpenAPI security scheme of :class:`CachedTokenAuthentication`: knox's (``knoxApiToken``)."""

    target_class = "nplsite.authentication.CachedTokenAuthentication"


# ---------------------------------------------------------------------------------------------
# What this process forgets at once (connected in NplSiteConfig.ready)
# ---------------------------------------------------------------------------------------------


def forget_token(sender, instance, **kwargs) -> None:
    """``post_save``/``post_delete`` of knox's AuthToken: a revoked (or expired and deleted) token, or
    a token whose expiry was changed."""
    memory.forget_token(instance.digest)


def forget_changed_user(sender, instance, **kwargs) -> None:
    """``post_save``/``post_delete`` of the user model: a new password, a deactivation, any change."""
    memory.forget_user(instance.pk)


def forget_changed_roles(sender, instance, action, pk_set=None, reverse=False, **kwargs) -> None:
    """``m2m_changed`` of the users' groups: a user's roles changed (from either side)."""
    if not action.startswith("post_"):
        return
    if reverse:  # group.user_set.add(...): the users are pk_set (all of them after a clear)
        if pk_set is None:
            memory.clear()
        else:
            for user_id in pk_set:
                memory.forget_user(user_id)
    else:
        memory.forget_user(instance.pk)


def forget_everything(sender, **kwargs) -> None:
    """A group renamed or deleted: every remembered role may be wrong."""
    memory.clear()
