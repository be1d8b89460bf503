"""The review desk in the Django admin: Model admins keep the reason codes (through the one service
function) and approval limits; cases and decisions are read-only."""

from reviews.models import ApprovalLimit, ReasonCode
from reviews.services import record_decision

ADD_CODE = "/admin/reviews/reasoncode/add/"


def _code_form(**changes):
    return {
        "code": "SALARY_SLIPS",
        "label_en": "Salary slips seen",
        "label_id": "Slip gaji diperiksa",
        "applies_to": "approve",
        "is_active": "on",
        "sort_order": "5",
        **changes,
    }


def test_a_model_admin_adds_and_retires_a_reason_code(model_admin_client):
    assert model_admin_client.post(ADD_CODE, _code_form()).status_code == 302
    code = ReasonCode.objects.get(code="SALARY_SLIPS")
    assert (code.label_id, code.applies_to, code.is_active) == ("Slip gaji diperiksa", "approve", True)

    change = f"/admin/reviews/reasoncode/{code.pk}/change/"
    assert model_admin_client.post(change, _code_form(is_active="")).status_code == 302
    assert not ReasonCode.objects.get(pk=code.pk).is_active
    assert model_admin_client.get(f"/admin/reviews/reasoncode/{code.pk}/delete/").status_code == 403


def test_the_admin_form_shows_the_services_refusals_beside_the_fields(model_admin_client, predict, analyst):
    bad = model_admin_client.post(ADD_CODE, _code_form(code="bad code", label_id=" "))
    assert bad.status_code == 200
    assert "2 to 20 capitals" in bad.content.decode()
    used = ReasonCode.objects.get(code="GUARANTOR")
    record_decision(predict(), user=analyst, outcome="approve", reason_code="GUARANTOR")
    renamed = model_admin_client.post(
        f"/admin/reviews/reasoncode/{used.pk}/change/",
        _code_form(code="CO_BORROWER", label_en=used.label_en, label_id=used.label_id),
    )
    assert renamed.status_code == 200 and "used by decisions and keeps its code" in renamed.content.decode()
    assert ReasonCode.objects.get(pk=used.pk).code == "GUARANTOR"


def test_a_model_admin_sets_and_removes_an_approval_limit(model_admin_client, analyst):
    response = model_admin_client.post("/admin/reviews/approvallimit/add/", {"user": analyst.pk, "amount": "400000000"})
    assert response.status_code == 302
    limit = ApprovalLimit.objects.get(user=analyst)
    assert limit.amount == 400_000_000
    assert (
        model_admin_client.post(f"/admin/reviews/approvallimit/{limit.pk}/delete/", {"post": "yes"}).status_code == 302
    )
    assert not ApprovalLimit.objects.exists()


def test_analysts_have_no_admin(analyst_client):
    assert analyst_client.get(ADD_CODE).status_code == 302  # to the admin's login page
