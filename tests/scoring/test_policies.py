"""Decision policies: the first one from the environment, new versions changing decisions in every
process, traceability of predictions, one active policy, roles, the API and the strategy curves."""

import threading
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext

from applicants.generator import write_loan_book
from applicants.selectors import labelled_applicants_frame
from applicants.services import import_loan_file
from credit import scorecard
from credit import strategy as credit_strategy
from credit.encoder import APPLICANT_ATTRIBUTES
from scoring import strategy
from scoring.models import DecisionPolicy, Prediction
from scoring.policies import POLICY_FIELDS, current_policy, policy_parameters
from scoring.policy_services import activate_policy, create_policy, ensure_active_policy, rescore_prediction
from scoring.services import score_applicants, score_requests, score_valid_applicants
from tests.scoring.conftest import BOOK_APPLICANTS, BOOK_AS_OF, RISKY_APPLICANT
from tests.support import VALID_APPLICANT
from training.artifacts import load_artifact
from training.models import TrainingRun
from web.api.serializers import cleaned_requests


def figures_of(policy: DecisionPolicy, **changes) -> dict:
    return {**{name: getattr(policy, name) for name in POLICY_FIELDS}, **changes}


def test_the_first_policy_is_made_from_the_environment_on_first_use(active_version, settings):
    settings.SCORE_PDO = 20.0
    settings.LGD = 0.6
    settings.RISK_GRADE_BANDS = "A:700,B:600"
    settings.APPROVE_MIN_SCORE = 650.0
    settings.TRAINING_RECALL_TARGET = 0.85
    assert not DecisionPolicy.objects.exists()

    prediction = score_applicants([VALID_APPLICANT], channel="api")[0].prediction

    policy = DecisionPolicy.objects.get()
    assert policy.is_active and policy.created_by is None and policy.reason
    assert (policy.pdo, policy.lgd, policy.approve_min_score, policy.recall_target) == (20.0, 0.6, 650.0, 0.85)
    assert policy.grade_bands == "A:700,B:600,C"
    assert prediction.policy_id == policy.pk
    # From then on the database counts, not the environment.
    settings.LGD = 0.9
    again = score_applicants([VALID_APPLICANT], channel="api")[0].prediction
    assert again.policy_id == policy.pk and again.expected_loss == prediction.expected_loss


def test_a_new_policy_changes_grade_and_recommendation_exactly_as_its_bands_say(active_version, model_admin):
    before = score_applicants([RISKY_APPLICANT], channel="api")[0].prediction
    first = DecisionPolicy.objects.get()
    score, flagged = before.credit_score, before.is_npl
    # The applicant's score is the lowest of band "Y" (one point under "X"); nobody is declined; the
    # approve cut-off is the applicant's score.
    new = create_policy(
        model_admin,
        reason="Test: bands around this applicant",
        activate=True,
        **figures_of(first, grade_bands=f"X:{score + 1},Y:{score}", decline_min_pd=1.0, approve_min_score=score),
    )

    after = score_applicants([RISKY_APPLICANT], channel="api")[0].prediction

    assert after.policy_id == new.pk != before.policy_id
    assert after.npl_probability == pytest.approx(before.npl_probability)
    assert after.credit_score == score
    assert after.risk_grade == "Y"
    assert after.recommendation == ("review" if flagged else "approve")
    assert (before.risk_grade, before.recommendation) != (after.risk_grade, after.recommendation)
    # Below the last band: the next letter.
    activate_policy(
        create_policy(
            model_admin, reason="Test: all above", **figures_of(first, grade_bands=f"X:{score + 2},Y:{score + 1}")
        ),
        model_admin,
    )
    assert score_applicants([RISKY_APPLICANT], channel="api")[0].prediction.risk_grade == "Z"


