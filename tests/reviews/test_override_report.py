"""The override report's figures, recomputed here one stored decision at a time — without the report's
code (no grouping query, no credit.review_desk, no window_end) — must equal what the API answers."""

import calendar
from collections import defaultdict
from datetime import date, timedelta

import pytest
from django.test import Client
from django.utils import timezone

from applicants.models import Installment
from reviews.models import ReviewDecision
from reviews.services import record_decision
from tests.reviews.conftest import local, make_applicant

WINDOW_MONTHS = 12


def _month_end_after(month_start: date, months: int) -> date:
    year, month = month_start.year + (month_start.month - 1 + months) // 12, (month_start.month - 1 + months) % 12 + 1
    return date(year, month, calendar.monthrange(year, month)[1])


def _application_month(prediction) -> date:
    first = prediction.applicant.installments.order_by("due_date").first() if prediction.applicant else None
    if first is not None:
        before = first.due_date.replace(day=1) - timedelta(days=1)
        return before.replace(day=1)
    return timezone.localtime(prediction.created_at).date().replace(day=1)


def recomputed() -> dict:
    cells = defaultdict(lambda: defaultdict(int))
    for decision in ReviewDecision.objects.select_related("prediction__applicant", "decided_by", "reason_code"):
        applicant = decision.prediction.applicant
        known = (
            applicant is not None
            and applicant.is_npl is not None
            and applicant.labelled_as_of is not None
            and applicant.labelled_as_of >= _month_end_after(_application_month(decision.prediction), WINDOW_MONTHS)
        )
        keys = [
            ("overall", None),
            ("analyst", decision.decided_by.username),
            ("reason", decision.reason_code.code if decision.reason_code else None),
            ("grade", decision.risk_grade),
            ("month", timezone.localtime(decision.decided_at).strftime("%Y-%m")),
        ]
        for key in keys:
            cell = cells[key]
            cell["decisions"] += 1
            if decision.recommendation not in ("approve", "decline"):
                continue
            cell["firm"] += 1
            kind = "overridden" if decision.override != "none" else "followed"
            cell["overrides"] += kind == "overridden"
            cell["high_side"] += decision.override == "high_side"
            cell["low_side"] += decision.override == "low_side"
            if known:
                cell[f"{kind}_known"] += 1
                cell[f"{kind}_npl"] += bool(applicant.is_npl)
    return cells


def _figures(cell) -> dict:
    def rate(part, whole):
        return cell[part] / cell[whole] if cell[whole] else None

    return {
        "decisions": cell["decisions"],
        "firm_recommendation_decisions": cell["firm"],
        "overrides": cell["overrides"],
        "high_side": cell["high_side"],
        "low_side": cell["low_side"],
        "override_rate": rate("overrides", "firm"),
        "overridden_with_outcome": cell["overridden_known"],
        "overridden_npl": cell["overridden_npl"],
        "overridden_npl_rate": rate("overridden_npl", "overridden_known"),
        "followed_with_outcome": cell["followed_known"],
        "followed_npl": cell["followed_npl"],
        "followed_npl_rate": rate("followed_npl", "followed_known"),
    }


@pytest.fixture
def history(predict, analyst, second_analyst, senior, settings):
    """Decisions of three people over three months, on applicants with and without known outcomes."""
    settings.REVIEW_ANALYST_APPROVAL_LIMIT = 10**12
    people = [analyst, second_analyst, senior]
    plans = [
        # recommendation, outcome, reason, grade, npl, labelled as of, decided in
        ("decline", "approve", "GUARANTOR", "E", True, date(2025, 6, 30), (2024, 1, 15)),
        ("decline", "approve", "INCOME_VERIFIED", "D", False, date(2025, 6, 30), (2024, 1, 20)),
        ("decline", "approve", "GUARANTOR", "E", True, date(2024, 6, 30), (2024, 2, 5)),  # outcome not known
        ("decline", "decline", None, "E", True, date(2025, 6, 30), (2024, 2, 6)),
        ("decline", "decline", None, "D", False, date(2025, 6, 30), (2024, 3, 1)),
        ("approve", "decline", "ADVERSE_BUREAU", "B", False, date(2025, 6, 30), (2024, 3, 2)),
        ("approve", "refer", "NEEDS_SENIOR", "B", None, None, (2024, 3, 3)),  # never labelled
        ("approve", "approve", None, "A", False, date(2025, 6, 30), (2024, 1, 3)),
        ("approve", "approve", None, "A", True, date(2025, 6, 30), (2024, 2, 3)),
        ("review", "approve", "OTHER", "C", True, date(2025, 6, 30), (2024, 3, 4)),
        ("review", "decline", None, "C", False, date(2025, 6, 30), (2024, 3, 5)),
    ]
    for index, (recommendation, outcome, reason, grade, npl, labelled, (year, month, day)) in enumerate(plans):
        applicant = make_applicant(is_npl=npl, labelled_as_of=labelled, kolektibilitas=5 if npl else 1)
        scored = local(year, month, day - 1 if day > 1 else 1)
        prediction = predict(applicant=applicant, recommendation=recommendation, grade=grade, created_at=scored)
        decision = record_decision(prediction, user=people[index % 3], outcome=outcome, reason_code=reason)
        ReviewDecision.objects.filter(pk=decision.pk).update(decided_at=local(year, month, day, 15))
    # One applicant with a payment history: its application month is the month before its first instalment.
    applicant = make_applicant(is_npl=True, labelled_as_of=date(2025, 1, 31), kolektibilitas=5)
    Installment.objects.create(
        applicant=applicant, due_date=date(2023, 12, 5), paid_date=None, due_amount=3_000_000, paid_amount=0
    )
    prediction = predict(applicant=applicant, recommendation="decline", grade="E", created_at=local(2024, 3, 10))
    record_decision(prediction, user=analyst, outcome="approve", reason_code="GUARANTOR")
    ReviewDecision.objects.filter(prediction=prediction).update(decided_at=local(2024, 3, 11, 9))


def test_the_override_report_equals_a_recomputation_from_the_stored_decisions(history, model_admin, settings):
    settings.MONITORING_OUTCOME_WINDOW_MONTHS = WINDOW_MONTHS
    client = Client()
    client.force_login(model_admin)

    report = client.get("/api/v1/reviews/overrides").json()

    cells = recomputed()
    assert report["window_months"] == WINDOW_MONTHS
    assert report["overall"] == _figures(cells[("overall", None)])  # the same divisions: equal exactly
    for dimension in ("analyst", "reason", "grade", "month"):
        expected = {value: _figures(cell) for (name, value), cell in cells.items() if name == dimension}
        answered = {
            row[dimension]: {k: v for k, v in row.items() if k not in (dimension, "label")}
            for row in report[f"by_{dimension}"]
        }
        assert answered == expected, dimension
    # The figures are not trivially zero: overrides of both sides, and outcomes known and pending.
    overall = report["overall"]
    assert overall["low_side"] == 4 and overall["high_side"] == 2 and overall["overridden_with_outcome"] == 4
    assert overall["overridden_npl_rate"] == pytest.approx(2 / 4) and overall["followed_npl_rate"] == pytest.approx(
        2 / 4
    )
    assert report["awaiting_outcome"] == 2


def test_the_report_period_counts_decisions_of_those_days(history, model_admin):
    client = Client()
    client.force_login(model_admin)
    report = client.get("/api/v1/reviews/overrides?date_from=2024-02-01&date_to=2024-02-29").json()
    assert [row["month"] for row in report["by_month"]] == ["2024-02"]
    assert report["overall"]["decisions"] == 3
