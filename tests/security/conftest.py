"""A small, complete site for the security tests: one object behind every parameterised URL.

:func:`site` builds users of each role, a loan book, an active model version with its training run,
a prediction, a finished batch job (with a rejected row, so both downloads exist), an API token and
django-axes records (one failed and one successful login through the real form), and logged-in
clients per role. :func:`concrete_path` turns any URL pattern of the site into a path that reaches
one of those objects.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import pandas as pd
import pytest
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.contrib.contenttypes.models import ContentType
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone
from knox.models import AuthToken

from applicants.attributes import ATTRIBUTE_FIELDS
from applicants.models import Applicant
from governance.models import AuditEntry
from governance.services import Kind, propose
from monitoring.services import record_reference_distribution, write_monitoring_report
from nplsite.roles import ANALYST, MODEL_ADMIN
from nplsite.tokens import issue_api_token
from reviews.models import ApprovalLimit, ReasonCode
from reviews.services import record_decision
from scoring.batch_jobs import submit_batch_file
from scoring.policies import POLICY_FIELDS
from scoring.policy_services import create_policy, ensure_active_policy
from scoring.services import score_stored_applicant
from tests.conftest import make_user
from tests.e2e.conftest import browser, browsing  # noqa: F401 (fixtures of test_csp_in_the_browser)
from tests.web.conftest import (  # noqa: F401 (fixtures)
    make_version,
    page_book,
    page_book_file,
    trained_model,
)
from training.artifacts import load_artifact

PASSWORD = "Correct-Horse-42"
ROLES = ("anonymous", "analyst", "model_admin")

BATCH_HEADER = (
    "app_id,monthly_income,housing_type,num_of_dependent,lama_bekerja,otr,status_pernikahan,pekerjaan,tenor,dp"
)
BATCH_ROWS = [
    "2001,Rp9295094.0,milik sendiri,3 orang,2 tahun,Rp800000000.0,Belum Nikah,Karyawan Swasta,60,Rp80000000.0",
    "2003,Rp-500000.0,rumah dinas,4 orang,2 tahun,Rp300000000.0,Cerai,Profesional,48,Rp60000000.0",
]


def batch_file(name: str = "loans.csv") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, ("\n".join([BATCH_HEADER, *BATCH_ROWS]) + "\n").encode(), content_type="text/csv")


def walk_routes(patterns=None, prefix: str = "", namespace: str = ""):
    """Every URL pattern of the site as (route, view name or None): the route is the pattern's text
    with its includes' prefixes, e.g. ``"models/<int:pk>/activate/"`` or ``"admin/(?P<url>.*)$"``."""
    for entry in get_resolver().url_patterns if patterns is None else patterns:
        if isinstance(entry, URLResolver):
            inner = namespace + (f"{entry.namespace}:" if entry.namespace else "")
            yield from walk_routes(entry.url_patterns, prefix + str(entry.pattern), inner)
        elif isinstance(entry, URLPattern):
            yield prefix + str(entry.pattern), (namespace + entry.name if entry.name else None)


@dataclass
class Site:
    analyst: object
    model_admin: object
    applicant: Applicant
    version: object
    run: object
    prediction: object
    job_id: str
    token: AuthToken
    token_key: str
    change: object  # a pending change request (a policy activation proposed by the Model admin)
    decision: object
    users: dict = field(default_factory=dict)
    clients: dict = field(default_factory=dict)

    def admin_object_id(self, app_label: str, model_name: str) -> str:
        """The primary key of the sample object of an admin model (e.g. ``auth``, ``user``)."""
        sample = {
            ("auth", "user"): self.analyst.pk,
            # A throwaway token each time: the token pages may revoke (delete) it.
            ("nplsite", "apitoken"): issue_api_token(self.model_admin)[0].pk,
            ("applicants", "applicant"): self.applicant.pk,
            ("applicants", "installment"): self.applicant.installments.first().pk,
            ("training", "modelversion"): self.version.pk,
            ("training", "trainingrun"): self.run.pk,
            ("scoring", "prediction"): self.prediction.pk,
            ("scoring", "decisionpolicy"): self.prediction.policy_id,
            ("monitoring", "monitoringreport"): self.version.monitoring_reports.get().pk,
            ("monitoring", "referencedistribution"): self.version.reference_distribution.pk,
            ("governance", "changerequest"): self.change.pk,
            ("governance", "auditentry"): AuditEntry.objects.order_by("id").first().pk,
            ("reviews", "reasoncode"): ReasonCode.objects.get(code="GUARANTOR").pk,
            # A throwaway limit each time: the admin may delete it.
            ("reviews", "approvallimit"): ApprovalLimit.objects.get_or_create(user=self.analyst, amount=1)[0].pk,
            ("reviews", "reviewcase"): self.decision.case_id,
            ("reviews", "reviewdecision"): self.decision.pk,
            ("axes", "accessattempt"): AccessAttempt.objects.first().pk,
            ("axes", "accesslog"): AccessLog.objects.first().pk,
            ("axes", "accessfailurelog"): AccessFailureLog.objects.first().pk,
        }
        return str(sample[(app_label, model_name)])


