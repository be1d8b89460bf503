"""The applicant list (search, filters, sorting, pagination) and an applicant's page."""

import itertools
import re
from datetime import date

import pytest
from django.db.models import Count

from applicants.models import Applicant, Installment
from applicants.selectors import installment_history_frame
from credit.labelling import installment_dpd
from tests.web.pagecheck import checked_page, text_of

pytestmark = pytest.mark.django_db


def listed_ids(response) -> list[int]:
    page = checked_page(response)
    return [
        int(match[1])
        for attrs in page.all("a")
        if (match := re.fullmatch(r"/applicants/(\d+)/", attrs.get("href") or ""))
    ]


def test_list_is_paginated_25_a_page_in_app_id_order(analyst_client, page_book):
    all_ids = list(Applicant.objects.order_by("app_id").values_list("app_id", flat=True))

    first = analyst_client.get("/applicants/")
    third = analyst_client.get("/applicants/?page=3")

    assert listed_ids(first) == all_ids[:25]
    assert listed_ids(third) == all_ids[50:]
    assert "Page 1 of 3" in text_of(first)
    assert 'href="?page=2"' in first.content.decode()


def test_pagination_links_keep_the_filters(analyst_client, page_book):
    html = analyst_client.get("/applicants/?sort=-app_id").content.decode()
    assert 'href="?sort=-app_id&amp;page=2"' in html


def test_search_by_app_id(analyst_client, page_book):
    app_id = Applicant.objects.order_by("app_id")[7].app_id
    assert listed_ids(analyst_client.get(f"/applicants/?app_id={app_id}")) == [app_id]
    assert listed_ids(analyst_client.get("/applicants/?app_id=999999")) == []
    assert "No applicant matches these filters." in text_of(analyst_client.get("/applicants/?app_id=999999"))


def test_invalid_search_is_reported_and_ignored(analyst_client, page_book):
    response = analyst_client.get("/applicants/?app_id=abc")
    assert "Enter a whole number." in text_of(response)
    assert len(listed_ids(response)) == 25


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("kolektibilitas=1", {"kolektibilitas": 1}),
        ("kolektibilitas=5", {"kolektibilitas": 5}),
        ("npl=yes", {"is_npl": True}),
        ("npl=no", {"is_npl": False}),
        ("pekerjaan=Wiraswasta", {"pekerjaan": "Wiraswasta"}),
        ("housing_type=kontrak", {"housing_type": "kontrak"}),
        ("npl=yes&housing_type=kos", {"is_npl": True, "housing_type": "kos"}),
    ],
)
def test_filters(analyst_client, page_book, query, expected):
    wanted = list(Applicant.objects.filter(**expected).order_by("app_id").values_list("app_id", flat=True))[:25]
    assert wanted, "the generated book should have applicants for every filter"
    assert listed_ids(analyst_client.get(f"/applicants/?{query}")) == wanted


def test_grade_filter_uses_the_latest_prediction(analyst_client, active_version, page_book):
    scored = list(Applicant.objects.order_by("app_id")[:6])
    for applicant in scored:
        analyst_client.post(f"/score/applicants/{applicant.app_id}/")
    grades = {a.app_id: a.predictions.order_by("-created_at", "-id").first().risk_grade for a in scored}
    grade = grades[scored[0].app_id]

    with_grade = listed_ids(analyst_client.get(f"/applicants/?grade={grade}"))
    never = listed_ids(analyst_client.get("/applicants/?grade=none&page=1"))

    assert with_grade == sorted(app_id for app_id, g in grades.items() if g == grade)
    assert not set(never) & set(grades)
    page = checked_page(analyst_client.get("/applicants/"))
    options = [attrs.get("value") for name, attrs in page.tags if name == "option"]
    assert grade in options and "none" in options


def test_sorting(analyst_client, page_book):
    by_dpd = list(Applicant.objects.order_by("-max_dpd", "app_id").values_list("app_id", flat=True)[:25])
    by_income = list(Applicant.objects.order_by("monthly_income", "app_id").values_list("app_id", flat=True)[:25])
    assert listed_ids(analyst_client.get("/applicants/?sort=-max_dpd")) == by_dpd
    assert listed_ids(analyst_client.get("/applicants/?sort=monthly_income")) == by_income
    assert (
        listed_ids(analyst_client.get("/applicants/?sort=-app_id"))[0]
        == Applicant.objects.order_by("-app_id")[0].app_id
    )


