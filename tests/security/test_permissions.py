"""Who may do what, for every URL pattern of the site: a table, checked route by route.

``GET`` has one row per URL pattern (keyed by its route, or by its view name where the route text
is generated) with what an anonymous visitor, an Analyst and a Model admin get; ``POST`` has the
state-changing ones, posted with a valid CSRF token. The Django admin's per-model pages follow one
rule (:func:`admin_model_expectations`) from ``ADMIN_APPS``, which says what a Model admin may do in
each admin app. A URL pattern with no row and no rule fails :func:`test_every_url_pattern_has_a_row`,
so a new page cannot ship without deciding who may see it.

Expected answers: a status code; a tuple of acceptable codes; ``LOGIN`` (302 to the site's or the
admin's login page, ``next`` = the path asked for); ``ADMIN_LOGIN`` (302 to the admin's login page:
logged in, but not admitted to the admin); or ``to(path)`` (302 to exactly that path).
"""

from __future__ import annotations

import re
import string
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

import pytest
from django.conf import settings
from django.contrib.auth.models import Group, User
from django.utils.crypto import get_random_string
from knox.models import AuthToken

from applicants.models import Applicant, Installment
from scoring.models import Prediction
from tests.security.conftest import ROLES, concrete_path, role_client, walk_routes
from training.models import ModelVersion, TrainingRun

pytestmark = pytest.mark.django_db

LOGIN = "login"
ADMIN_LOGIN = "admin-login"
HEALTH = (200, 503)  # public either way; 503 while a dependency (e.g. the active model) is missing
RESCORED = 302  # to the new prediction's page (a new id each time)


@dataclass(frozen=True)
class Redirect:
    to: str


def to(path: str) -> Redirect:
    """302 to exactly ``path``; ``{app_id}``, ``{version}``, ``{run}`` are the sample objects' ids."""
    return Redirect(path)