def test_another_process_s_activation_is_followed_within_the_recheck_time(
    active_version, model_admin, monkeypatch, settings
):
    """Another process activates a policy: only the database rows change here (no signal), and this
    process reads them once its reading is older than SCORING_ACTIVE_VERSION_RECHECK_SECONDS."""
    settings.SCORING_ACTIVE_VERSION_RECHECK_SECONDS = 1.0
    clock = [1000.0]
    monkeypatch.setattr("scoring.policies.time.monotonic", lambda: clock[0])
    first = ensure_active_policy()
    second = create_policy(model_admin, reason="Other process", **figures_of(first, grade_bands="Q:300"))
    assert score_applicants([VALID_APPLICANT], channel="api")[0].prediction.policy_id == first.pk
    DecisionPolicy.objects.filter(pk=first.pk).update(is_active=False)
    DecisionPolicy.objects.filter(pk=second.pk).update(is_active=True)
    clock[0] += 0.9
    with CaptureQueriesContext(connection) as queries:
        within = score_applicants([VALID_APPLICANT], channel="api")[0].prediction
    assert within.policy_id == first.pk and within.risk_grade != "Q"
    assert not any("scoring_decisionpolicy" in query["sql"] for query in queries.captured_queries)
    clock[0] += 0.2
    after = score_applicants([VALID_APPLICANT], channel="api")[0].prediction
    assert after.policy_id == second.pk and after.risk_grade == "Q"


def test_the_activating_process_follows_at_once_whatever_the_recheck_time(active_version, model_admin, settings):
    settings.SCORING_ACTIVE_VERSION_RECHECK_SECONDS = 60
    first = ensure_active_policy()
    assert current_policy().id == first.pk
    second = create_policy(model_admin, reason="At once", activate=True, **figures_of(first, grade_bands="Q:300"))
    assert score_applicants([VALID_APPLICANT], channel="api")[0].prediction.policy_id == second.pk


def test_two_policies_cannot_be_active_even_by_direct_writes(db, model_admin):
    first = ensure_active_policy()
    second = create_policy(model_admin, reason="Second", **figures_of(first))
    with pytest.raises(IntegrityError), transaction.atomic():
        DecisionPolicy.objects.filter(pk=second.pk).update(is_active=True)
    assert list(DecisionPolicy.objects.filter(is_active=True).values_list("pk", flat=True)) == [first.pk]


@pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks need PostgreSQL (SQLite locks the file)")
@pytest.mark.django_db(transaction=True)
def test_concurrent_activations_leave_exactly_one_active_policy(django_user_model):
    from nplsite.roles import MODEL_ADMIN
    from tests.conftest import make_user

    admin = make_user("mia", MODEL_ADMIN)
    first = ensure_active_policy()
    policies = [first] + [create_policy(admin, reason=f"P{n}", **figures_of(first)) for n in range(3)]
    errors, seen_two, barrier = [], [], threading.Barrier(len(policies) + 1)
    done = threading.Event()

    def activate(policy):
        try:
            barrier.wait()
            for _ in range(10):
                activate_policy(policy, admin)
        except Exception as exc:  # collected and asserted below
            errors.append(exc)
        finally:
            connection.close()

    def watch():
        try:
            barrier.wait()
            while not done.is_set():
                count = DecisionPolicy.objects.filter(is_active=True).count()
                if count != 1:
                    seen_two.append(count)
        finally:
            connection.close()

    threads = [threading.Thread(target=activate, args=(p,)) for p in policies]
    watcher = threading.Thread(target=watch)
    for thread in [*threads, watcher]:
        thread.start()
    for thread in threads:
        thread.join()
    done.set()
    watcher.join()

    assert errors == []
    assert seen_two == []
    assert DecisionPolicy.objects.filter(is_active=True).count() == 1


@pytest.mark.skipif(connection.vendor != "postgresql", reason="concurrent writers need PostgreSQL")
@pytest.mark.django_db(transaction=True)
def test_processes_making_the_first_policy_at_once_agree_on_one():
    barrier, ids, errors = threading.Barrier(4), [], []

    def first():
        try:
            barrier.wait()
            ids.append(ensure_active_policy().pk)
        except Exception as exc:  # collected and asserted below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=first) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len(set(ids)) == 1 and DecisionPolicy.objects.count() == 1


