"""The Auditor role: reads the configuration audit log, the changes waiting for approval and the
override report (pages and API), and may change nothing — roles enforced on the server."""

import pytest
from django.contrib.auth.models import Group
from django.test import Client

from governance.models import AuditEntry, ChangeRequest
from governance.services import Kind, propose
from nplsite.roles import AUDITOR
from nplsite.tokens import issue_api_token
from tests.conftest import make_user
from tests.security.test_access_scope import empty_token_inline
from tests.support import VALID_APPLICANT
from tests.web.pagecheck import checked_page, text_of
from training.models import ModelVersion

pytestmark = pytest.mark.django_db


@pytest.fixture
def auditor(db):
    return make_user("aud", AUDITOR)


@pytest.fixture
def pending_activation(make_version, model_admin):
    make_version()
    candidate = make_version(activate=False)
    return propose(Kind.ACTIVATE_MODEL, model_admin, reason="Better recall", target_id=candidate.pk)


def test_the_auditor_role_comes_from_a_migration():
    """(Transactional tests elsewhere flush the groups the migrations made: run the migration's step.)"""
    from importlib import import_module

    from django.apps import apps

    migration = import_module("nplsite.migrations.0003_create_auditor_role")
    Group.objects.filter(name=AUDITOR).delete()
    migration.create_auditor_role(apps, None)
    assert Group.objects.filter(name=AUDITOR).exists()


def test_an_auditor_reads_the_audit_log_the_pending_changes_and_the_override_report(auditor, pending_activation):
    browser = Client()
    browser.force_login(auditor)
    audit = text_of(browser.get("/changes/audit/"))
    assert "Proposed" in audit and "Better recall" in audit
    changes = checked_page(browser.get("/changes/"))
    assert "Better recall" in " ".join(changes.text)
    # Nothing to approve, reject or withdraw: those forms are a Model admin's.
    assert not [attrs for attrs in changes.all("form") if "/changes/" in (attrs.get("action") or "")]
    assert browser.get("/reviews/overrides/").status_code == 200
    home = text_of(browser.get("/"))
    assert "You are signed in as an auditor" in home and "Auditor" in home


def test_an_auditor_changes_nothing_and_scores_nothing(auditor, pending_activation):
    browser = Client()
    browser.force_login(auditor)
    assert browser.post(f"/changes/{pending_activation.pk}/approve/", {"reason": "ok"}).status_code == 403
    assert browser.post(f"/changes/{pending_activation.pk}/reject/", {"reason": "no"}).status_code == 403
    assert ChangeRequest.objects.get().status == ChangeRequest.Status.PENDING
    assert not ModelVersion.objects.get(pk=pending_activation.target_id).is_active
    for path in ("/score/", "/applicants/", "/reviews/", "/models/", "/policies/", "/batch/"):
        assert browser.get(path).status_code == 403, path
    assert browser.get("/admin/").status_code == 302  # not staff: the admin's login page


def test_the_api_lets_an_auditor_read_the_audit_log_and_override_report_only(client, auditor, pending_activation):
    token = {"HTTP_AUTHORIZATION": f"Token {issue_api_token(auditor)[1]}"}
    body = client.get("/api/v1/audit-log", **token).json()
    assert [row["action"] for row in body["results"]] == ["proposed"]
    assert client.get("/api/v1/reviews/overrides", **token).status_code == 200
    scored = client.post("/api/v1/score", VALID_APPLICANT, content_type="application/json", **token)
    assert scored.status_code == 403
    assert client.get("/api/v1/reviews", **token).status_code == 403


def test_a_model_admin_gives_the_auditor_role_in_the_admin_and_it_is_audited(model_admin_client, analyst):
    data = {"username": analyst.username, "is_active": "on", "role": AUDITOR, **empty_token_inline()}
    assert model_admin_client.post(f"/admin/auth/user/{analyst.pk}/change/", data).status_code == 302
    analyst.refresh_from_db()
    assert list(analyst.groups.values_list("name", flat=True)) == [AUDITOR] and not analyst.is_staff
    changed = AuditEntry.objects.get(object_type="user", action="changed")
    assert changed.before["role"] == "Analyst" and changed.after["role"] == AUDITOR
