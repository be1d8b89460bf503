"""Four eyes (maker-checker) for model activation, roll-back and policy activation, break glass, and
the append-only configuration audit log: services, pages, admin and API (issue 23)."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction

from governance.models import AuditEntry, AuditLogIsAppendOnly, ChangeRequest
from governance.services import ChangeRefused, Kind, approve, break_glass_roll_back, propose, reject
from nplsite.roles import MODEL_ADMIN
from nplsite.tokens import issue_api_token
from scoring.models import DecisionPolicy
from scoring.policies import POLICY_FIELDS
from scoring.policy_services import create_policy, ensure_active_policy
from tests.conftest import make_user
from tests.security.test_access_scope import empty_token_inline
from tests.web.pagecheck import checked_page, text_of
from training.models import ModelVersion

pytestmark = pytest.mark.django_db


@pytest.fixture
def second_admin(db):
    return make_user("max", MODEL_ADMIN, is_staff=True)


@pytest.fixture
def two_versions(make_version):
    first = make_version()
    return first, make_version(activate=False)


def new_policy(model_admin, **changes):
    active = ensure_active_policy()
    figures = {name: getattr(active, name) for name in POLICY_FIELDS}
    return create_policy(model_admin, reason="Stricter", **{**figures, "approve_min_score": 600, **changes})


def test_a_model_activation_waits_for_a_second_admin_and_the_proposer_cannot_approve_it(
    model_admin, second_admin, two_versions
):
    first, second = two_versions
    change = propose(Kind.ACTIVATE_MODEL, model_admin, reason="Better recall on the folds", target_id=second.pk)
    assert ModelVersion.objects.get(is_active=True) == first  # nothing changed yet
    with pytest.raises(ChangeRefused, match="You proposed this change"):
        approve(change, model_admin)
    assert ModelVersion.objects.get(is_active=True) == first
    with pytest.raises(ChangeRefused, match="already waiting for approval"):
        propose(Kind.ACTIVATE_MODEL, second_admin, reason="again", target_id=second.pk)

    approve(change, second_admin, reason="Checked the dossier")
    assert ModelVersion.objects.get(is_active=True) == second
    change.refresh_from_db()
    assert (change.status, change.decided_by) == (ChangeRequest.Status.APPROVED, second_admin)
    entries = list(AuditEntry.objects.filter(change_request=change).order_by("id"))
    assert [(entry.action, entry.actor) for entry in entries] == [("proposed", model_admin), ("approved", second_admin)]
    assert (
        entries[1].before["active_model_version"] == first.pk and entries[1].after["active_model_version"] == second.pk
    )
    with pytest.raises(ChangeRefused, match="already decided"):
        approve(change, second_admin)


def test_a_policy_activation_is_proposed_then_approved_or_rejected_with_a_reason(
    model_admin, second_admin, active_version
):
    first = ensure_active_policy()
    stricter = new_policy(model_admin)
    with pytest.raises(ValidationError, match="Say why"):
        propose(Kind.ACTIVATE_POLICY, model_admin, reason=" ", target_id=stricter.pk)
    change = propose(Kind.ACTIVATE_POLICY, model_admin, reason="Fewer B approvals", target_id=stricter.pk)
    with pytest.raises(ValidationError, match="Say why"):
        reject(change, second_admin, reason="")
    reject(change, second_admin, reason="Wait for the quarter's back-test")
    assert DecisionPolicy.objects.get(is_active=True) == first
    again = propose(Kind.ACTIVATE_POLICY, model_admin, reason="Back-test done", target_id=stricter.pk)
    approve(again, second_admin)
    assert DecisionPolicy.objects.get(is_active=True) == stricter


def test_analysts_can_neither_propose_nor_approve(analyst, model_admin, two_versions):
    _, second = two_versions
    with pytest.raises(PermissionDenied):
        propose(Kind.ACTIVATE_MODEL, analyst, reason="x", target_id=second.pk)
    change = propose(Kind.ACTIVATE_MODEL, model_admin, reason="x", target_id=second.pk)
    with pytest.raises(PermissionDenied):
        approve(change, analyst)


def test_break_glass_rolls_back_at_once_alone_and_is_flagged(model_admin, make_version):
    first = make_version()
    second = make_version()
    with pytest.raises(ValidationError, match="Say why"):
        break_glass_roll_back(model_admin, reason="")
    break_glass_roll_back(model_admin, reason="Artifact scoring everyone 0.99")
    assert ModelVersion.objects.get(is_active=True) == first
    entry = AuditEntry.objects.get(action="break_glass")
    assert entry.break_glass and entry.actor == model_admin and entry.note == "Artifact scoring everyone 0.99"
    assert entry.before["active_model_version"] == second.pk and entry.after["active_model_version"] == first.pk


def test_the_audit_log_is_append_only_through_the_orm(model_admin, two_versions):
    _, second = two_versions
    propose(Kind.ACTIVATE_MODEL, model_admin, reason="x", target_id=second.pk)
    entry = AuditEntry.objects.get()
    entry.note = "rewritten"
    with pytest.raises(AuditLogIsAppendOnly):
        entry.save()
    with pytest.raises(AuditLogIsAppendOnly):
        entry.delete()
    with pytest.raises(AuditLogIsAppendOnly):
        AuditEntry.objects.filter(pk=entry.pk).update(note="rewritten")
    with pytest.raises(AuditLogIsAppendOnly):
        AuditEntry.objects.all().delete()
    assert AuditEntry.objects.get().note == "x"


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the database trigger is PostgreSQL's")
def test_on_postgresql_a_trigger_refuses_changing_the_audit_log_from_any_client(model_admin, two_versions):
    from django.db import DatabaseError

    _, second = two_versions
    propose(Kind.ACTIVATE_MODEL, model_admin, reason="x", target_id=second.pk)
    for sql in ("UPDATE governance_auditentry SET note = 'rewritten'", "DELETE FROM governance_auditentry"):
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql)
    assert AuditEntry.objects.get().note == "x"


def test_the_pages_propose_show_the_pending_change_and_let_only_the_other_admin_approve(
    model_admin_client, client, second_admin, two_versions
):
    first, second = two_versions
    response = model_admin_client.post(f"/models/{second.pk}/activate/", {"reason": "Better recall"})
    assert response["Location"] == "/changes/"
    assert ModelVersion.objects.get(is_active=True) == first
    change = ChangeRequest.objects.get()
    own = checked_page(model_admin_client.get("/changes/"))
    assert "Proposed by you: another model admin approves it." in " ".join(own.text)
    assert f"/changes/{change.pk}/approve/" not in [attrs.get("action") for attrs in own.all("form")]
    refused = model_admin_client.post(f"/changes/{change.pk}/approve/", follow=True)
    assert "You proposed this change" in text_of(refused)

    client.force_login(second_admin)
    other = checked_page(client.get("/changes/"))
    assert f"/changes/{change.pk}/approve/" in [attrs.get("action") for attrs in other.all("form")]
    client.post(f"/changes/{change.pk}/approve/", {"reason": "ok"})
    assert ModelVersion.objects.get(is_active=True) == second
    audit = text_of(client.get("/changes/audit/?object_type=model_version"))
    assert "Approved" in audit and "Proposed" in audit and "Better recall" in audit
    # What changed is written field by field, not as a Python dictionary.
    assert f"active_model_version {first.pk} → {second.pk}" in audit and "{'" not in audit

    no_reason = model_admin_client.post(f"/models/{first.pk}/activate/", {"reason": ""}, follow=True)
    assert "Say why" in text_of(no_reason) and ChangeRequest.objects.count() == 1


def test_the_policy_page_proposes_and_the_rollback_page_breaks_glass(model_admin_client, model_admin, make_version):
    make_version()
    make_version()
    stricter = new_policy(model_admin)
    model_admin_client.post(f"/policies/{stricter.pk}/activate/", {"reason": "Q3 review"})
    assert (
        ChangeRequest.objects.get().kind == Kind.ACTIVATE_POLICY
        and not DecisionPolicy.objects.get(pk=stricter.pk).is_active
    )
    model_admin_client.post("/models/rollback/", {"action": "break_glass", "reason": "Broken scores"})
    assert AuditEntry.objects.filter(break_glass=True).count() == 1
    flagged = text_of(model_admin_client.get("/changes/audit/?break_glass=on"))
    assert "Break-glass" in flagged and "Broken scores" in flagged


def test_the_audit_log_api_for_admins_with_filters_and_errors(client, analyst, model_admin, second_admin, two_versions):
    _, second = two_versions
    change = propose(Kind.ACTIVATE_MODEL, model_admin, reason="x", target_id=second.pk)
    approve(change, second_admin)
    admin_token = {"HTTP_AUTHORIZATION": f"Token {issue_api_token(model_admin)[1]}"}
    body = client.get("/api/v1/audit-log", **admin_token).json()
    assert [row["action"] for row in body["results"]] == ["approved", "proposed"]
    assert body["results"][0]["actor"] == "max" and body["results"][0]["change_request"] == change.pk
    only = client.get("/api/v1/audit-log", {"actor": "mia"}, **admin_token).json()
    assert [row["action"] for row in only["results"]] == ["proposed"]
    bad = client.get("/api/v1/audit-log", {"since": "2026-13-01", "actor": "nobody"}, **admin_token)
    assert bad.status_code == 400 and {"since", "actor"} <= set(bad.json()["errors"])
    analyst_token = {"HTTP_AUTHORIZATION": f"Token {issue_api_token(analyst)[1]}"}
    assert client.get("/api/v1/audit-log", **analyst_token).status_code == 403
    assert client.get("/api/v1/audit-log").status_code == 401


def test_users_roles_and_tokens_changed_in_the_admin_are_in_the_audit_log(model_admin_client, analyst):
    data = {"username": analyst.username, "is_active": "on", "role": MODEL_ADMIN, **empty_token_inline()}
    assert model_admin_client.post(f"/admin/auth/user/{analyst.pk}/change/", data).status_code == 302
    changed = AuditEntry.objects.get(object_type="user", action="changed")
    assert changed.before["role"] == "Analyst" and changed.after["role"] == MODEL_ADMIN
    assert changed.after["staff"] is True and changed.object_label == analyst.username
    model_admin_client.post("/admin/nplsite/apitoken/add/", {"user": analyst.pk})
    issued = AuditEntry.objects.get(object_type="api_token", action="created")
    assert issued.object_label == analyst.username


def test_reason_codes_and_approval_limits_changed_are_in_the_audit_log(model_admin, analyst):
    from reviews.models import ReasonCode
    from reviews.services import save_reason_code, set_approval_limit

    values = {"code": "COLLATERAL", "label_en": "Extra collateral", "label_id": "Agunan tambahan"}
    code = save_reason_code(None, values=values, user=model_admin)
    save_reason_code(code, values={"label_en": "Additional collateral"}, user=model_admin)
    entries = AuditEntry.objects.filter(object_type="reason_code").order_by("id")
    assert [entry.action for entry in entries] == ["created", "changed"]
    assert entries[1].before["label_en"] == "Extra collateral"
    assert entries[1].after["label_en"] == "Additional collateral"
    set_approval_limit(analyst, 150_000_000, by=model_admin)
    limit = AuditEntry.objects.get(object_type="user", note="approval limit")
    assert (limit.before, limit.after) == ({"approval_limit": None}, {"approval_limit": 150_000_000})
    assert limit.actor == model_admin and ReasonCode.objects.filter(code="COLLATERAL").exists()