def test_analysts_cannot_create_or_activate_policies(db, analyst):
    first = ensure_active_policy()
    with pytest.raises(PermissionDenied):
        create_policy(analyst, reason="No", **figures_of(first))
    with pytest.raises(PermissionDenied):
        activate_policy(first, analyst)
    with pytest.raises(PermissionDenied):
        create_policy(None, reason="Nobody", **figures_of(first))
    assert DecisionPolicy.objects.count() == 1


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"reason": "  "}, "reason"),
        ({"grade_bands": "A:500,B:600"}, "grade_bands"),
        ({"grade_bands": "A=600"}, "grade_bands"),
        ({"decline_min_pd": 0.0}, "decline_min_pd"),
        ({"decline_min_pd": 1.5}, "decline_min_pd"),
        ({"approve_min_score": 900}, "approve_min_score"),
        ({"lgd": 0}, "lgd"),
        ({"lgd": 1.2}, "lgd"),
        ({"base_odds": -1}, "base_odds"),
        ({"pdo": 0}, "pdo"),
        ({"recall_target": 0}, "recall_target"),
        ({"recall_target": 1.1}, "recall_target"),
        # Absurd figures (issue 22, item 3): each bounded to a documented range (credit/scorecard.py).
        ({"base_points": 1e20}, "base_points"),
        ({"base_points": 100}, "base_points"),
        ({"base_odds": 1e300}, "base_odds"),
        ({"base_odds": 0.5}, "base_odds"),
        ({"pdo": 1000}, "pdo"),
        ({"pdo": 1}, "pdo"),
        ({"grade_bands": "A:1000,B:545"}, "grade_bands"),
        ({"grade_bands": "A:600,B:-5"}, "grade_bands"),
        ({"reason": "x" * 2001}, "reason"),
    ],
)
def test_an_unusable_policy_is_refused_naming_the_field_and_nothing_is_stored(db, model_admin, changes, field):
    first = ensure_active_policy()
    arguments = {"reason": "Valid reason", **figures_of(first), **changes}
    with pytest.raises(ValidationError) as caught:
        create_policy(model_admin, **arguments)
    assert list(caught.value.message_dict) == [field]
    assert DecisionPolicy.objects.count() == 1


def test_a_policy_out_of_range_is_refused_in_words(db, model_admin):
    first = ensure_active_policy()
    with pytest.raises(ValidationError) as caught:
        create_policy(model_admin, reason="Absurd", **figures_of(first, base_points=1e20, base_odds=1e300))
    errors = caught.value.message_dict
    assert errors["base_points"] == ["must be between 300 and 850, got 1e+20"]
    assert errors["base_odds"] == ["must be between 1 and 1000, got 1e+300"]


def test_rescoring_keeps_the_old_prediction_and_applies_the_current_policy(active_version, model_admin, analyst):
    old = score_applicants([RISKY_APPLICANT], channel="web", user=analyst)[0].prediction
    first = DecisionPolicy.objects.get()
    new_policy = create_policy(
        model_admin, reason="Stricter LGD", activate=True, **figures_of(first, lgd=0.9, grade_bands="Q:300")
    )

    new = rescore_prediction(old, user=analyst)

    assert Prediction.objects.filter(pk=old.pk, policy=first).exists()
    assert new.pk != old.pk and new.policy_id == new_policy.pk
    assert (new.model_version_id, new.npl_probability, new.is_npl) == (
        old.model_version_id,
        old.npl_probability,
        old.is_npl,
    )
    assert new.risk_grade == "Q" and new.expected_loss == pytest.approx(2 * old.expected_loss, abs=1)
    assert new.user == analyst and new.applicant_id == old.applicant_id


