"""Back-testing against the generator's truth: the same applicants scored at application, their
histories imported as of a later date, compared per grade, by vintage and at the version's threshold."""

from collections import Counter

import pytest
from django.db.models import Min
from django.utils import timezone

from applicants.models import Installment
from applicants.services import import_loan_file
from credit import scorecard
from credit.backtest import GREEN, RED, add_months, roc_auc_from_counts, window_end
from monitoring.alerts import alert_message
from monitoring.models import MonitoringReport
from monitoring.selectors import backtest_groups
from monitoring.services import write_monitoring_report
from scoring.models import Prediction
from scoring.policies import current_policy
from tests.monitoring.conftest import (
    LATER_AS_OF,
    TRAINING_AS_OF,
    date_predictions_at_application,
    score_stored_applicants,
    write_book,
)

pytestmark = pytest.mark.django_db

BOOK_APPLICANTS = 5000
FIRST_APP_ID = 200_001
BOOK_SEED = 14


@pytest.fixture
def scored_book(monitored_version, tmp_path):
    """A book as of the training date, scored "at application" by the version; and its truth."""
    book, truth = write_book(
        tmp_path, "book", n_applicants=BOOK_APPLICANTS, seed=BOOK_SEED, as_of=TRAINING_AS_OF, first_app_id=FIRST_APP_ID
    )
    import_loan_file(book, as_of=TRAINING_AS_OF)
    score_stored_applicants(range(FIRST_APP_ID, FIRST_APP_ID + BOOK_APPLICANTS))
    date_predictions_at_application()
    return truth


def import_later_histories(tmp_path):
    """The same applicants' payment histories a year on (the generator's later as-of of the same book)."""
    later, later_truth = write_book(
        tmp_path,
        "later",
        n_applicants=BOOK_APPLICANTS,
        seed=BOOK_SEED,
        as_of=LATER_AS_OF,
        first_app_id=FIRST_APP_ID,
        book_as_of=TRAINING_AS_OF,
    )
    import_loan_file(later, as_of=LATER_AS_OF)
    return later_truth


def truth_by_grade(truth) -> dict:
    graded = Prediction.objects.filter(model_version__is_active=True).values_list("applicant__app_id", "risk_grade")
    grades = dict(graded)
    truth = truth.assign(grade=truth["app_id"].map(grades))
    return truth.groupby("grade")["true_npl_probability"].mean().to_dict()


def copy_predictions(source, target, probability_of) -> None:
    """Store ``source``'s predictions again for ``target`` with the probabilities ``probability_of(prediction)``
    (score, grade and label recomputed the way the scoring engine computes them), dated as the originals."""
    parameters = current_policy().parameters
    copies, dates = [], []
    for prediction in Prediction.objects.filter(model_version=source).select_related("applicant"):
        probability = float(probability_of(prediction))
        score = int(scorecard.credit_score(probability, parameters))
        dates.append(prediction.created_at)
        prediction.pk, prediction.model_version = None, target
        prediction.npl_probability, prediction.credit_score = probability, score
        prediction.risk_grade = str(scorecard.risk_grade(score, parameters))
        prediction.is_npl = probability >= target.threshold
        copies.append(prediction)
    Prediction.objects.bulk_create(copies, batch_size=1000)
    for copy, created_at in zip(copies, dates, strict=True):
        copy.created_at = created_at
    Prediction.objects.bulk_update(copies, ["created_at"], batch_size=1000)


def test_later_histories_bring_every_vintage_into_the_window_and_match_the_truth(
    monitored_version, make_monitored_version, scored_book, tmp_path
):
    first = write_monitoring_report(monitored_version, LATER_AS_OF, LATER_AS_OF)
    # As of the training date, only vintages a year old are back-tested; the rest wait.
    backtest = first.figures["backtest"]
    assert backtest["pending"] > 0 and backtest["overall"]["n"] > 0
    assert backtest["pending"] + backtest["overall"]["n"] == BOOK_APPLICANTS
    assert all(window_end(_month(row["vintage"]), 12) <= TRAINING_AS_OF for row in backtest["vintages"])

    later_truth = import_later_histories(tmp_path)
    assert later_truth.equals(scored_book)  # the same applicants, the same outcomes

    report = write_monitoring_report(monitored_version, LATER_AS_OF, LATER_AS_OF)
    backtest = report.figures["backtest"]
    assert backtest["pending"] == 0
    assert backtest["overall"]["n"] == BOOK_APPLICANTS
    assert backtest["overall"]["npl"] == int(scored_book["true_npl"].sum())
    truth = truth_by_grade(scored_book)
    assert [row["grade"] for row in backtest["grades"]] == [g for g in ("A", "B", "C", "D", "E") if g in truth]
    for row in backtest["grades"]:
        low, high = row["interval"]
        assert low <= truth[row["grade"]] <= high, (row, truth[row["grade"]])
    assert 0.75 < backtest["overall"]["roc_auc"] < 0.95
    assert backtest["overall"]["gini"] == pytest.approx(2 * backtest["overall"]["roc_auc"] - 1)
    assert backtest["overall"]["recall"] > 0.8
    assert len(backtest["vintages"]) >= 30
    assert sum(row["n"] for row in backtest["vintages"]) == BOOK_APPLICANTS

    # A version giving the generator's true probabilities is calibrated: no grade is red.
    oracle = make_monitored_version(activate=False, name="true probabilities")
    true_probability = dict(zip(scored_book["app_id"], scored_book["true_npl_probability"], strict=True))
    copy_predictions(monitored_version, oracle, lambda prediction: true_probability[prediction.applicant.app_id])
    calibrated = write_monitoring_report(oracle, LATER_AS_OF, LATER_AS_OF)
    assert [row["light"] for row in calibrated.figures["backtest"]["grades"] if row["light"] == RED] == []
    assert not [alert for alert in calibrated.alerts if alert["level"] == "alert"], calibrated.alerts


