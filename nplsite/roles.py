"""The three roles of the platform, as Django groups created by data migrations.

- Analyst: scores and reviews applicants.
- Model admin: retrains and activates models, and has staff access to the Django admin.
- Auditor: reads, never changes: the changes waiting for approval, the configuration audit log (page
  and API) and the override report. An internal auditor or an examiner gets this role rather than a
  Model admin's powers. Model admins read the same.

Roles are checked on the server with :func:`is_analyst` / :func:`is_model_admin` (superusers count
as both), never only by hiding links.
"""

from django.contrib.auth.decorators import user_passes_test
from django.core.exceptions import PermissionDenied

ANALYST = "Analyst"
MODEL_ADMIN = "Model admin"
AUDITOR = "Auditor"
ROLES = (ANALYST, MODEL_ADMIN, AUDITOR)
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


def is_auditor(user) -> bool:
    """May read the audit log, the changes waiting for approval and the override report."""
    return _in_group(user, AUDITOR) or _in_group(user, MODEL_ADMIN)


def main_role(names) -> str:
    """The role a user holding the roles ``names`` is shown with: the most powerful one ("" for none)."""
    return next((role for role in (MODEL_ADMIN, ANALYST, AUDITOR) if role in names), "")


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
auditor_required = _require(is_auditor)


def roles_context(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"user_is_analyst": False, "user_is_model_admin": False, "user_is_auditor": False}
    return {
        "user_is_analyst": is_analyst(user),
        "user_is_model_admin": is_model_admin(user),
        "user_is_auditor": is_auditor(user),
    }
