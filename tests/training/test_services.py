"""Training runs, model versions, champion/challenger, activation and roll-back."""

import threading
from datetime import date, timedelta

import pytest
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from applicants.services import import_loan_file
from credit.model_search import narrowed_profile, search_best_model
from tests.training.conftest import AS_OF, BOOK_APPLICANTS
from training.artifacts import load_artifact, save_artifact
from training.models import ModelVersion, TrainingRun
from training.selectors import get_active_model_version
from training.services import (
    ModelActivationError,
    TrainingFailed,
    activate_model_version,
    request_retraining,
    roll_back_model_version,
    run_queued_training,
    train_model_version,
)

LOAN_HEADER = (
    "app_id,due_date,paid_date,due_amount,paid_amount,monthly_income,housing_type,num_of_dependent,"
    "lama_bekerja,otr,status_pernikahan,pekerjaan,tenor,dp"
)


def write_loan_file(path, applicants: int, npl: int) -> None:
    """``applicants`` one-installment loans; the first ``npl`` never paid (NPL as of 2019-06-30)."""
    lines = [LOAN_HEADER]
    for number in range(applicants):
        if number < npl:
            paid_date, due, paid = "", "Rp5000000.0", "Rp0.0"
        else:
            paid_date, due, paid = "2019-01-05", "Rp0.0", "Rp5000000.0"
        lines.append(
            f"{5000 + number},2019-01-05,{paid_date},{due},{paid},Rp{9000000 + 1000 * number}.0,kos,1,2,"
            f"Rp200000000.0,Nikah,PNS,12,Rp40000000.0"
        )
    path.write_text("\n".join(lines) + "\n")


# One algorithm, one balancing: enough where only the champion/challenger logic is under test.
TINY = narrowed_profile("smoke", algorithms=("LogisticRegression",), balancings=("class_weight",))


def new_run(**parameters) -> TrainingRun:
    return TrainingRun.objects.create(parameters=parameters)


