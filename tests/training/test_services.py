"""Training runs, model versions, champion/challenger, activation and roll-back."""

import copy
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
    MIN_UNSEEN_NPL_FOR_COMPARISON,
    ModelActivationError,
    TrainingFailed,
    _register_version,
    activate_model_version,
    challenger_wins,
    compare_with_active_version,
    promotion_rule,
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
    """The one end-to-end training run here: a generated book imported, trained, registered, activated.
    The promotion rules it applies are tested below as functions, without training."""

    @pytest.mark.trains
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
        # What the run compared, its reason, is in its log; the artifact records the applicants it saw.
        assert version.metrics["champion_comparison"]["reason"] in run.log
        assert len(model.metadata["seen_app_ids"]) == data["development"]["applicants"]


def _difference(low: float, high: float, metric: str = "roc_auc") -> dict:
    return {"metric": metric, "new": 0.80, "old": 0.78, "difference": (low + high) / 2, "interval": [low, high]}


def _headline_figures(recall: float) -> dict:
    return {"precision": 0.3, "recall": recall, "f1": 0.4, "roc_auc": 0.8, "pr_auc": 0.4, "threshold": 0.2, "npl": 50}


# (rule, new recall, old recall, interval of new − old, promoted?, words of the reason)
PROMOTION_CASES = [
    ("always", 0.5, 0.95, (-0.2, -0.1), True, "activates every new version"),
    ("manual", 0.95, 0.5, (0.1, 0.2), False, "leaves activation to a model admin"),
    ("roc_auc", 0.9, 0.9, (0.0, 0.0), False, "within the noise"),
    ("roc_auc", 0.9, 0.9, (-0.01, 0.02), False, "within the noise (the interval includes zero) — ROC AUC new"),
    ("roc_auc", 0.9, 0.9, (0.01, 0.05), True, "better by more than the noise — ROC AUC new 0.8000 vs active 0.7800"),
    ("roc_auc", 0.9, 0.9, (-0.05, -0.01), False, "the new version is worse — ROC AUC"),
    ("pr_auc", 0.9, 0.9, (0.01, 0.05), True, "better by more than the noise — PR AUC"),
    ("pr_auc", 0.9, 0.9, (-0.01, 0.05), False, "within the noise"),
    # precision_at_recall: never promoted when the new version misses the recall target the old one reaches…
    ("precision_at_recall", 0.85, 0.92, (0.01, 0.05), False, "recall 0.850 misses the target 0.90"),
    # …but judged on precision when both miss it, or the new one reaches it.
    ("precision_at_recall", 0.85, 0.88, (0.01, 0.05), True, "better by more than the noise — precision at the"),
    ("precision_at_recall", 0.91, 0.92, (0.01, 0.05), True, "better by more than the noise"),
    ("precision_at_recall", 0.91, 0.92, (-0.05, 0.01), False, "within the noise"),
]


@pytest.mark.parametrize(("rule", "new_recall", "old_recall", "interval", "promoted", "reason"), PROMOTION_CASES)
def test_the_promotion_rule(rule, new_recall, old_recall, interval, promoted, reason):
    metric = {"roc_auc": "roc_auc", "pr_auc": "pr_auc", "precision_at_recall": "precision"}.get(rule, "roc_auc")
    promote, why = challenger_wins(
        _headline_figures(new_recall), _headline_figures(old_recall), _difference(*interval, metric), 0.90, rule
    )
    assert promote is promoted
    assert reason in why
    if rule not in ("always", "manual"):
        assert "paired bootstrap 95 % interval" in why and f"{interval[0]:+.4f} to {interval[1]:+.4f}" in why


def test_no_interval_counts_as_no_difference():
    difference = {**_difference(0, 0), "interval": None}
    assert challenger_wins(_headline_figures(0.9), _headline_figures(0.9), difference, 0.9, "roc_auc") == (
        False,
        "the difference is within the noise (the interval includes zero) — ROC AUC new 0.8000 vs active 0.7800, "
        "difference +0.0000 with a paired bootstrap 95 % interval of +0.0000 to +0.0000",
    )


def _store_as_active(model, name: str, seen_app_ids) -> ModelVersion:
    """``model`` (a copy: the session's search result stays as it is) stored as the active version, having
    seen ``seen_app_ids`` in its development, as train_model_version records."""
    model = copy.deepcopy(model)
    model.metadata["seen_app_ids"] = sorted(int(app_id) for app_id in seen_app_ids)
    stored = save_artifact(model, name)
    version = ModelVersion.objects.create(
        name=name,
        algorithm=model.algorithm,
        balancing=model.balancing,
        threshold=model.threshold,
        metrics={},
        training_data={},
        artifact_path=stored.path,
        artifact_sha256=stored.sha256,
        artifact_size=stored.size,
    )
    return activate_model_version(version)


