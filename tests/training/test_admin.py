"""The admin pages and actions for model versions and training runs, over HTTP."""

import pytest
from django.urls import reverse

from nplsite.celery import app as celery_app
from tests.support import FIRST_POLICY_TRAINING
from training.models import ModelVersion, TrainingRun
from training.selectors import get_active_model_version
from training.services import activate_model_version, request_retraining

pytestmark = pytest.mark.django_db

VERSIONS_URL = "/admin/training/modelversion/"
RUNS_URL = "/admin/training/trainingrun/"
RETRAIN_URL = "/admin/training/trainingrun/retrain/"


@pytest.fixture
def purge_test_queue():
    """Tasks queued by a test with no worker are removed afterwards, so no later worker takes them."""
    yield
    with celery_app.connection_for_write() as connection:
        connection.default_channel.queue_purge(celery_app.conf.task_default_queue)


@pytest.fixture
def unreachable_broker():
    """The Celery app pointed at a Redis port where nothing listens (one quick connection attempt)."""
    conf = celery_app.conf
    saved = (conf.broker_url, conf.broker_transport_options, conf.broker_connection_timeout)
    conf.broker_url = "redis://127.0.0.1:9/0"
    conf.broker_transport_options = {"max_retries": 0}
    conf.broker_connection_timeout = 1

    def forget_pools():
        # The app looks its pools up again (kombu keeps one per broker URL): nothing is closed.
        celery_app._pool = None
        celery_app.amqp._producer_pool = None

    forget_pools()
    yield
    conf.broker_url, conf.broker_transport_options, conf.broker_connection_timeout = saved
    forget_pools()


def messages_of(response) -> list[str]:
    return [str(message) for message in response.context["messages"]] if response.context else []


def test_model_admin_sees_versions_and_runs_as_tables(model_admin_client, register_version):
    version = register_version()
    run = TrainingRun.objects.create(
        status=TrainingRun.Status.SUCCEEDED,
        model_version=version,
        leaderboard=[
            {
                "name": "LogisticRegression-smote",
                "algorithm": "LogisticRegression",
                "balancing": "smote",
                "best_params": {"C": 0.5},
                "cv_metric": "roc_auc",
                "cv_mean": 0.741,
                "cv_se": 0.012,
                "cv_folds": 5,
                "cv_pr_auc": 0.41,
                "cv_precision_at_recall": 0.22,
                "fit_seconds": 1.2,
                "error": "",
                "chosen": True,
                "best_mean": False,
            }
        ],
    )

    assert model_admin_client.get(VERSIONS_URL).status_code == 200
    page = model_admin_client.get(f"{VERSIONS_URL}{version.pk}/change/").content.decode()
    assert "confusion matrix" in page.lower() and "observed NPL rate" in page and version.artifact_sha256 in page
    runs = model_admin_client.get(RUNS_URL).content.decode()
    assert "Retrain now" in runs
    detail = model_admin_client.get(f"{RUNS_URL}{run.pk}/change/").content.decode()
    assert "<td>LogisticRegression</td>" in detail and "<td>C=0.5</td>" in detail and "<td>0.741 ± 0.012</td>" in detail


# Outside a test transaction, as in production (no ATOMIC_REQUESTS): the task is sent at once, not on commit.
def test_the_admin_s_retrain_form_can_ask_for_the_scorecard(model_admin_client, purge_test_queue):
    form = model_admin_client.get(RETRAIN_URL).content.decode()
    assert 'name="candidate"' in form
    model_admin_client.post(RETRAIN_URL, {"profile": "quick", "seed": 3, "candidate": "scorecard"})
    run = TrainingRun.objects.get()
    assert run.parameters["candidate"] == "CreditScorecard", run.parameters


@pytest.mark.django_db(transaction=True)
def test_retrain_now_queues_a_run_and_returns_at_once(model_admin_client, model_admin, purge_test_queue):
    assert model_admin_client.get(RETRAIN_URL).status_code == 200

    response = model_admin_client.post(RETRAIN_URL, {"profile": "quick", "as_of": "30/06/2024", "seed": 3}, follow=True)

    run = TrainingRun.objects.get()
    assert run.status == TrainingRun.Status.QUEUED and run.started_by == model_admin
    assert run.parameters == {
        "profile": "quick",
        "as_of": "2024-06-30",
        "seed": 3,
        **FIRST_POLICY_TRAINING,
    }  # the date is day first
    assert run.celery_task_id
    assert response.redirect_chain[-1][0] == RUNS_URL
    link = reverse("admin:training_trainingrun_change", args=[run.pk])
    assert any(f'href="{link}"' in message for message in messages_of(response))


