"""The review desk's rules through its services and selectors: the queue, claiming and assigning,
decisions and overrides, authority limits, the reason-code list."""

from datetime import date, timedelta

import pytest

from reviews import selectors, services
from reviews.models import ReasonCode, ReviewCase, ReviewDecision
from reviews.services import ReviewError, ReviewPermissionError
from scoring.models import Prediction
from tests.conftest import make_user
from tests.reviews.conftest import local, make_applicant


def queue_ids(**filters) -> list[int]:
    return [prediction_id for prediction_id, _ in selectors.queue(**filters)]


def test_the_queue_holds_the_latest_undecided_review_predictions_oldest_first(predict, analyst):
    applicant = make_applicant()
    superseded = predict(applicant=applicant, created_at=local(2026, 12, 1))
    latest = predict(applicant=applicant, created_at=local(2026, 12, 2))
    ad_hoc = predict(created_at=local(2026, 11, 30))
    predict(recommendation="approve")
    predict(recommendation="decline")
    rescored_away = predict(applicant=(other := make_applicant()), created_at=local(2026, 12, 1))
    predict(applicant=other, recommendation="approve", created_at=local(2026, 12, 3))
    decided = predict(created_at=local(2026, 11, 1))
    services.record_decision(decided, user=analyst, outcome="decline")

    assert queue_ids() == [ad_hoc.pk, latest.pk]
    assert superseded.pk not in queue_ids() and rescored_away.pk not in queue_ids()
    assert selectors.in_queue(latest) and not selectors.in_queue(superseded) and not selectors.in_queue(decided)


def test_a_prediction_sent_to_review_enters_the_queue_when_sent(predict, analyst):
    approve = predict(recommendation="approve", created_at=local(2026, 11, 2))
    review = predict(created_at=local(2026, 12, 1))
    assert queue_ids() == [review.pk]

    case = services.send_to_review(approve, user=analyst, note="Income looks too high for the job.")

    rows = list(selectors.queue())
    assert [row[0] for row in rows] == [review.pk, approve.pk]  # entered when sent (now), after review's
    assert rows[1][1] == case.sent_at and case.sent_by == analyst
    assert [note.text for note in case.notes.all()] == ["Income looks too high for the job."]
    with pytest.raises(ReviewError, match="in the review queue already"):
        services.send_to_review(review, user=analyst)


def test_queue_filters(predict, analyst, second_analyst):
    wednesday = date(2026, 12, 9)
    old = predict(grade="D", channel="batch", created_at=local(2026, 12, 4))  # Friday: 3 working days by Wed
    due = predict(grade="C", channel="api", created_at=local(2026, 12, 7))  # Monday: 2, due
    new = predict(grade="C", channel="web", created_at=local(2026, 12, 9))
    services.claim_case(due, user=analyst)
    services.claim_case(new, user=second_analyst)

    assert queue_ids(grade="C") == [due.pk, new.pk]
    assert queue_ids(channel="batch") == [old.pk]
    assert queue_ids(assignee=analyst) == [due.pk]
    assert queue_ids(assignee=selectors.UNASSIGNED) == [old.pk]
    assert queue_ids(age="overdue", on=wednesday) == [old.pk]
    assert queue_ids(age="within_target", on=wednesday) == [due.pk, new.pk]
    entries = selectors.queue_entries(selectors.queue(), on=wednesday)
    assert [(e.age_working_days, e.aging) for e in entries] == [(3, "overdue"), (2, "due"), (0, "on_time")]