#                                                   anonymous     Analyst        Model admin
GET = {
    "": (LOGIN, 200, 200),
    "healthz": (HEALTH, HEALTH, HEALTH),
    "accounts/login/": (200, to("/"), to("/")),
    "accounts/logout/": (LOGIN, 405, 405),
    "i18n/setlang/": (to("/"), to("/"), to("/")),
    # The Django admin's own pages (its per-model pages: ADMIN_APPS below).
    "admin/": (ADMIN_LOGIN, ADMIN_LOGIN, 200),
    "admin/login/": (200, 200, to("/admin/")),
    "admin/logout/": (ADMIN_LOGIN, to("/admin/"), 405),
    "admin/password_change/": (ADMIN_LOGIN, ADMIN_LOGIN, 200),
    "admin/password_change/done/": (ADMIN_LOGIN, ADMIN_LOGIN, 200),
    "admin/autocomplete/": (ADMIN_LOGIN, ADMIN_LOGIN, 403),
    "admin/jsi18n/": (ADMIN_LOGIN, ADMIN_LOGIN, 200),
    "admin/r/<path:content_type_id>/<path:object_id>/": (ADMIN_LOGIN, ADMIN_LOGIN, 404),
    "admin:app_list": (ADMIN_LOGIN, ADMIN_LOGIN, 200),
    "admin/(?P<url>.*)$": (ADMIN_LOGIN, ADMIN_LOGIN, 404),
    "admin/auth/user/<id>/password/": (LOGIN, ADMIN_LOGIN, 200),
    "admin/training/trainingrun/retrain/": (LOGIN, ADMIN_LOGIN, 200),
    # Analyst pages.
    "applicants/": (LOGIN, 200, 200),
    "applicants/<int:app_id>/": (LOGIN, 200, 200),
    "score/": (LOGIN, 200, 200),
    "score/applicants/<int:app_id>/": (LOGIN, 405, 405),
    "score/predictions/<int:prediction_id>/": (LOGIN, 200, 200),
    "score/predictions/<int:prediction_id>/rescore/": (LOGIN, 405, 405),
    "batch/": (LOGIN, 200, 200),
    "batch/template.csv": (LOGIN, 200, 200),
    "batch/rescore/": (LOGIN, 403, 405),  # a Model admin's re-score of the stored applications: POST only
    # The sample job is the Analyst's own; Model admins may see every job.
    "batch/<slug:job_id>/": (LOGIN, 200, 200),
    "batch/<slug:job_id>/status.json": (LOGIN, 200, 200),
    "batch/<slug:job_id>/scored.csv": (LOGIN, 200, 200),
    "batch/<slug:job_id>/scored-excel.csv": (LOGIN, 200, 200),
    "batch/<slug:job_id>/errors.csv": (LOGIN, 200, 200),
    "batch/<slug:job_id>/retry/": (LOGIN, 405, 405),
    # Model pages: Analysts see the active version; the rest is for Model admins.
    "models/": (LOGIN, 200, 200),
    "models/<int:pk>/": (LOGIN, 200, 200),
    "models/<int:pk>/dossier.pdf": (LOGIN, 200, 200),
    "models/<int:pk>/dossier.xlsx": (LOGIN, 200, 200),
    "models/<int:pk>/activate/": (LOGIN, 403, 200),
    "models/rollback/": (LOGIN, 403, 200),
    "models/retrain/": (LOGIN, 403, 200),
    "models/runs/<int:pk>/": (LOGIN, 403, 200),
    "models/runs/<int:pk>/status.json": (LOGIN, 403, 200),
    # Decision policies: Model admins only.
    "policies/": (LOGIN, 403, 200),
    "policies/new/": (LOGIN, 403, 200),
    "policies/<int:policy_id>/": (LOGIN, 403, 200),
    "policies/<int:policy_id>/activate/": (LOGIN, 403, 405),
    "models/runs/<int:pk>/retry/": (LOGIN, 403, 405),
    # Monitoring: the sample version is the active one, which Analysts may watch.
    "monitoring/<int:pk>/": (LOGIN, 200, 200),
    # The review desk: the queue and its cases for Analysts; the override report for Model admins.
    "reviews/": (LOGIN, 200, 200),
    "reviews/overrides/": (LOGIN, 403, 200),
    "reviews/<int:prediction_id>/": (LOGIN, 200, 200),
    "reviews/<int:prediction_id>/claim/": (LOGIN, 405, 405),
    "reviews/<int:prediction_id>/release/": (LOGIN, 405, 405),
    "reviews/<int:prediction_id>/assign/": (LOGIN, 405, 405),
    "reviews/<int:prediction_id>/notes/": (LOGIN, 405, 405),
    "reviews/<int:prediction_id>/send/": (LOGIN, 405, 405),
    "reviews/<int:prediction_id>/decision/": (LOGIN, 405, 405),
    # Model admins keep the reason codes and approval limits (cases and decisions: read-only).
    "admin/reviews/reasoncode/<path:object_id>/change/": (LOGIN, ADMIN_LOGIN, 200),
    "admin/reviews/approvallimit/<path:object_id>/change/": (LOGIN, ADMIN_LOGIN, 200),
    "admin/reviews/approvallimit/<path:object_id>/delete/": (LOGIN, ADMIN_LOGIN, 200),
    # REST API: 401 without credentials, 403 with the wrong role, 405 for the wrong method.
    "api/v1/score": (401, 405, 405),
    "api/v1/score/batch": (401, 405, 405),
    "api/v1/predictions": (401, 200, 200),
    "api/v1/applicants": (401, 200, 200),
    "api/v1/applicants/<str:app_id>": (401, 200, 200),
    "api/v1/models": (401, 403, 200),
    "api/v1/models/active": (401, 200, 200),
    "api/v1/policies": (401, 403, 200),
    "api/v1/policies/active": (401, 200, 200),
    "api/v1/monitoring": (401, 200, 200),
    "api/v1/audit-log": (401, 403, 200),
    # Four eyes and the audit log: Model admins only.
    "changes/": (LOGIN, 403, 200),
    "changes/audit/": (LOGIN, 403, 200),
    "changes/<int:change_id>/approve/": (LOGIN, 403, 405),
    "changes/<int:change_id>/reject/": (LOGIN, 403, 405),
    "api/v1/reviews": (401, 200, 200),
    "api/v1/reviews/overrides": (401, 403, 200),
    "api/v1/reviews/<str:id>/decision": (401, 405, 405),
    "api/v1/schema/": (401, 200, 200),
    "api/v1/docs/": (LOGIN, 200, 200),  # a page for people: the login page, not a bare 401
    "predict/": (401, 405, 405),
}