def test_detail_shows_dpd_per_installment_as_the_labels_count_it(analyst_client, page_book):
    applicant = Applicant.objects.filter(is_npl=True).order_by("-max_dpd").first()
    history = installment_history_frame(applicant_pks=[applicant.pk]).sort_values("due_date", ignore_index=True)
    expected_dpd = installment_dpd(history, applicant.labelled_as_of).tolist()

    response = analyst_client.get(f"/applicants/{applicant.app_id}/")

    page = checked_page(response)
    html = response.content.decode()
    rows = re.findall(r'<tr>\s*<td class="num">(\d+)</td>.*?</tr>', html, flags=re.S)
    assert [int(n) for n in rows] == list(range(1, len(expected_dpd) + 1))
    shown = [int(value) for value in re.findall(r'<td class="num">(\d+)</td>\s*<td><span class="badge badge-kol', html)]
    due = [d for d in history["due_date"] if d.date() <= applicant.labelled_as_of]
    assert shown == expected_dpd[: len(due)]
    assert max(expected_dpd) == applicant.max_dpd
    bars = [attrs for attrs in page.all("rect") if "chart-bar" in (attrs.get("class") or "")]
    assert len(bars) == len(expected_dpd)
    text = text_of(response)
    assert f"Application {applicant.app_id}" in text
    assert f"{applicant.kolektibilitas} · {applicant.get_kolektibilitas_display()}" in text
    assert "NPL: more than 90 days" in text
    assert "Score now" in text


def test_detail_of_an_applicant_without_history(analyst_client, active_version):
    applicant = Applicant.objects.create(
        app_id=77,
        monthly_income=9_000_000,
        housing_type="kos",
        num_of_dependent=1,
        lama_bekerja=2,
        otr=120_000_000,
        status_pernikahan="Nikah",
        pekerjaan="PNS",
        tenor=24,
        dp=20_000_000,
        source="web",
    )
    text = text_of(analyst_client.get(f"/applicants/{applicant.app_id}/"))
    assert "This applicant has no payment history" in text
    assert "Not scored yet" in text


def test_unknown_applicant_is_404(analyst_client):
    assert analyst_client.get("/applicants/123456/").status_code == 404


def test_detail_says_what_is_owed_arrears_and_installments_to_come(analyst_client):
    """ "Still owed Rp 0" on a loan with installments left read as paid off: the figure is the arrears
    (fallen due and unpaid), beside how many installments of the tenor are still to come."""
    applicant = Applicant.objects.create(
        app_id=78,
        monthly_income=9_000_000,
        housing_type="kos",
        num_of_dependent=1,
        lama_bekerja=2,
        otr=120_000_000,
        status_pernikahan="Nikah",
        pekerjaan="PNS",
        tenor=24,
        dp=20_000_000,
        source="web",
        labelled_as_of=date(2024, 6, 30),
    )
    rows = [  # (due, paid, still due, paid amount): three paid, one overdue, one not yet due
        (date(2024, 3, 5), date(2024, 3, 5), 0, 5_000_000),
        (date(2024, 4, 5), date(2024, 4, 6), 0, 5_000_000),
        (date(2024, 5, 5), date(2024, 5, 5), 0, 5_000_000),
        (date(2024, 6, 5), None, 5_000_000, 0),
        (date(2024, 7, 5), None, 5_000_000, 0),
    ]
    Installment.objects.bulk_create(
        Installment(applicant=applicant, due_date=due, paid_date=paid, due_amount=owed, paid_amount=amount)
        for due, paid, owed, amount in rows
    )

    text = text_of(analyst_client.get(f"/applicants/{applicant.app_id}/"))

    assert "Still owed" not in text
    assert "In arrears Rp 5,000,000 fallen due and unpaid · Rp 15,000,000 paid so far" in text
    assert "20 of 24 installments still to come" in text  # 4 fell due by 30 Jun 2024


def test_the_months_under_the_days_past_due_chart_do_not_run_together(analyst_client, page_book):
    applicant = Applicant.objects.annotate(rows=Count("installments")).order_by("-rows").first()
    assert applicant.rows >= 24

    page = checked_page(analyst_client.get(f"/applicants/{applicant.app_id}/"))

    labels = [
        attrs
        for attrs in page.all("text")
        if attrs.get("class") == "chart-tick" and attrs.get("text-anchor") == "middle"
    ]
    positions = [float(attrs["x"]) for attrs in labels]
    assert 3 <= len(positions) < applicant.rows
    # "Jun 2024" is 8 characters of about 7 units at the ticks' 11 px: at least 56 units between centres.
    assert min(b - a for a, b in itertools.pairwise(positions)) >= 8 * 7