def test_a_requested_run_trains_for_the_active_policy_s_recall_target(db, model_admin):
    """The web layer reads the active policy's recall target when a run is requested and stores it on
    the run; the worker trains for that target (no start-up callback carries it across apps)."""
    from training.services import request_retraining

    first = ensure_active_policy()
    create_policy(model_admin, reason="Catch more", activate=True, **figures_of(first, recall_target=0.95))
    model_admin_client = Client()
    model_admin_client.force_login(model_admin)
    assert model_admin_client.post("/models/retrain/", {"profile": "quick", "seed": "7"}).status_code == 302
    run = TrainingRun.objects.latest("pk")
    assert run.parameters["recall_target"] == 0.95
    again = request_retraining(model_admin, "smoke", recall_target=first.recall_target)
    assert again.parameters["recall_target"] == first.recall_target


# --------------------------------------------------------------------------------------------
# API
# --------------------------------------------------------------------------------------------


def test_api_active_policy_shows_analysts_the_bands_and_cut_offs_and_admins_everything(
    client, analyst, model_admin, active_version
):
    policy = ensure_active_policy()
    client.force_login(analyst)
    summary = client.get("/api/v1/policies/active").json()
    assert summary["id"] == policy.pk
    assert [band["grade"] for band in summary["grade_bands"]] == ["A", "B", "C", "D", "E"]
    assert summary["grade_bands"][0]["min_score"] == 600
    assert summary["approve_min_score"] == policy.approve_min_score
    assert "reason" not in summary and "lgd" not in summary
    assert client.get("/api/v1/policies").status_code == 403

    client.force_login(model_admin)
    detail = client.get("/api/v1/policies/active").json()
    assert detail["reason"] == policy.reason and detail["lgd"] == policy.lgd and detail["is_active"] is True
    listed = client.get("/api/v1/policies").json()
    assert [item["id"] for item in listed["results"]] == [policy.pk]


def test_api_predictions_show_model_version_and_policy(client, analyst, active_version):
    client.force_login(analyst)
    scored = client.post("/api/v1/score", VALID_APPLICANT, content_type="application/json").json()
    policy = DecisionPolicy.objects.get(is_active=True)
    assert scored["policy"] == {"id": policy.pk}
    assert scored["model_version"]["id"] == active_version.pk
    listed = client.get("/api/v1/predictions").json()["results"][0]
    assert listed["policy"] == {"id": policy.pk}


# --------------------------------------------------------------------------------------------
# Strategy curves
# --------------------------------------------------------------------------------------------


@pytest.fixture
def trained_book(db, tmp_path):
    """The loan book the session's trained versions learned from (same generator seed), stored."""
    book = tmp_path / "book.csv"
    write_loan_book(book, tmp_path / "truth.csv", BOOK_APPLICANTS, seed=5, as_of=BOOK_AS_OF)
    import_loan_file(book, as_of=BOOK_AS_OF)


def test_a_point_of_the_curve_equals_scoring_the_test_applicants_under_that_cut_off(
    trained_book, active_version, model_admin
):
    applicants = strategy.test_applicants()
    assert applicants.exact  # exactly the version's test split (its stored digest)
    assert len(applicants) == active_version.training_data["test"]["applicants"]
    first = ensure_active_policy()
    cutoff = 560
    curve = credit_strategy.curve(applicants, policy_parameters(first))
    on_curve = next(item for item in curve if item.cutoff == cutoff)

    create_policy(model_admin, reason="Cut-off 560", activate=True, **figures_of(first, approve_min_score=cutoff))
    frame = labelled_applicants_frame(as_of=BOOK_AS_OF).set_index("app_id").loc[applicants.app_ids]
    records = frame.reset_index()[list(APPLICANT_ATTRIBUTES)].to_dict("records")
    results = score_valid_applicants(
        [attributes for attributes, _ in cleaned_requests(records, allow_app_id=False, lenient=True)], channel="batch"
    )
    approved = np.array([result.prediction.recommendation == "approve" for result in results])
    outcome = frame["is_npl"].to_numpy(bool)
    losses = np.array([result.prediction.expected_loss for result in results])

    assert [r.prediction.npl_probability for r in results] == pytest.approx(list(applicants.npl_probability))
    assert on_curve.approved == approved.sum()
    assert on_curve.approval_rate == pytest.approx(approved.mean())
    assert on_curve.npl_rate_approved == pytest.approx(outcome[approved].mean())
    assert on_curve.npl_caught == pytest.approx((outcome & ~approved).sum() / outcome.sum())
    assert on_curve.expected_loss_approved == losses[approved].sum()
    assert on_curve.expected_loss_avoided == losses[~approved].sum()