# State-changing URLs, posted with a valid CSRF token and POST_DATA (invalid input where valid input
# would start real work, e.g. a training run: the answer still shows the request got through).
POST = {
    "accounts/login/": (200, to("/"), to("/")),
    "accounts/logout/": (LOGIN, to("/accounts/login/"), to("/accounts/login/")),
    "i18n/setlang/": (to("/"), to("/"), to("/")),
    "admin/login/": (200, 200, 200),
    "admin/logout/": (ADMIN_LOGIN, to("/admin/"), to("/accounts/login/")),
    "admin/password_change/": (ADMIN_LOGIN, ADMIN_LOGIN, 200),
    "admin/auth/user/<id>/password/": (LOGIN, ADMIN_LOGIN, 200),
    "admin/training/trainingrun/retrain/": (LOGIN, ADMIN_LOGIN, 200),
    "score/": (LOGIN, 400, 400),
    "score/applicants/<int:app_id>/": (
        LOGIN,
        to("/applicants/{app_id}/#predictions"),
        to("/applicants/{app_id}/#predictions"),
    ),
    "batch/": (LOGIN, 400, 400),
    # A Model admin's re-score starts a job on the sample book: to its page (a new id each time).
    "batch/rescore/": (LOGIN, 403, 302),
    # The sample job and run succeeded: "Start again" is refused, back to their pages.
    "batch/<slug:job_id>/retry/": (LOGIN, to("/batch/{job}/"), to("/batch/{job}/")),
    "models/runs/<int:pk>/retry/": (LOGIN, 403, to("/models/runs/{run}/")),
    # A proposal without a reason is refused in words, on the page it came from.
    "models/<int:pk>/activate/": (LOGIN, 403, to("/models/{version}/activate/")),
    # The sample change was proposed by the Model admin: their own approval is refused; a rejection
    # needs a reason. Either way back to the Changes page, nothing decided.
    "changes/<int:change_id>/approve/": (LOGIN, 403, to("/changes/")),
    "changes/<int:change_id>/reject/": (LOGIN, 403, to("/changes/")),
    "score/predictions/<int:prediction_id>/rescore/": (LOGIN, RESCORED, RESCORED),
    "policies/new/": (LOGIN, 403, 400),
    "policies/<int:policy_id>/activate/": (LOGIN, 403, to("/policies/{policy}/")),
    "models/rollback/": (LOGIN, 403, to("/models/rollback/")),
    "models/retrain/": (LOGIN, 403, 400),
    # Each back to the case's page, with what was done or why not in a message; an empty note or
    # decision is the case's page again, with the error (400).
    "reviews/<int:prediction_id>/claim/": (LOGIN, to("/reviews/{prediction}/"), to("/reviews/{prediction}/")),
    "reviews/<int:prediction_id>/release/": (LOGIN, to("/reviews/{prediction}/"), to("/reviews/{prediction}/")),
    "reviews/<int:prediction_id>/assign/": (LOGIN, to("/reviews/{prediction}/"), to("/reviews/{prediction}/")),
    "reviews/<int:prediction_id>/send/": (LOGIN, to("/reviews/{prediction}/"), to("/reviews/{prediction}/")),
    "reviews/<int:prediction_id>/notes/": (LOGIN, 400, 400),
    "reviews/<int:prediction_id>/decision/": (LOGIN, 400, 400),
    "admin/reviews/reasoncode/<path:object_id>/change/": (LOGIN, ADMIN_LOGIN, 200),
    "admin/reviews/approvallimit/<path:object_id>/change/": (LOGIN, ADMIN_LOGIN, 200),
    "admin/reviews/approvallimit/<path:object_id>/delete/": (LOGIN, ADMIN_LOGIN, (200, 302)),
    "api/v1/reviews/<str:id>/decision": (401, 400, 400),
    "api/v1/score": (401, 400, 400),
    "api/v1/score/batch": (401, 400, 400),
    "api/v1/applicants": (401, 400, 400),
    "predict/": (401, 400, 400),
}
POST_DATA = {
    "accounts/login/": {"username": "nobody", "password": "wrong-password"},
    "admin/login/": {"username": "nobody", "password": "wrong-password"},
    "i18n/setlang/": {"language": "id", "next": "/"},
    "admin/training/trainingrun/retrain/": {"profile": "no-such-profile"},
    "models/retrain/": {"profile": "no-such-profile"},
    "policies/new/": {"action": "activate", "grade_bands": "not bands"},
}