@pytest.mark.django_db
class TestChampionChallenger:
    """``compare_with_active_version`` on a real search result and a real active version (no training)."""

    def test_without_an_active_version_the_new_one_is_activated(self, smoke_search):
        comparison = compare_with_active_version(smoke_search, 0.9, "roc_auc")
        assert comparison["promote"] is True and comparison["active_version"] is None

    def test_a_challenger_that_is_not_better_is_not_promoted(self, smoke_search):
        # The same model as the active one: not *better*.
        first = _store_as_active(smoke_search.model, "first", smoke_search.split.development["app_id"])

        comparison = compare_with_active_version(smoke_search, 0.9, "roc_auc")

        assert comparison["promote"] is False and comparison["active_version"] == first.pk
        assert comparison["challenger"]["precision"] == comparison["champion"]["precision"]
        assert comparison["difference"]["interval"] == [0.0, 0.0]
        assert "within the noise" in comparison["reason"]
        assert "ROC AUC" in comparison["reason"] and "paired bootstrap" in comparison["reason"]
        assert "none of which the active version saw" in comparison["basis"]
        assert comparison["applicants"] == len(smoke_search.split.test)

    def test_the_champion_is_judged_on_test_applicants_it_did_not_see(self, smoke_search):
        test = smoke_search.split.test.sort_values("app_id")
        assert len(test) == 160 and int(test["is_npl"].sum()) >= MIN_UNSEEN_NPL_FOR_COMPARISON
        repaid = test[~test["is_npl"].astype(bool)]["app_id"]
        seen_ids = repaid.iloc[: len(repaid) // 2]
        _store_as_active(smoke_search.model, "first", [*smoke_search.split.development["app_id"], *seen_ids])

        comparison = compare_with_active_version(smoke_search, 0.9, "roc_auc")

        assert comparison["judged"] is True
        assert "of the 160 test applicants, those the active version never saw" in comparison["basis"]
        assert comparison["applicants"] == len(test) - len(seen_ids)

    @pytest.mark.parametrize(("rule", "promoted"), [("roc_auc", False), ("always", True), ("manual", False)])
    def test_too_few_unseen_applicants_give_no_verdict(self, smoke_search, rule, promoted):
        """Issue 22, item 10: the active version trained on most of this run's test applicants (a
        retrain with another seed): nothing is compared on applicants it learned from, no verdict is
        claimed, and the new version is not activated automatically."""
        test = smoke_search.split.test
        npl = test[test["is_npl"].astype(bool)]["app_id"]
        seen_ids = [*test[~test["is_npl"].astype(bool)]["app_id"], *npl.iloc[: len(npl) - 5]]  # 5 NPL unseen
        _store_as_active(smoke_search.model, "first", [*smoke_search.split.development["app_id"], *seen_ids])

        comparison = compare_with_active_version(smoke_search, 0.9, rule)

        assert comparison["judged"] is False and comparison["promote"] is promoted
        assert "challenger" not in comparison and "difference" not in comparison
        assert (comparison["unseen"], comparison["test"], comparison["unseen_npl"]) == (5, len(test), 5)
        assert "no verdict" in comparison["reason"]

        from django.utils import translation

        from web.page_selectors.training import champion_comparison_summary

        summary = champion_comparison_summary(comparison)
        if promoted:
            assert summary.startswith("Activated by the promotion rule, without a verdict: only 5 of the 160")
        else:
            assert summary.startswith("No verdict: only 5 of the 160 test applicants were not seen by first")
            assert "worse" not in summary and "better" not in summary
        with translation.override("id"):
            assert champion_comparison_summary(comparison).startswith(
                "Diaktifkan oleh aturan promosi, tanpa putusan" if promoted else "Tidak ada putusan"
            )

    @pytest.mark.trains
    def test_a_clearly_better_challenger_is_promoted(self, smoke_search, small_frame):
        # An active version that learnt the opposite: trained with NPL and performing swapped.
        swapped = small_frame.copy()
        swapped["is_npl"] = ~swapped["is_npl"].astype(bool)
        useless = search_best_model(swapped, profile=TINY, seed=1)
        _store_as_active(useless.model, "useless", [])

        comparison = compare_with_active_version(smoke_search, 0.9, "roc_auc")

        assert comparison["difference"]["interval"][0] > 0
        assert comparison["promote"] is True
        assert "better by more than the noise" in comparison["reason"]

    @pytest.mark.parametrize(("rule", "promoted"), [("always", True), ("manual", False)])
    def test_the_always_and_manual_rules_over_an_active_version(self, smoke_search, settings, rule, promoted):
        settings.MODEL_PROMOTION_RULE = rule
        _store_as_active(smoke_search.model, "first", smoke_search.split.development["app_id"])
        comparison = compare_with_active_version(smoke_search, 0.9, promotion_rule())
        assert comparison["promote"] is promoted and comparison["rule"] == rule

    def test_an_unknown_rule_is_refused(self, settings):
        settings.MODEL_PROMOTION_RULE = "coin_flip"
        with pytest.raises(ValueError, match="MODEL_PROMOTION_RULE must be one of"):
            promotion_rule()


@pytest.mark.django_db
@pytest.mark.parametrize("promote", [True, False])
def test_a_new_version_is_activated_or_kept_a_candidate_as_the_comparison_says(smoke_search, promote):
    """What train_model_version does with the comparison's verdict: activate the new version (the active
    one retired) or register it as a candidate beside the active one."""
    first = _store_as_active(smoke_search.model, "first", smoke_search.split.development["app_id"])
    run = new_run()
    stored = save_artifact(smoke_search.model, "second")
    comparison = {"promote": promote, "reason": "as the test says"}

    second = _register_version(run, smoke_search, stored, comparison, AS_OF, 1, TINY)

    first.refresh_from_db()
    assert second.metrics["champion_comparison"] == comparison
    if promote:
        assert second.is_active and second.status == ModelVersion.Status.ACTIVE
        assert not first.is_active and first.status == ModelVersion.Status.RETIRED
        assert get_active_model_version() == second
    else:
        assert not second.is_active and second.status == ModelVersion.Status.CANDIDATE
        assert first.is_active and get_active_model_version() == first


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
    @pytest.mark.trains
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