def test_claiming_releasing_and_assigning(predict, analyst, second_analyst, model_admin):
    prediction = predict()
    case = services.claim_case(prediction, user=analyst)
    assert case.assignee == analyst and services.claim_case(prediction, user=analyst).assignee == analyst

    with pytest.raises(ReviewPermissionError, match="already assigned to ana"):
        services.claim_case(prediction, user=second_analyst)
    with pytest.raises(ReviewPermissionError, match="Only a Model admin"):
        services.assign_case(prediction, assignee=second_analyst, by=analyst)
    services.assign_case(prediction, assignee=second_analyst, by=model_admin)
    assert ReviewCase.objects.get(prediction=prediction).assignee == second_analyst
    services.assign_case(prediction, assignee=None, by=second_analyst)  # releasing one's own
    assert ReviewCase.objects.get(prediction=prediction).assignee is None

    nobody = make_user("tono", None)
    with pytest.raises(ReviewError, match="tono cannot be assigned cases"):
        services.assign_case(prediction, assignee=nobody, by=model_admin)
    with pytest.raises(ReviewPermissionError, match="Analyst role"):
        services.claim_case(prediction, user=nobody)


def test_a_decision_is_stored_beside_the_prediction_with_what_the_decider_saw(predict, analyst):
    prediction = predict(grade="C", score=512)
    before = Prediction.objects.filter(pk=prediction.pk).values().get()

    decision = services.record_decision(prediction, user=analyst, outcome="approve", note="Documents complete.")

    assert Prediction.objects.filter(pk=prediction.pk).values().get() == before  # never replaced
    decision.refresh_from_db()
    assert (decision.prediction, decision.recommendation, decision.credit_score, decision.risk_grade) == (
        prediction,
        "review",
        512,
        "C",
    )
    assert decision.financed_amount == 150_000_000 - 45_000_000
    assert decision.override == "none" and decision.is_final and decision.reason_code is None
    assert decision.prediction.model_version_id == prediction.model_version_id
    case = ReviewCase.objects.get(prediction=prediction)
    assert (case.status, case.final_outcome) == ("decided", "approve")
    with pytest.raises(ReviewError, match="decided on .* a decided case is not reopened"):
        services.record_decision(prediction, user=analyst, outcome="decline")


def test_an_override_needs_a_reason_and_is_told_high_or_low_side(predict, analyst):
    decline = predict(recommendation="decline")
    with pytest.raises(ReviewError, match="an override needs a reason code") as refused:
        services.record_decision(decline, user=analyst, outcome="approve")
    assert refused.value.field == "reason_code"
    assert not ReviewDecision.objects.exists()

    low = services.record_decision(decline, user=analyst, outcome="approve", reason_code="GUARANTOR")
    assert (low.override, low.is_override, low.reason_code.code) == ("low_side", True, "GUARANTOR")

    high = services.record_decision(
        predict(recommendation="approve"), user=analyst, outcome="decline", reason_code="ADVERSE_BUREAU"
    )
    assert high.override == "high_side"
    referred = services.record_decision(
        predict(recommendation="approve"), user=analyst, outcome="refer", reason_code="NEEDS_SENIOR"
    )
    assert referred.override == "high_side" and not referred.is_final
    assert referred.case.status == "referred" and referred.case.assignee is None
    followed = services.record_decision(predict(recommendation="decline"), user=analyst, outcome="refer")
    assert followed.override == "none"


@pytest.mark.parametrize(
    ("outcome", "code", "message"),
    [
        ("approve", "NO_SUCH_CODE", "NO_SUCH_CODE is not a reason code; choose one from the list"),
        ("approve", "ADVERSE_BUREAU", "is for declines and referrals, not for this decision"),
        ("decline", "GUARANTOR", "is for approvals, not for this decision"),
    ],
)
def test_reason_codes_must_exist_and_fit_the_decision(predict, analyst, outcome, code, message):
    with pytest.raises(ReviewError, match=message):
        services.record_decision(predict(), user=analyst, outcome=outcome, reason_code=code)


def test_a_retired_reason_code_is_refused(predict, analyst, model_admin):
    code = ReasonCode.objects.get(code="GUARANTOR")
    services.save_reason_code(code, values={"is_active": False}, user=model_admin)
    with pytest.raises(ReviewError, match="GUARANTOR has been retired"):
        services.record_decision(predict(), user=analyst, outcome="approve", reason_code="GUARANTOR")


