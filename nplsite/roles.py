"""The two roles of the platform, as Django groups created by a data migration.

- Analyst: scores and reviews applicants.
- Model admin: retrains and activates models, and has staff access to the Django admin.

Roles are checked on the server with :func:`is_analyst` / :func:`is_model_admin` (superusers count
as both), never only by hiding links.
"""

from django.contrib.auth.decorators import user_passes_test
from django.core.exceptions import PermissionDenied

ANALYST = "Analyst"
MODEL_ADMIN = "Model admin"
ROLES = (ANALYST, MODEL_ADMIN)
# Where a user object keeps its roles once read (one query per request; an API token's remembered
# check brings them along: nplsite/authentication.py).
ROLES_ATTRIBUTE = "_npl_roles"


def roles_of(user) -> set[str]:
    """The roles (groups of :data:`ROLES`) the user is in, read from the database."""
    return set(user.groups.filter(name__in=ROLES).values_list("name", flat=True))


def _in_group(user, role: str) -> bool:
    if not user.is_authenticated or not user.is_active:
        return False
    if user.is_superuser:
        return True
    roles = getattr(user, ROLES_ATTRIBUTE, None)
    if roles is None:  # one query per request, then remembered on the user object
        roles = roles_of(user)
        setattr(user, ROLES_ATTRIBUTE, roles)
    return role in roles


def is_analyst(user) -> bool:
    return _in_group(user, ANALYST) or _in_group(user, MODEL_ADMIN)


def is_model_admin(user) -> bool:
    return _in_group(user, MODEL_ADMIN)


def _require(check):
    def test(user):
        if not user.is_authenticated:
            return False
        if not check(user):
            raise PermissionDenied
        return True

    return user_passes_test(test)


analyst_required = _require(is_analyst)
model_admin_required = _require(is_model_admin)


def roles_context(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"user_is_analyst": False, "user_is_model_admin": False}
    return {"user_is_analyst": is_analyst(user), "user_is_model_admin": is_model_admin(user)}