@pytest.mark.django_db(transaction=True)
def test_retrain_action_reuses_the_selected_runs_parameters(model_admin_client, purge_test_queue):
    earlier = TrainingRun.objects.create(
        status=TrainingRun.Status.SUCCEEDED, parameters={"profile": "full", "as_of": "2024-01-31", "seed": 9}
    )
    model_admin_client.post(RUNS_URL, {"action": "retrain_now", "_selected_action": [earlier.pk]})

    queued = TrainingRun.objects.exclude(pk=earlier.pk).get()
    assert queued.status == TrainingRun.Status.QUEUED
    assert queued.parameters == {"profile": "full", "as_of": "2024-01-31", "seed": 9, **FIRST_POLICY_TRAINING}


@pytest.mark.django_db(transaction=True)
def test_an_unreachable_broker_fails_the_run_with_a_message_instead_of_an_error(model_admin, unreachable_broker):
    run = request_retraining(model_admin, profile="smoke", recall_target=0.9)

    assert run.status == TrainingRun.Status.FAILED
    assert "Not started: the task broker could not be reached" in run.error
    assert run.finished_at is not None


def test_activate_action_switches_the_active_version(model_admin_client, register_version):
    first, second = register_version("A-undersampling"), register_version("B-smote")
    activate_model_version(first)

    response = model_admin_client.post(
        VERSIONS_URL, {"action": "activate_version", "_selected_action": [second.pk]}, follow=True
    )

    assert get_active_model_version() == second
    assert any("is now the active model version" in message for message in messages_of(response))


def test_activate_action_needs_exactly_one_version(model_admin_client, register_version):
    first, second = register_version("A-undersampling"), register_version("B-smote")
    response = model_admin_client.post(
        VERSIONS_URL, {"action": "activate_version", "_selected_action": [first.pk, second.pk]}, follow=True
    )
    assert get_active_model_version() is None
    assert any("exactly one" in message for message in messages_of(response))


def test_roll_back_action_returns_to_the_previous_version(model_admin_client, register_version):
    first, second = register_version("A-undersampling"), register_version("B-smote")
    activate_model_version(first)
    activate_model_version(second)

    model_admin_client.post(VERSIONS_URL, {"action": "roll_back", "_selected_action": [second.pk]})

    assert get_active_model_version() == first


def test_analyst_can_neither_see_nor_act(analyst_client, register_version):
    version = register_version()

    for url in (VERSIONS_URL, RUNS_URL, RETRAIN_URL, f"{VERSIONS_URL}{version.pk}/change/"):
        response = analyst_client.get(url)
        assert response.status_code == 302 and response["Location"].startswith("/admin/login/"), url
    analyst_client.post(VERSIONS_URL, {"action": "activate_version", "_selected_action": [version.pk]})
    analyst_client.post(RETRAIN_URL, {"profile": "smoke", "seed": 1})

    assert not ModelVersion.objects.filter(is_active=True).exists()
    assert not TrainingRun.objects.exists()


def test_admin_pages_round_floats_link_the_favicon_and_give_the_lists_room(model_admin_client, register_version):
    """No 0.06978951623625695 on an admin page; the lists have no navigation sidebar taking their width."""
    version = register_version(
        threshold=0.06978951623625695,
        metrics={"precision": 0.268791, "recall": 0.914634, "pr_auc": 0.453397, "champion_comparison": {}},
    )
    listing = model_admin_client.get(VERSIONS_URL).content.decode()
    change = model_admin_client.get(f"{VERSIONS_URL}{version.pk}/change/").content.decode()

    assert "0.06978951623625695" not in listing + change
    assert "0.0698" in listing and "0.0698" in change and "0.269" in listing
    for html in (listing, change):
        assert '<link rel="icon" href="/favicon.ico"' in html and "/static/css/admin-npl.css" in html
        assert 'id="nav-sidebar"' not in html


def test_the_prediction_admin_shows_probabilities_as_percentages(model_admin_client, register_version):
    from scoring.models import Prediction

    version = register_version()
    prediction = Prediction.objects.create(
        input_attributes={},
        model_version=version,
        npl_probability=0.10222943533696,
        is_npl=True,
        threshold=0.06978951623625695,
        credit_score=512,
        risk_grade="C",
        expected_loss=4_599_000,
        recommendation="review",
        channel="api",
    )
    listing = model_admin_client.get("/admin/scoring/prediction/").content.decode()
    change = model_admin_client.get(f"/admin/scoring/prediction/{prediction.pk}/change/").content.decode()

    assert "0.10222943533696" not in listing + change and "0.0697895" not in change
    assert "10.22 %" in listing and "10.22 %" in change and "6.98 %" in change
