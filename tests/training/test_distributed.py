"""The model search spread over Celery workers gives what the search in one process gives, to the bit."""

import json
import time

import numpy as np
import pytest

from applicants.selectors import labelled_applicants_frame
from applicants.services import import_loan_file
from credit.model_search import (
    candidate_from_folds,
    finish_search,
    narrowed_profile,
    plan_from_bytes,
    plan_search,
    plan_to_bytes,
    search_best_model,
    search_candidate_fold,
)
from tests.conftest import start_celery_worker, stop_celery_worker, wait_until
from tests.training.conftest import AS_OF
from training.models import SearchSnapshot, TrainingRun
from training.services import request_retraining

# A forest (judged at several tree counts from one fit) and a logistic regression, two settings each,
# two balancings: every path of a candidate's search, in seconds.
PARTS = narrowed_profile(
    "smoke",
    algorithms=("LogisticRegression", "RandomForestClassifier"),
    balancings=("class_weight", "undersampling"),
    forest_trees=40,
    n_iter=2,
)


def without_timing(leaderboard: list[dict]) -> list[dict]:
    """Leaderboard rows as JSON stores them, without the seconds each candidate took (never equal twice)."""
    return [
        {key: value for key, value in row.items() if key != "fit_seconds"}
        for row in json.loads(json.dumps(leaderboard))
    ]


@pytest.mark.trains
def test_the_search_in_parts_through_json_equals_the_search_in_one_process(small_frame):
    whole = search_best_model(small_frame, profile=PARTS, seed=4)

    # What the workers do: the plan as stored once, each candidate on each fold, outcomes through JSON.
    plan = plan_from_bytes(plan_to_bytes(plan_search(small_frame, profile=PARTS, seed=4)))
    X, y = plan.development
    outcomes = json.loads(
        json.dumps(
            [
                search_candidate_fold(
                    X, y, plan.folds, fold, algorithm=a, balancing=b, profile=plan.profile, seed=4, recall_target=0.9
                )
                for a, b, fold in reversed(plan.fits())  # in any order
            ]
        )
    )
    candidates = [
        candidate_from_folds(
            a,
            b,
            [o for o in outcomes if (o["algorithm"], o["balancing"]) == (a, b)],
            profile=plan.profile,
            seed=4,
            X=X,
            y=y,
            folds=plan.folds,
            recall_target=0.9,
        )
        for a, b in plan.candidates
    ]
    parts = finish_search(plan, candidates)

    assert len(plan.fits()) == 4 * 3  # four candidates, three folds
    assert parts.winner.name == whole.winner.name and parts.best_mean.name == whole.best_mean.name
    for one, other in zip(whole.candidates, parts.candidates, strict=True):
        assert one.name == other.name and one.best_params == other.best_params
        assert np.array_equal(one.fold_scores, other.fold_scores)  # exactly, not approximately
    assert any(c.algorithm == "RandomForestClassifier" and c.scored for c in parts.candidates)
    assert without_timing(parts.leaderboard()) == without_timing(whole.leaderboard())
    assert parts.model.hyperparameters == whole.model.hyperparameters
    assert parts.model.threshold == whole.model.threshold
    assert np.array_equal(parts.test_probability, whole.test_probability)
    assert parts.test_metrics == whole.test_metrics and parts.out_of_fold_metrics == whole.out_of_fold_metrics


@pytest.mark.trains
@pytest.mark.process  # starts a Celery worker process of its own
@pytest.mark.django_db(transaction=True)
def test_a_run_spread_over_real_workers_registers_what_one_process_chooses(model_admin, loan_book_file):
    import_loan_file(loan_book_file, as_of=AS_OF)
    # Two worker processes taking the run's tasks from the broker, as two machines would.
    workers = [start_celery_worker(TRAINING_DISTRIBUTED="1") for _ in range(2)]
    try:
        assert wait_until(
            lambda: all(" ready." in worker.log_path.read_text(errors="replace") for worker in workers), 120
        )
        run = request_retraining(model_admin, profile="smoke", as_of=AS_OF, seed=2, recall_target=0.9)
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline and all(worker.poll() is None for worker in workers):
            run.refresh_from_db()
            if run.finished:
                break
            time.sleep(0.2)
    finally:
        logs = [worker.log_path.read_text(errors="replace") for worker in workers]
        for worker in workers:
            stop_celery_worker(worker)

    assert run.status == TrainingRun.Status.SUCCEEDED, run.error or run.log
    assert "spread over the workers: 12 tasks" in run.log  # 4 candidates × 3 folds
    assert all("training.search_fit" in log for log in logs), "both workers took fits"
    assert not SearchSnapshot.objects.exists()  # handed over once, deleted at the end

    alone = search_best_model(labelled_applicants_frame(as_of=AS_OF), profile="smoke", seed=2, recall_target=0.9)
    version = run.model_version
    assert version.name == alone.winner.name
    assert version.hyperparameters == json.loads(json.dumps(alone.model.hyperparameters))
    assert version.threshold == alone.model.threshold
    assert without_timing(run.leaderboard) == without_timing(alone.leaderboard())
    assert version.metrics["roc_auc"] == alone.test_metrics["roc_auc"]