# What a Model admin may do in each app of the Django admin ("view": read-only; "users": create and
# change users, never delete them; "tokens": list, issue and revoke (delete) API tokens; None: nothing).
# Anonymous visitors are sent to a login page and Analysts to the admin's login page, always.
ADMIN_APPS = {
    "applicants": "view",
    "training": "view",
    "scoring": "view",  # and Model admins add decision policies (ADDABLE_ADMIN_MODELS)
    "auth": "users",  # users (groups are the two roles, set on the user: not in the admin)
    "nplsite": "tokens",  # API tokens (nplsite.models.ApiToken, a proxy of knox's token)
    "monitoring": "view",
    "governance": "view",  # change requests and the audit log: read-only, never edited or deleted
    "reviews": "view",  # and Model admins keep the reason codes and approval limits (rows above)
    "axes": None,  # login attempts and lockouts: superusers only (or manage.py axes_reset_username)
}
# A new decision policy is proposed on the policy page (percentages, one field per band, its
# strategy curves): the admin's "Add" leads there.
ADDED_ELSEWHERE = {("scoring", "decisionpolicy"): "/policies/new/"}
# Added in the admin itself: a reason code (through save_reason_code), a user's approval limit.
ADDABLE_ADMIN_MODELS = {("reviews", "reasoncode"), ("reviews", "approvallimit")}
ADMIN_MODEL_ROUTE = re.compile(r"^admin/(?P<app>\w+)/(?P<model>\w+)/(?P<rest>.*)$")


def admin_model_expectations(route: str) -> tuple[tuple, tuple | None] | None:
    """(GET row, POST row or None) for a per-model admin page, or None if the rule does not cover it."""
    match = ADMIN_MODEL_ROUTE.match(route)
    if not match or match["app"] not in ADMIN_APPS:
        return None
    access = ADMIN_APPS[match["app"]]
    may_view = access is not None
    rest = match["rest"]

    def row(model_admin, post_model_admin=None):
        get = (LOGIN, ADMIN_LOGIN, model_admin)
        return get, (None if post_model_admin is None else (LOGIN, ADMIN_LOGIN, post_model_admin))

    if rest == "":  # the change list; a POST runs an admin action ("delete selected" is not offered:
        # the list is shown again, or redirected back to with "No action selected"; for tokens it revokes)
        return row(200 if may_view else 403, (200, 302) if may_view else 403)
    if rest == "add/" and (match["app"], match["model"]) in ADDED_ELSEWHERE:
        elsewhere = ADDED_ELSEWHERE[match["app"], match["model"]]
        return row(to(elsewhere), to(elsewhere))
    if rest == "add/":  # the POST has no data: the form again, with its errors
        addable = (match["app"], match["model"]) in ADDABLE_ADMIN_MODELS or access in ("users", "tokens")
        return row(200, 200) if addable else row(403, 403)
    if rest == "<path:object_id>/change/":
        return row(200 if may_view else 403, 200 if access == "users" else 403)
    if rest == "<path:object_id>/delete/":  # users are deactivated, never deleted; a token is revoked
        return row(200, (200, 302)) if access == "tokens" else row(403, 403)
    if rest == "<path:object_id>/history/":
        return row(200 if may_view else 403)
    if rest == "<path:object_id>/":  # Django's redirect to the change page
        return row(to("/admin/{app}/{model}/{object_id}/change/"))
    return None


def api_route(route: str) -> bool:
    return route.startswith(("api/", "predict/"))


def expected_rows(route: str, name: str | None) -> tuple[tuple | None, tuple | None]:
    key = name if name in GET else route
    if key in GET:
        return GET[key], POST.get(key)
    rule = admin_model_expectations(route)
    return rule if rule is not None else (None, None)


def state_changing_routes() -> list[str]:
    """Every route with a POST row: the POST table and the admin's change lists, add, change and delete pages."""
    return [route for route, name in walk_routes() if expected_rows(route, name)[1] is not None]


def _ids(site, path: str) -> dict:
    ids = {
        "app_id": site.applicant.app_id,
        "version": site.version.pk,
        "run": site.run.pk,
        "policy": site.prediction.policy_id,
        "job": site.job_id,
        "prediction": site.prediction.pk,
    }
    match = re.match(r"^/admin/(?P<app>\w+)/(?P<model>\w+)/(?P<object_id>[^/]+)/", path)
    return {**ids, **(match.groupdict() if match else {})}