def test_bad_outcome_and_long_note_are_refused(predict, analyst):
    with pytest.raises(ReviewError, match="must be one of approve, decline, refer"):
        services.record_decision(predict(), user=analyst, outcome="maybe")
    with pytest.raises(ReviewError, match="at most 2000 characters; this one has 2001"):
        services.record_decision(predict(), user=analyst, outcome="approve", note="x" * 2001)


def test_a_superseded_prediction_is_not_decided(predict, analyst):
    applicant = make_applicant()
    old = predict(applicant=applicant, created_at=local(2026, 12, 1))
    new = predict(applicant=applicant, created_at=local(2026, 12, 2))
    with pytest.raises(ReviewError, match=f"superseded by prediction #{new.pk}"):
        services.record_decision(old, user=analyst, outcome="approve")


def test_only_the_assignee_decides_an_assigned_case(predict, analyst, second_analyst):
    prediction = predict()
    services.claim_case(prediction, user=analyst)
    with pytest.raises(ReviewPermissionError, match="assigned to ana: only they decide it"):
        services.record_decision(prediction, user=second_analyst, outcome="approve")


def test_an_approval_above_the_limit_needs_a_second_decision_by_someone_with_the_authority(
    settings, predict, analyst, second_analyst, senior
):
    settings.REVIEW_ANALYST_APPROVAL_LIMIT = 250_000_000
    settings.REVIEW_MODEL_ADMIN_APPROVAL_LIMIT = 1_000_000_000
    prediction = predict(otr=400_000_000, dp=80_000_000)  # 320,000,000 financed

    first = services.record_decision(prediction, user=analyst, outcome="approve", note="Looks fine to me.")

    assert not first.is_final and first.approval_limit == 250_000_000
    case = ReviewCase.objects.get(prediction=prediction)
    assert case.status == "second_decision" and case.assignee is None
    assert selectors.in_queue(prediction)
    assert queue_ids(status="second_decision") == [prediction.pk] and queue_ids(status="open") == []
    with pytest.raises(ReviewPermissionError, match="next decision must be someone else's"):
        services.record_decision(prediction, user=analyst, outcome="approve")
    with pytest.raises(ReviewPermissionError, match="limit covers Rp 320,000,000; yours is Rp 250,000,000"):
        services.record_decision(prediction, user=second_analyst, outcome="approve")

    second = services.record_decision(prediction, user=senior, outcome="approve")

    assert second.is_final and second.approval_limit == 1_000_000_000
    case.refresh_from_db()
    assert (case.status, case.final_outcome) == ("decided", "approve")
    assert not selectors.in_queue(prediction)


def test_a_users_own_limit_replaces_the_roles(settings, predict, analyst, model_admin):
    settings.REVIEW_ANALYST_APPROVAL_LIMIT = 100_000_000
    assert selectors.approval_limit_for(analyst) == 100_000_000
    services.set_approval_limit(analyst, 400_000_000, by=model_admin)
    assert selectors.approval_limit_for(analyst) == 400_000_000
    decision = services.record_decision(predict(otr=400_000_000, dp=80_000_000), user=analyst, outcome="approve")
    assert decision.is_final
    services.set_approval_limit(analyst, None, by=model_admin)
    assert selectors.approval_limit_for(analyst) == 100_000_000
    with pytest.raises(ReviewPermissionError, match="Only Model admins set approval limits"):
        services.set_approval_limit(analyst, 1, by=analyst)
    with pytest.raises(ReviewError, match="cannot be negative"):
        services.set_approval_limit(analyst, -1, by=model_admin)


def test_a_declined_or_within_limit_case_needs_no_second_decision(settings, predict, analyst):
    settings.REVIEW_ANALYST_APPROVAL_LIMIT = 1
    decision = services.record_decision(predict(), user=analyst, outcome="decline")
    assert decision.is_final


def test_notes(predict, analyst):
    prediction = predict()
    note = services.add_note(prediction, user=analyst, text="  Called the employer.  ")
    assert note.text == "Called the employer." and note.case.prediction == prediction
    with pytest.raises(ReviewError, match="it is empty"):
        services.add_note(prediction, user=analyst, text="   ")