def test_a_miscalibrated_version_is_flagged_by_the_per_grade_test(
    monitored_version, make_monitored_version, scored_book, tmp_path
):
    import_later_histories(tmp_path)
    halved = make_monitored_version(activate=False, name="probabilities halved")
    copy_predictions(monitored_version, halved, lambda prediction: prediction.npl_probability / 2)

    report = write_monitoring_report(halved, LATER_AS_OF, LATER_AS_OF)

    grades = report.figures["backtest"]["grades"]
    red = [row["grade"] for row in grades if row["light"] == RED]
    assert len(red) >= 2, grades
    for row in grades:
        if row["n"] >= 200:
            assert row["observed_rate"] > row["expected_rate"], row
    assert report.status == MonitoringReport.Status.ALERT
    grade_alert = next(alert for alert in report.alerts if alert["kind"] == "grade" and alert["level"] == "alert")
    words = alert_message(grade_alert)
    assert words.startswith(f"Grade {grade_alert['grade']}: ") and "binomial test p = " in words and "red" in words


def test_a_version_that_no_longer_meets_the_recall_target_is_flagged(
    monitored_version, make_monitored_version, scored_book, tmp_path
):
    import_later_histories(tmp_path)
    # The same probabilities, flagged only from 60 %: most realised NPL are missed.
    strict = make_monitored_version(activate=False, name="threshold 0.6", threshold=0.6)
    copy_predictions(monitored_version, strict, lambda prediction: prediction.npl_probability)

    report = write_monitoring_report(strict, LATER_AS_OF, LATER_AS_OF)

    recall = next(alert for alert in report.alerts if alert["kind"] == "recall")
    assert recall["level"] == "alert" and recall["upper_bound"] < recall["target"]
    assert recall["recall"] == report.figures["backtest"]["overall"]["recall"]
    assert alert_message(recall).startswith("The version no longer meets the recall target: it found ")
    assert report.status == MonitoringReport.Status.ALERT
    # The version as trained meets it on the same outcomes (its threshold was chosen for it).
    original = write_monitoring_report(monitored_version, LATER_AS_OF, LATER_AS_OF)
    assert not [alert for alert in original.alerts if alert["kind"] == "recall" and alert["level"] == "alert"]


def test_an_applicant_scored_twice_counts_once(monitored_version, scored_book, tmp_path):
    import_later_histories(tmp_path)
    first = write_monitoring_report(monitored_version, LATER_AS_OF, LATER_AS_OF)
    score_stored_applicants(range(FIRST_APP_ID, FIRST_APP_ID + 100))
    again = write_monitoring_report(monitored_version, LATER_AS_OF, LATER_AS_OF)
    assert again.pk == first.pk
    assert again.figures["backtest"]["overall"]["n"] == BOOK_APPLICANTS


def test_vintages_are_application_months_whenever_the_book_was_scored(monitored_version, scored_book):
    """Issue 22, item 19: a book scored (or re-scored) today keeps its loans' application months."""
    at_application = sorted((row["vintage"], row["n"]) for row in backtest_groups(monitored_version, LATER_AS_OF))
    assert len({vintage for vintage, _ in at_application}) >= 30
    Prediction.objects.update(created_at=timezone.now())
    today = sorted((row["vintage"], row["n"]) for row in backtest_groups(monitored_version, timezone.localdate()))
    assert today == at_application
    # The month before each applicant's first instalment, as the generator drew its disbursement.
    first_due = dict(
        Installment.objects.values("applicant_id").annotate(first=Min("due_date")).values_list("applicant_id", "first")
    )
    expected = Counter(add_months(day, -1).replace(day=1) for day in first_due.values())
    counted = Counter()
    for vintage, n in today:
        counted[vintage] += n
    assert counted == expected
    # A new application without instalments: its vintage is the month it was scored.
    Installment.objects.filter(applicant__app_id=FIRST_APP_ID).delete()
    newest = [
        row
        for row in backtest_groups(monitored_version, timezone.localdate())
        if row["vintage"] == timezone.localdate().replace(day=1)
    ]
    assert sum(row["n"] for row in newest) == 1


def test_auc_from_score_counts_counts_ties_half():
    # Lower score = riskier. NPL at 400 and 500, good at 500 and 600.
    assert roc_auc_from_counts({400: 1, 500: 1}, {500: 1, 600: 1}) == pytest.approx((1 + 1 + 0.5 + 1) / 4)
    assert roc_auc_from_counts({}, {500: 3}) is None


def test_traffic_light_reads_the_binomial_tail():
    from credit.backtest import YELLOW, traffic_light

    assert traffic_light(10, 100, 0.10)[0] == GREEN
    assert traffic_light(17, 100, 0.10)[0] == YELLOW
    assert traffic_light(25, 100, 0.10)[0] == RED


def _month(text: str):
    from datetime import date

    year, month = text.split("-")
    return date(int(year), int(month), 1)