@pytest.mark.django_db
class TestTraining:
    def test_a_run_registers_and_activates_the_first_version(self, imported_book):
        steps = []
        run = new_run(profile="smoke")

        version = train_model_version(
            run, profile="smoke", as_of=AS_OF, seed=1, progress=lambda p, s: steps.append((p, s))
        )

        run.refresh_from_db()
        assert run.status == TrainingRun.Status.SUCCEEDED and run.progress == 100
        assert run.model_version == version and run.finished_at and run.heartbeat_at
        assert len(run.leaderboard) == 4 and sum(row["chosen"] for row in run.leaderboard) == 1
        assert "Candidate 1/4" in run.log
        assert [p for p, _ in steps] == sorted(p for p, _ in steps)

        assert version.is_active and version.status == ModelVersion.Status.ACTIVE
        assert version.name == f"{version.algorithm}-{version.balancing}"
        assert version.metrics["recall"] >= 0 and "out_of_fold" in version.metrics
        assert version.metrics["selection"]["chosen"] == version.name
        assert set(version.metrics["intervals"]) >= {"recall", "precision", "roc_auc"}
        assert version.metrics["champion_comparison"]["promote"] is True
        data = version.training_data
        assert data["as_of"] == AS_OF.isoformat() and data["applicants"] == BOOK_APPLICANTS
        assert data["development"]["applicants"] + data["test"]["applicants"] == BOOK_APPLICANTS
        assert 0 < data["npl_rate"] < 1
        model = load_artifact(version)
        assert model.threshold == version.threshold
        # Scoring's reasons compare with a typical training applicant, stored with the model.
        assert model.metadata["reference_values"]["pekerjaan"]

    def test_a_challenger_that_is_not_better_is_registered_inactive(self, imported_book, settings):
        first = train_model_version(new_run(), profile=TINY, as_of=AS_OF, seed=1)
        # The same data and seed give the same model: not *better*, so it stays a candidate.
        second = train_model_version(new_run(), profile=TINY, as_of=AS_OF, seed=1)

        comparison = second.metrics["champion_comparison"]
        assert comparison["promote"] is False and comparison["active_version"] == first.pk
        assert comparison["challenger"]["precision"] == comparison["champion"]["precision"]
        assert comparison["difference"]["interval"] == [0.0, 0.0]
        assert "within the noise" in comparison["reason"]
        assert "none of which the active version saw" in comparison["basis"]
        assert not second.is_active and second.status == ModelVersion.Status.CANDIDATE
        assert get_active_model_version() == first

    def test_a_challenger_better_by_less_than_the_noise_is_not_promoted(self, imported_book):
        first = train_model_version(new_run(), profile=TINY, as_of=AS_OF, seed=1)
        # Another seed: other test applicants and another fit, a little better or worse by chance.
        other = narrowed_profile(TINY, algorithms=("DecisionTreeClassifier",))
        second = train_model_version(new_run(), profile=other, as_of=AS_OF, seed=2)

        comparison = second.metrics["champion_comparison"]
        low, high = comparison["difference"]["interval"]
        assert low <= 0 and not second.is_active and get_active_model_version() == first
        assert "ROC AUC" in comparison["reason"] and "paired bootstrap" in comparison["reason"]

    def test_a_clearly_better_challenger_is_promoted(self, imported_book, small_frame, settings):
        # An active version that learnt the opposite: trained with NPL and performing swapped.
        swapped = small_frame.copy()
        swapped["is_npl"] = ~swapped["is_npl"].astype(bool)
        useless = search_best_model(swapped, profile=TINY, seed=1)
        stored = save_artifact(useless.model, "useless")
        champion = ModelVersion.objects.create(
            name="useless",
            algorithm=useless.model.algorithm,
            balancing=useless.model.balancing,
            threshold=useless.model.threshold,
            metrics=useless.test_metrics,
            training_data=useless.training_data,
            artifact_path=stored.path,
            artifact_sha256=stored.sha256,
            artifact_size=stored.size,
        )
        activate_model_version(champion)

        challenger = train_model_version(new_run(), profile=TINY, as_of=AS_OF, seed=1)

        comparison = challenger.metrics["champion_comparison"]
        assert comparison["difference"]["interval"][0] > 0
        assert comparison["promote"] is True and challenger.is_active
        assert "better by more than the noise" in comparison["reason"]

    def test_promotion_rule_always_activates_the_new_version(self, imported_book, settings):
        settings.MODEL_PROMOTION_RULE = "always"
        first = train_model_version(new_run(), profile=TINY, as_of=AS_OF, seed=1)
        second = train_model_version(new_run(), profile=TINY, as_of=AS_OF, seed=2)

        first.refresh_from_db()
        assert second.is_active and not first.is_active and first.status == ModelVersion.Status.RETIRED

    def test_promotion_rule_manual_never_activates_over_an_active_version(self, imported_book, settings):
        settings.MODEL_PROMOTION_RULE = "manual"
        first = train_model_version(new_run(), profile=TINY, as_of=AS_OF, seed=1)
        second = train_model_version(new_run(), profile=TINY, as_of=AS_OF, seed=2)
        assert first.is_active and not second.is_active


@pytest.mark.django_db
class TestRunsThatCannotSucceed:
    def check_failed(self, run, active_before, message):
        run.refresh_from_db()
        assert run.status == TrainingRun.Status.FAILED
        assert message in run.error
        assert run.finished_at is not None and run.model_version is None
        assert get_active_model_version() == active_before
        assert ModelVersion.objects.count() == (1 if active_before else 0)

    def test_no_labelled_data(self, register_version):
        active = activate_model_version(register_version())
        run = new_run()
        with pytest.raises(TrainingFailed, match="No labelled applicants"):
            train_model_version(run, profile="smoke", seed=1)
        self.check_failed(run, active, "import a loan file first")

    def test_one_class_only(self, register_version, tmp_path):
        active = activate_model_version(register_version())
        write_loan_file(tmp_path / "loans.csv", applicants=60, npl=0)
        import_loan_file(tmp_path / "loans.csv", as_of=date(2019, 6, 30))
        run = new_run()
        with pytest.raises(TrainingFailed):
            train_model_version(run, profile="smoke", as_of=date(2019, 6, 30), seed=1)
        self.check_failed(run, active, "All 60 labelled applicants as of 2019-06-30 are non-NPL")

    def test_too_few_npl(self, db, tmp_path):
        write_loan_file(tmp_path / "loans.csv", applicants=80, npl=5)
        import_loan_file(tmp_path / "loans.csv", as_of=date(2019, 6, 30))
        run = new_run()
        with pytest.raises(TrainingFailed):
            train_model_version(run, profile="smoke", as_of=date(2019, 6, 30), seed=1)
        self.check_failed(run, None, "Only 5 NPL and 75 non-NPL applicants")

    def test_unknown_profile(self, db):
        run = new_run()
        with pytest.raises(TrainingFailed, match="Unknown training profile 'huge'"):
            train_model_version(run, profile="huge")
        self.check_failed(run, None, "quick")


