"""Authentication of REST API clients.

:class:`TokenAuthentication` is DRF's per-user token scheme (``Authorization: Token <key>``), the
same tokens and the same answers, with one difference: it finds the token, its user and the
user's roles in one SQL query instead of two ORM queries (token with user, then groups). Compiling
a queryset costs Django about 0.25 ms of CPU per query, several times what the database spends on
these lookups, and this runs on every API request. The SQL is written from the models' table and
column names, and ``Manager.raw`` turns the row into a ``User`` with Django's own type conversions.
"""

from functools import cache

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import connection
from django.utils.translation import gettext_lazy as _
from rest_framework import authentication, exceptions
from rest_framework.authtoken.models import Token

from .roles import ROLES, remember_roles


@cache
def _token_user_sql() -> str:
    # Only table and column names from the models' metadata, quoted, go into the text; values are parameters.
    quote = connection.ops.quote_name
    user = get_user_model()._meta
    membership = get_user_model().groups.through._meta
    group, token = Group._meta, Token._meta
    user_pk = f"u.{quote(user.pk.column)}"
    member_user, member_group = (quote(membership.get_field(name).column) for name in ("user", "group"))
    memberships = f"{quote(membership.db_table)} m JOIN {quote(group.db_table)} g"
    has_role = (
        f"EXISTS (SELECT 1 FROM {memberships} ON g.{quote(group.pk.column)} = m.{member_group}"  # noqa: S608
        f" WHERE m.{member_user} = {user_pk} AND g.{quote('name')} = %s)"
    )
    roles = ", ".join(f"{has_role} AS {quote(f'has_role_{index}')}" for index in range(len(ROLES)))
    token_user, token_key = quote(token.get_field("user").column), quote(token.get_field("key").column)
    tables = f"{quote(user.db_table)} u JOIN {quote(token.db_table)} t ON t.{token_user} = {user_pk}"
    return f"SELECT u.*, {roles} FROM {tables} WHERE t.{token_key} = %s"  # noqa: S608


class TokenAuthentication(authentication.TokenAuthentication):
    def authenticate_credentials(self, key):
        users = list(get_user_model()._default_manager.raw(_token_user_sql(), [*ROLES, key]))
        if not users:
            raise exceptions.AuthenticationFailed(_("Invalid token."))
        user = users[0]
        if not user.is_active:
            raise exceptions.AuthenticationFailed(_("User inactive or deleted."))
        remember_roles(user, [role for index, role in enumerate(ROLES) if getattr(user, f"has_role_{index}")])
        # request.auth: the token's key and user (its creation time is not loaded; nothing reads it).
        return (user, Token(key=key, user=user))