def concrete_path(route: str, site: Site) -> str:
    """A requestable path for a route, its parameters filled with the site's sample objects."""
    if route.startswith("admin/"):
        route = route.replace(
            "admin/r/<path:content_type_id>/<path:object_id>/",
            f"admin/r/{ContentType.objects.get_for_model(Applicant).pk}/{site.applicant.pk}/",
        )
        model = re.match(r"admin/(\w+)/(\w+)/", route)
        if "<path:object_id>" in route:
            route = route.replace("<path:object_id>", site.admin_object_id(model[1], model[2]))
        route = route.replace("auth/user/<id>/", f"auth/user/{site.analyst.pk}/")
        route = re.sub(r"\^\(\?P<app_label>[^)]*\)/\$", "training/", route)
        route = route.replace("(?P<url>.*)$", "no-such-admin-page/")
    route = re.sub(r"<(?:int|str):app_id>", str(site.applicant.app_id), route)
    route = route.replace("<slug:job_id>", site.job_id)
    route = route.replace("<int:prediction_id>", str(site.prediction.pk))
    route = route.replace("<str:id>", str(site.prediction.pk))
    route = route.replace("<int:policy_id>", str(site.prediction.policy_id))
    route = route.replace("<int:change_id>", str(site.change.pk))
    if route.startswith("models/runs/"):
        route = route.replace("<int:pk>", str(site.run.pk))
    route = route.replace("<int:pk>", str(site.version.pk))
    assert "<" not in route and "(?P" not in route, f"no sample argument for {route}"
    return "/" + route


def role_client(role: str, site_users: dict, **client_options) -> Client:
    client = Client(**client_options)
    if role != "anonymous":
        client.force_login(site_users[role])
    return client


@pytest.fixture
def site(db, settings, tmp_path, make_version, page_book) -> Site:  # noqa: F811 (fixture use)
    settings.BATCH_UPLOAD_DIR = tmp_path / "uploads"
    analyst = make_user("ana", ANALYST)
    model_admin = make_user("mia", MODEL_ADMIN, is_staff=True)
    version = make_version()
    applicant = Applicant.objects.order_by("app_id").first()
    prediction = score_stored_applicant(applicant, user=analyst).prediction
    # A decision on another applicant's prediction: the review desk's admin pages have objects to show.
    decided = score_stored_applicant(Applicant.objects.order_by("app_id")[1], user=analyst).prediction
    decision = record_decision(decided, user=analyst, outcome="decline", reason_code="ADVERSE_BUREAU")
    job = submit_batch_file(batch_file(), user=analyst)
    assert job.has_output and job.has_report, job
    token, token_key = issue_api_token(analyst)
    # The version's monitoring: a reference distribution (of the page book's applicants) and a report.
    attributes = pd.DataFrame(list(Applicant.objects.values(*ATTRIBUTE_FIELDS)))
    record_reference_distribution(version, load_artifact(version), [attributes])
    write_monitoring_report(version, timezone.localdate(), timezone.localdate())
    # One failed and one successful login through the real form: django-axes' records exist.
    Client().post("/accounts/login/", {"username": "ana", "password": "wrong-password"})
    assert Client().post("/accounts/login/", {"username": "mia", "password": PASSWORD}).status_code == 302
    assert AccessAttempt.objects.exists() and AccessLog.objects.exists()
    # Not recorded with AXES_ENABLE_ACCESS_FAILURE_LOG off, but its admin pages exist.
    AccessFailureLog.objects.create(username="ana", ip_address="127.0.0.1", user_agent="test", path_info="/")
    users = {"analyst": analyst, "model_admin": model_admin}
    active = ensure_active_policy()
    stricter = create_policy(
        model_admin,
        reason="Stricter",
        **{**{name: getattr(active, name) for name in POLICY_FIELDS}, "approve_min_score": 600},
    )
    change = propose(Kind.ACTIVATE_POLICY, model_admin, reason="Fewer B approvals", target_id=stricter.pk)
    result = Site(
        analyst=analyst,
        model_admin=model_admin,
        applicant=applicant,
        version=version,
        run=version.training_runs.get(),
        prediction=prediction,
        job_id=job.id,
        token=token,
        token_key=token_key,
        change=change,
        decision=decision,
        users=users,
    )
    result.clients = {role: role_client(role, users) for role in ROLES}
    return result