@pytest.mark.django_db
class TestActivation:
    def test_activating_retires_the_active_version(self, register_version, model_admin):
        first, second = register_version("A-undersampling"), register_version("B-smote")
        activate_model_version(first, model_admin)
        second = activate_model_version(second, model_admin)

        first.refresh_from_db()
        assert second.is_active and second.status == ModelVersion.Status.ACTIVE and second.activated_at
        assert not first.is_active and first.status == ModelVersion.Status.RETIRED
        assert ModelVersion.objects.filter(is_active=True).count() == 1

    def test_roll_back_returns_to_the_previously_active_version(self, register_version):
        first, second = register_version("A-undersampling"), register_version("B-smote")
        activate_model_version(first)
        activate_model_version(second)

        assert roll_back_model_version() == first
        assert get_active_model_version() == first
        second.refresh_from_db()
        assert not second.is_active

    def test_roll_back_without_history_is_refused(self, register_version):
        activate_model_version(register_version())
        with pytest.raises(ModelActivationError, match="no previously active"):
            roll_back_model_version()

    def test_a_version_whose_artifact_is_broken_is_not_activated(self, register_version, artifact_dir):
        good, broken = register_version("A-undersampling"), register_version("B-smote", artifact_sha256="0" * 64)
        activate_model_version(good)
        with pytest.raises(ModelActivationError, match="Cannot activate"):
            activate_model_version(broken)
        assert get_active_model_version() == good

    def test_the_database_allows_one_active_version_only(self, register_version):
        register_version("A-undersampling", is_active=True)
        with pytest.raises(IntegrityError), transaction.atomic():
            register_version("B-smote", is_active=True)

    def test_analysts_cannot_activate_roll_back_or_retrain(self, register_version, analyst):
        version = register_version()
        with pytest.raises(PermissionDenied):
            activate_model_version(version, analyst)
        with pytest.raises(PermissionDenied):
            roll_back_model_version(analyst)
        with pytest.raises(PermissionDenied):
            request_retraining(analyst, profile="smoke", recall_target=0.9)
        assert not TrainingRun.objects.exists()
        assert get_active_model_version() is None


@pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks need PostgreSQL (SQLite locks the file)")
@pytest.mark.django_db(transaction=True)
def test_concurrent_activations_leave_exactly_one_active_version(register_version):
    versions = [register_version(f"V{number}-smote") for number in range(4)]
    for version in reversed(versions):  # each has been active once: roll-backs always have a target
        activate_model_version(version)
    errors, barrier = [], threading.Barrier(len(versions))

    def activate(version):
        try:
            barrier.wait()
            for _ in range(5):
                activate_model_version(version)
                roll_back_model_version()
        except Exception as exc:  # collected and asserted below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=activate, args=(v,)) for v in versions]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert ModelVersion.objects.filter(is_active=True).count() == 1


@pytest.mark.django_db
class TestQueuedRuns:
    def test_a_queued_run_is_claimed_once(self, imported_book):
        run = TrainingRun.objects.create(parameters={"profile": "smoke", "as_of": AS_OF.isoformat(), "seed": 1})

        first = run_queued_training(run.pk)
        again = run_queued_training(run.pk)  # e.g. the broker delivered the message twice

        assert first["status"] == "succeeded" and again["status"] == "skipped"
        assert ModelVersion.objects.count() == 1

    def test_a_run_whose_worker_died_is_marked_failed_when_its_message_returns(self, db):
        stale = timezone.now() - timedelta(hours=1)
        run = TrainingRun.objects.create(status=TrainingRun.Status.RUNNING, started_at=stale, heartbeat_at=stale)

        outcome = run_queued_training(run.pk)

        run.refresh_from_db()
        assert outcome["status"] == "failed" and run.status == TrainingRun.Status.FAILED
        assert "worker running this training run stopped" in run.error

    def test_a_missing_run_is_skipped(self, db):
        assert run_queued_training(987654)["status"] == "skipped"

    def test_bad_stored_parameters_fail_the_run(self, db):
        run = TrainingRun.objects.create(parameters={"profile": "smoke", "as_of": "30/06/2024"})
        assert run_queued_training(run.pk)["status"] == "failed"
        run.refresh_from_db()
        assert "Invalid training parameters" in run.error
