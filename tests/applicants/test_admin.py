"""The Django admin for applicants and installments, open to Model admins only."""

from datetime import date

import pytest
from django.contrib.auth.models import Group, User
from django.urls import reverse

from applicants.labelling_service import label_applications
from applicants.models import Applicant, Installment

pytestmark = pytest.mark.django_db

ATTRIBUTES = {
    "monthly_income": 9_295_094,
    "housing_type": "milik sendiri",
    "num_of_dependent": 3,
    "lama_bekerja": 2,
    "otr": 800_000_000,
    "status_pernikahan": "Belum Nikah",
    "pekerjaan": "Karyawan Swasta",
    "tenor": 60,
    "dp": 80_000_000,
}
CHANGELIST = reverse("admin:applicants_applicant_changelist")


def user_in(group_name, username):
    user = User.objects.create_user(username, password="a-long-test-password", is_staff=True)
    user.groups.add(Group.objects.get(name=group_name))
    return user


@pytest.fixture
def model_admin_client(client):
    client.force_login(user_in("Model admin", "modeladmin"))
    return client


@pytest.fixture
def book():
    """1001 Lancar (PNS, kos), 1002 Macet (Buruh), 1003 with 130 installments."""
    lancar = Applicant.objects.create(app_id=1001, **{**ATTRIBUTES, "pekerjaan": "PNS", "housing_type": "kos"})
    macet = Applicant.objects.create(app_id=1002, **{**ATTRIBUTES, "pekerjaan": "Buruh"})
    long_history = Applicant.objects.create(app_id=1003, **ATTRIBUTES)
    Installment.objects.create(
        applicant=lancar, due_date=date(2019, 1, 5), paid_date=date(2019, 1, 5), due_amount=0, paid_amount=7_777_001
    )
    Installment.objects.create(applicant=macet, due_date=date(2018, 1, 5), due_amount=500, paid_amount=0)
    Installment.objects.bulk_create(
        Installment(
            applicant=long_history,
            due_date=date(2008, 1, 1 + i % 28).replace(year=2008 + i // 28),
            paid_date=None,
            due_amount=0,
            paid_amount=0,
        )
        for i in range(130)
    )
    label_applications(date(2019, 6, 30))


def listed_app_ids(response):
    return sorted(a.app_id for a in response.context["cl"].result_list)


def test_model_admin_sees_the_changelist_and_filters_work(model_admin_client, book):
    response = model_admin_client.get(CHANGELIST)
    assert response.status_code == 200
    assert listed_app_ids(response) == [1001, 1002, 1003]

    assert listed_app_ids(model_admin_client.get(CHANGELIST, {"kolektibilitas__exact": "5"})) == [1002]
    assert listed_app_ids(model_admin_client.get(CHANGELIST, {"is_npl__exact": "1"})) == [1002]
    assert listed_app_ids(model_admin_client.get(CHANGELIST, {"is_npl__exact": "0"})) == [1001, 1003]
    assert listed_app_ids(model_admin_client.get(CHANGELIST, {"pekerjaan__exact": "PNS"})) == [1001]
    assert listed_app_ids(model_admin_client.get(CHANGELIST, {"housing_type__exact": "kos"})) == [1001]
    assert listed_app_ids(model_admin_client.get(CHANGELIST, {"q": "1002"})) == [1002]


def test_change_page_shows_installments_inline_capped(model_admin_client, book):
    lancar = Applicant.objects.get(app_id=1001)
    response = model_admin_client.get(reverse("admin:applicants_applicant_change", args=[lancar.pk]))
    assert response.status_code == 200
    assert "7,777,001" in response.text or "7777001" in response.text
    assert "?applicant__app_id=1001" in response.text

    long_history = Applicant.objects.get(app_id=1003)
    response = model_admin_client.get(reverse("admin:applicants_applicant_change", args=[long_history.pk]))
    assert response.status_code == 200
    inline_formset = response.context["inline_admin_formsets"][0].formset
    assert len(inline_formset.forms) == 120


def test_installment_changelist_filtered_by_application(model_admin_client, book):
    url = reverse("admin:applicants_installment_changelist")
    response = model_admin_client.get(url, {"applicant__app_id": "1001"})
    assert response.status_code == 200
    assert [i.applicant.app_id for i in response.context["cl"].result_list] == [1001]
    response = model_admin_client.get(url, {"paid": "no", "q": "1002"})
    assert [i.applicant.app_id for i in response.context["cl"].result_list] == [1002]


def test_analysts_and_anonymous_users_are_kept_out(client, book):
    response = client.get(CHANGELIST)
    assert response.status_code == 302
    client.force_login(user_in("Analyst", "analyst"))
    response = client.get(CHANGELIST)
    assert response.status_code == 302
    assert "login" in response["Location"]