def test_the_reason_code_list_changes_through_one_service(predict, analyst, model_admin):
    with pytest.raises(ReviewPermissionError, match="Only Model admins maintain the reason codes"):
        services.save_reason_code(None, values={"code": "NEW_CODE"}, user=analyst)
    created = services.save_reason_code(
        None,
        values={"code": "SALARY_SLIPS", "label_en": "Salary slips seen", "label_id": "Slip gaji diperiksa"},
        user=model_admin,
    )
    assert created.is_active and created.applies_to == "any"
    with pytest.raises(ReviewError, match="2 to 20 capitals"):
        services.save_reason_code(None, values={"code": "bad code", "label_en": "x", "label_id": "y"}, user=model_admin)
    with pytest.raises(ReviewError, match="exists already"):
        services.save_reason_code(
            None, values={"code": "SALARY_SLIPS", "label_en": "x", "label_id": "y"}, user=model_admin
        )
    with pytest.raises(ReviewError, match="Both labels are needed"):
        services.save_reason_code(created, values={"label_id": " "}, user=model_admin)
    services.record_decision(predict(), user=analyst, outcome="approve", reason_code="SALARY_SLIPS")
    with pytest.raises(ReviewError, match="used by decisions and keeps its code"):
        services.save_reason_code(created, values={"code": "SLIPS"}, user=model_admin)
    renamed = services.save_reason_code(created, values={"label_en": "Three salary slips seen"}, user=model_admin)
    assert ReasonCode.objects.get(pk=renamed.pk).label_en == "Three salary slips seen"


def test_seeded_reason_codes_have_both_labels(db):
    codes = list(ReasonCode.objects.all())
    assert len(codes) >= 10
    assert all(code.label_en and code.label_id and code.label_en != code.label_id for code in codes)
    assert all(services.CODE_PATTERN.match(code.code) for code in codes)  # what the admin would accept
    assert {code.applies_to for code in codes} == {"approve", "decline", "any"}


def test_the_queue_is_paged_by_the_database(predict, django_assert_max_num_queries):
    for day in range(20):
        predict(created_at=local(2026, 11, 1) + timedelta(days=day))
    queue = selectors.queue()
    # Each half of the queue (recommended review; sent by hand) is counted and read by a query of its
    # own, then the page's predictions, then their pending decisions: six at most, whatever the size.
    with django_assert_max_num_queries(6):
        assert queue.count() == 20
        entries = selectors.queue_entries(queue[5:10])
    assert [entry.prediction.created_at.day for entry in entries] == [6, 7, 8, 9, 10]


def test_every_page_of_the_queue_merges_recommended_and_sent_cases_in_entry_order(predict, analyst):
    """A page is cut from both halves of the queue at once: a slice anywhere gives the rows of the
    whole queue sorted by (entered, id), sent cases placed by the time they were sent."""
    from django.utils import timezone

    for day in range(1, 13):
        predict(created_at=local(2026, 11, day))
    for day in (3, 6, 6, 20):
        approve = predict(recommendation="approve", created_at=local(2026, 10, 1))
        case = services.send_to_review(approve, user=analyst)
        case.sent_at = local(2026, 11, day, hour=11)  # sent on a day between recommended ones
        case.save(update_fields=["sent_at"])
    queue = selectors.queue()
    everything = sorted(queue[0:100], key=lambda row: (row[1], row[0]))
    assert queue[0:100] == everything and queue.count() == len(everything) == 16
    for start, stop in ((0, 5), (3, 9), (5, 10), (14, 20), (16, 30)):
        assert queue[start:stop] == everything[start:stop]
    assert queue[4] == everything[4] and timezone.localtime(everything[3][1]).day == 3
    with pytest.raises(IndexError):
        queue[16]


def test_the_queues_index_exists_after_migrating(db):
    """The partial index the queue reads by (declared on Prediction, so SQLite's table rebuilds keep it)."""
    from django.db import connection

    with connection.cursor() as cursor:
        indexes = connection.introspection.get_constraints(cursor, "scoring_prediction")
    assert "prediction_review_queue_idx" in indexes