def mismatch(response, expected, path: str, site) -> str | None:
    """None when the response is what ``expected`` says, else a description of the difference."""
    status, location = response.status_code, response.get("Location", "")
    if isinstance(expected, tuple):
        ok = status in expected
    elif isinstance(expected, int):
        ok = status == expected
    elif isinstance(expected, Redirect):
        ok = status == 302 and location == expected.to.format(**_ids(site, path))
    else:
        pages = ("/accounts/login/", "/admin/login/") if expected == LOGIN else ("/admin/login/",)
        target = urlsplit(location)
        ok = status == 302 and target.path in pages and parse_qs(target.query).get("next") == [path]
    return None if ok else f"{status} {location}".strip() + f", expected {expected}"


def csrf_client(role: str, site):
    """A client that enforces CSRF checks, holding a valid token pair (cookie and header)."""
    client = role_client(role, site.users, enforce_csrf_checks=True, raise_request_exception=False)
    secret = get_random_string(32, string.ascii_letters + string.digits)
    client.cookies[settings.CSRF_COOKIE_NAME] = secret
    return client, {"HTTP_X_CSRFTOKEN": secret}


def post(route: str, path: str, role: str, site):
    client, headers = csrf_client(role, site)  # a new client each time: a POST may log it out
    data = POST_DATA.get(route, {})
    admin_model = ADMIN_MODEL_ROUTE.match(route)
    if admin_model and admin_model["rest"] == "":  # an admin change list: try to delete the sample object
        object_id = site.admin_object_id(admin_model["app"], admin_model["model"])
        data = {"action": "delete_selected", "_selected_action": [object_id], "post": "yes"}
    if api_route(route):
        return client.post(path, data, content_type="application/json", **headers)
    return client.post(path, data, **headers)


def test_every_url_pattern_has_a_row():
    missing = [f"{route} ({name})" for route, name in walk_routes() if expected_rows(route, name) == (None, None)]
    assert not missing, "URL patterns without a row in the permission table (add one):\n" + "\n".join(missing)
    routes = {route for route, _ in walk_routes()} | {name for _, name in walk_routes() if name}
    stale = sorted(set(GET) - routes)
    assert not stale, f"rows for URL patterns that no longer exist: {stale}"
    assert set(POST) <= set(GET), sorted(set(POST) - set(GET))


def test_a_new_url_pattern_would_fail_the_coverage_check():
    assert expected_rows("reports/<int:pk>/export/", "reports:export") == (None, None)
    assert expected_rows("admin/newapp/thing/", "admin:newapp_thing_changelist") == (None, None)


@pytest.mark.parametrize("role", ROLES)
def test_every_url_answers_as_the_table_says(site, role):
    column = ROLES.index(role)
    counts = {model: model.objects.count() for model in (Applicant, Installment, ModelVersion, TrainingRun, Prediction)}
    counts.update({User: User.objects.count(), Group: Group.objects.count(), AuthToken: AuthToken.objects.count()})
    client = role_client(role, site.users, raise_request_exception=False)
    problems, checked = [], 0
    for route, name in walk_routes():
        get_row, post_row = expected_rows(route, name)
        path = concrete_path(route, site)
        problem = mismatch(client.get(path), get_row[column], path, site)
        if problem:
            problems.append(f"GET  {path} ({route}) as {role}: {problem}")
        checked += 1
        if post_row is not None:
            problem = mismatch(post(route, path, role, site), post_row[column], path, site)
            if problem:
                problems.append(f"POST {path} ({route}) as {role}: {problem}")
            checked += 1
    assert not problems, "\n".join(problems)
    assert checked > 150
    # No POST of any role deleted anything (admin "delete selected" included) but the throwaway API
    # tokens made for the token pages (Site.admin_object_id), which Model admins may revoke.
    for model, count in counts.items():
        assert model.objects.count() >= count, model


def test_the_expectations_can_fail(site):
    """The checker tells a wrong answer from a right one."""
    response = site.clients["analyst"].get("/models/retrain/")
    assert mismatch(response, 403, "/models/retrain/", site) is None
    assert mismatch(response, 200, "/models/retrain/", site) == "403, expected 200"
    anonymous = site.clients["anonymous"].get("/score/")
    assert mismatch(anonymous, LOGIN, "/score/", site) is None
    assert mismatch(anonymous, LOGIN, "/batch/", site) is not None
    assert mismatch(anonymous, ADMIN_LOGIN, "/score/", site) is not None
