"""Population stability against the generator's known shifts, through the monitoring services and command."""

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from applicants.attributes import ATTRIBUTE_FIELDS
from applicants.services import import_loan_file
from credit.stability import MONITORED_RATIOS, SCORE
from monitoring.alerts import alert_message
from monitoring.models import MonitoringReport, ReferenceDistribution
from monitoring.services import scheduled_period, write_monitoring_report, write_scheduled_reports
from scoring.models import Prediction
from scoring.services import score_applicants
from tests.monitoring.conftest import (
    KNOWN_SHIFT,
    LATER_AS_OF,
    PERIOD_APPLICANTS,
    SHIFTED_ATTRIBUTES,
    TRAINING_APPLICANTS,
    TRAINING_AS_OF,
    as_new_applications,
    score_stored_applicants,
    write_book,
)
from tests.support import VALID_APPLICANT
from training.services import activate_model_version

pytestmark = pytest.mark.django_db

FIRST_LATER_APP_ID = 100_001


def scored_later_book(tmp_path, *, seed: int, shift: str | None = None) -> None:
    book, _ = write_book(
        tmp_path,
        f"later-{seed}",
        n_applicants=PERIOD_APPLICANTS,
        seed=seed,
        as_of=LATER_AS_OF,
        first_app_id=FIRST_LATER_APP_ID,
        shift=shift,
    )
    import_loan_file(book, as_of=LATER_AS_OF)
    as_new_applications(range(FIRST_LATER_APP_ID, FIRST_LATER_APP_ID + PERIOD_APPLICANTS))
    assert score_stored_applicants(range(FIRST_LATER_APP_ID, FIRST_LATER_APP_ID + PERIOD_APPLICANTS)) == (
        PERIOD_APPLICANTS
    )


def test_training_stored_the_development_distribution(monitored_model):
    reference = monitored_model.reference
    assert reference["source"] == ReferenceDistribution.Source.TRAINING
    # The development applicants: most of the book, not its held-out test applicants.
    assert 0.5 * TRAINING_APPLICANTS < reference["applicants"] < TRAINING_APPLICANTS
    assert set(reference["attributes"]) == {*ATTRIBUTE_FIELDS, *MONITORED_RATIOS}
    income = reference["attributes"]["monthly_income"]
    assert income["kind"] == "number" and len(income["edges"]) == 9 and sum(income["shares"]) == pytest.approx(1)
    tenor = reference["attributes"]["tenor"]
    assert len(tenor["edges"]) < 9  # five tenors: repeated deciles merged
    assert set(reference["attributes"]["pekerjaan"]["categories"]) >= {"Buruh", "PNS", "Karyawan Swasta"}
    assert len(reference["score"]["edges"]) == 9


def test_known_shift_moves_the_shifted_attributes_and_nothing_else(monitored_version, tmp_path):
    scored_later_book(tmp_path, seed=12, shift=KNOWN_SHIFT)
    today = timezone.localdate()

    report = write_monitoring_report(monitored_version, today, today)

    stability = report.figures["stability"]
    assert stability["predictions"] == PERIOD_APPLICANTS
    features = stability["features"]
    for name in SHIFTED_ATTRIBUTES:
        assert features[name]["psi"] > 0.25, (name, features[name]["psi"])
        assert features[name]["level"] == "shifted"
    for name in set(ATTRIBUTE_FIELDS) - set(SHIFTED_ATTRIBUTES):
        assert features[name]["psi"] < 0.10, (name, features[name]["psi"])
    assert features["pekerjaan"]["moved"]["category"] == "Buruh"
    assert features["pekerjaan"]["moved"]["period_share"] > features["pekerjaan"]["moved"]["training_share"] + 0.2
    assert (
        features["monthly_income"]["moved"]["period_mean"] < 0.7 * features["monthly_income"]["moved"]["training_mean"]
    )
    assert report.status == MonitoringReport.Status.ALERT
    shifted_alerts = {
        alert["feature"] for alert in report.alerts if alert["kind"] == "psi" and alert["level"] == "alert"
    }
    assert set(SHIFTED_ATTRIBUTES) <= shifted_alerts
    assert not shifted_alerts & (set(ATTRIBUTE_FIELDS) - set(SHIFTED_ATTRIBUTES))
    income_alert = next(alert for alert in report.alerts if alert.get("feature") == "monthly_income")
    words = alert_message(income_alert)
    assert words.startswith("Monthly income (Rp) moved: population stability index ")
    assert "(shifted, above 0.25)" in words and "at training" in words and "in the period (−" in words, words


def test_no_shift_gives_no_alert(monitored_version, tmp_path):
    scored_later_book(tmp_path, seed=13)
    today = timezone.localdate()

    report = write_monitoring_report(monitored_version, today, today)

    features = report.figures["stability"]["features"]
    for name in (*ATTRIBUTE_FIELDS, *MONITORED_RATIOS):
        assert features[name]["psi"] < 0.10, (name, features[name]["psi"])
        assert features[name]["outside_share"] < 0.01, name
    assert report.figures["stability"]["score"]["psi"] < 0.10
    assert report.alerts == []
    assert report.status == MonitoringReport.Status.OK


def test_a_channel_and_a_period_select_their_predictions(monitored_version, tmp_path):
    scored_later_book(tmp_path, seed=13)
    today = timezone.localdate()
    web = write_monitoring_report(monitored_version, today, today, channel=Prediction.Channel.WEB)
    yesterday = today - timezone.timedelta(days=1)
    before = write_monitoring_report(monitored_version, yesterday, yesterday)
    assert web.figures["stability"]["predictions"] == 0
    assert web.figures["stability"]["score"]["psi"] is None
    assert before.figures["stability"]["predictions"] == 0
    assert MonitoringReport.objects.count() == 2