def test_the_curve_moves_as_the_cut_off_does(trained_book, active_version):
    applicants = strategy.test_applicants()
    curve = credit_strategy.curve(applicants, scorecard.ScorecardParameters())
    rates = [item.approval_rate for item in curve]
    assert rates == sorted(rates, reverse=True)  # a higher cut-off never approves more
    assert rates[0] > rates[-1]
    caught = [item.npl_caught for item in curve]
    assert caught == sorted(caught)
    total = curve[0].expected_loss_approved + curve[0].expected_loss_avoided
    assert all(item.expected_loss_approved + item.expected_loss_avoided == total for item in curve)


def test_comparison_reports_the_change_in_approvals_and_expected_loss(trained_book, active_version):
    active = scorecard.ScorecardParameters()
    proposed = replace(active, approve_min_score=620.0)
    comparison = strategy.compare(active, proposed)
    assert comparison.approval_change == comparison.proposed.approved - comparison.active.approved < 0
    assert comparison.expected_loss_change < 0
    assert comparison.proposed == credit_strategy.point(comparison.applicants, proposed)


def test_without_the_test_applicants_the_strategy_says_why(active_version):
    with pytest.raises(strategy.StrategyUnavailableError, match="no longer stored"):
        strategy.test_applicants()


def test_the_back_test_uses_the_active_version_s_scored_applicants_with_outcomes_it_never_saw(
    trained_book, active_version
):
    assert strategy.realised_applicants() is None  # nothing scored yet
    frame = labelled_applicants_frame(as_of=BOOK_AS_OF)
    seen = set(load_artifact(active_version).metadata["seen_app_ids"])
    unseen = frame[~frame["app_id"].isin(seen)]
    chosen = pd.concat([unseen[unseen["is_npl"]].head(5), unseen[~unseen["is_npl"]].head(20)])
    trained_on = frame[frame["app_id"].isin(seen)].head(5)
    columns = ["app_id", *APPLICANT_ATTRIBUTES]
    items = pd.concat([chosen, trained_on])[columns].to_dict("records")
    score_requests(cleaned_requests(items, lenient=True), channel="api")
    score_requests(
        cleaned_requests(items[:1], lenient=True), channel="api"
    )  # scored twice: the latest prediction counts

    realised = strategy.realised_applicants()

    assert sorted(realised.app_ids) == sorted(chosen["app_id"])  # not the ones it trained on
    latest = {
        prediction.applicant.app_id: prediction
        for prediction in Prediction.objects.select_related("applicant").order_by("created_at", "id")
    }
    labels = chosen.set_index("app_id")["is_npl"]
    for app_id, probability, flagged, outcome in zip(
        realised.app_ids, realised.npl_probability, realised.flagged_npl, realised.is_npl_outcome, strict=True
    ):
        assert (probability, flagged) == (latest[app_id].npl_probability, latest[app_id].is_npl)
        assert outcome == labels[app_id]
    comparison = strategy.compare(scorecard.ScorecardParameters(), scorecard.ScorecardParameters())
    assert comparison.realised_proposed == credit_strategy.point(realised, scorecard.ScorecardParameters())