def test_a_version_trained_before_monitoring_gets_its_reference_from_its_recorded_applicants(
    make_monitored_version, monitored_model, tmp_path
):
    version = make_monitored_version(reference=False)
    today = timezone.localdate()

    # Its training applicants are not stored: it says so, and the report says so in words.
    report = write_monitoring_report(version, today, today)
    assert report.figures["stability"]["reference"] is None
    assert report.status == MonitoringReport.Status.WATCH
    assert "No reference distribution for this version (only 0 of the" in alert_message(report.alerts[0])

    # Once the training book is there, the reference is the one training would have stored.
    book, _ = write_book(tmp_path, "training", n_applicants=TRAINING_APPLICANTS, seed=11, as_of=TRAINING_AS_OF)
    import_loan_file(book, as_of=TRAINING_AS_OF)
    report = write_monitoring_report(version, today, today)
    stored = ReferenceDistribution.objects.get(model_version=version)
    assert stored.source == ReferenceDistribution.Source.RECORDED_APPLICANTS
    assert stored.applicants == monitored_model.reference["applicants"]
    assert stored.attributes == monitored_model.reference["attributes"]
    # The score's reference: training stores the out-of-fold probabilities; rebuilt later, only the
    # model's own probabilities of its applicants can be had (without training again): close, not equal.
    assert len(stored.score["edges"]) == len(monitored_model.reference["score"]["edges"]) == 9
    assert stored.score["edges"] == pytest.approx(monitored_model.reference["score"]["edges"], abs=0.05)
    assert report.figures["stability"]["reference"]["source"] == "recorded"


def test_monitor_command_writes_the_report_and_a_second_run_updates_it(monitored_version, tmp_path, capsys):
    scored_later_book(tmp_path, seed=12, shift=KNOWN_SHIFT)
    today = timezone.localdate().isoformat()

    call_command("monitor", "--from", today, "--to", today)
    call_command("monitor", "--version", str(monitored_version.pk), "--from", today, "--to", today)

    output = capsys.readouterr().out
    assert output.count(f"of {monitored_version} for {today}–{today}: ALERT, {PERIOD_APPLICANTS:,} predictions") == 2
    assert "[alert] Monthly income (Rp) moved" in output
    assert MonitoringReport.objects.count() == 1


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--version", "999"], "--version: there is no model version 999"),
        (["--from", "2025-13-01"], "--from must be a date written YYYY-MM-DD, got '2025-13-01'"),
        (["--to", "yesterday"], "--to must be a date written YYYY-MM-DD, got 'yesterday'"),
        (["--from", "2025-02-01", "--to", "2025-01-31"], "--from 2025-02-01 is after --to 2025-01-31"),
    ],
)
def test_monitor_command_rejects_bad_arguments(monitored_version, arguments, message):
    with pytest.raises(CommandError, match=message.replace("(", r"\(").replace(")", r"\)")):
        call_command("monitor", *arguments)
    assert MonitoringReport.objects.count() == 0


def test_monitor_command_without_an_active_version(make_monitored_version):
    make_monitored_version(activate=False)
    with pytest.raises(CommandError, match="No model version is active: name one with --version"):
        call_command("monitor")


def test_score_reference_is_the_models_probability_deciles(monitored_model):
    shares = monitored_model.reference["score"]["shares"]
    assert shares == pytest.approx([0.1] * 10, abs=0.01)
    assert SCORE == "npl_probability"


def test_the_scheduled_reports_cover_the_active_version_and_every_version_that_scored_in_the_period(
    make_monitored_version,
):
    earlier = make_monitored_version(name="earlier")
    score_applicants([VALID_APPLICANT] * 2, channel=Prediction.Channel.API)
    later = activate_model_version(make_monitored_version(activate=False, name="later"))
    idle = make_monitored_version(activate=False, name="never used")

    reports = write_scheduled_reports()

    start, end = scheduled_period()
    assert {report.model_version_id for report in reports} == {earlier.pk, later.pk}
    assert all((report.period_start, report.period_end) == (start, end) for report in reports)
    assert (end - start).days == 29
    by_version = {report.model_version_id: report for report in reports}
    assert by_version[earlier.pk].figures["stability"]["predictions"] == 2
    assert by_version[later.pk].figures["stability"]["predictions"] == 0
    assert not MonitoringReport.objects.filter(model_version=idle).exists()
    assert len(write_scheduled_reports()) == 2 and MonitoringReport.objects.count() == 2


def test_a_re_score_does_not_enter_an_application_into_the_period_again(monitored_version, tmp_path):
    """Issue 22, item 13: a mass re-score (after a policy change) counts each application once in a
    period's stability, as the back-test does; ad hoc predictions (no stored applicant) each count."""
    scored_later_book(tmp_path, seed=13)
    today = timezone.localdate()
    before = write_monitoring_report(monitored_version, today, today).figures["stability"]
    assert before["predictions"] == PERIOD_APPLICANTS

    score_stored_applicants(range(FIRST_LATER_APP_ID, FIRST_LATER_APP_ID + PERIOD_APPLICANTS))  # the re-score
    score_applicants([VALID_APPLICANT] * 2, channel=Prediction.Channel.API)
    after = write_monitoring_report(monitored_version, today, today).figures["stability"]

    assert Prediction.objects.count() == 2 * PERIOD_APPLICANTS + 2
    assert after["predictions"] == PERIOD_APPLICANTS + 2
    assert after["features"]["monthly_income"]["psi"] == pytest.approx(
        before["features"]["monthly_income"]["psi"], abs=1e-3
    )
