"""A training run's model search spread over the Celery workers, when ``settings.TRAINING_DISTRIBUTED``.

One run is three kinds of task, a Celery **chord**:

1. ``training.retrain_model`` (:func:`start_distributed_training`) claims the run, reads the labelled
   applicants from the loan tables once, holds out the test applicants and makes the shared folds
   (``credit.model_search.plan_search``), stores that plan once as the run's
   :class:`~training.models.SearchSnapshot` and sends the chord — then returns, freeing its worker.
2. ``training.search_fit`` (:func:`search_fit`), one per candidate (algorithm × balancing) and shared
   fold: loads the snapshot (once per worker process and run) and runs the candidate's search on that
   fold (``credit.model_search.search_candidate_fold``); any free worker process, on any machine, takes
   the next one. The tasks are sent longest first (:func:`longest_first`), so the last to finish are
   short ones and no worker idles while another finishes a long fit.
3. ``training.finish_search`` (:func:`finish_distributed_training`), the chord's callback, gets every
   outcome, puts each candidate's folds together (``candidate_from_folds``: the same layout and means
   as one ``RandomizedSearchCV`` over all folds), then chooses, calibrates, refits, tests and
   registers exactly as the search in one process does, and deletes the snapshot.

Why a chord and not a parent that waits for its children: a task waiting on other tasks holds a
worker process while they queue (with one worker process they would never run), and Celery refuses
``result.get()`` inside a task for that reason. The chord's callback is started by the result backend
when the last fit is stored (Redis: at once).

Every fit is seeded and independent of the others, so the chosen model, every fold score and the
leaderboard equal the search in one process with the same seed (``tests/training/test_distributed.py``).

The run's heartbeat: every fit task and the callback beat while they work (``jobs.lifecycle.Heartbeat``);
fits waiting in the queue behind other work longer than ``JOB_STALE_HEARTBEAT_SECONDS`` with none of
the run's tasks running let the run be failed as stale (its remaining tasks then end at once).
"""

from __future__ import annotations

import hashlib
import logging
import time
from datetime import date

from celery import chord, signature
from django.conf import settings
from django.db.models import F
from django.utils import timezone

from credit import steps
from credit.model_search import (
    SearchPlan,
    candidate_from_folds,
    finish_search,
    get_profile,
    plan_from_bytes,
    plan_search,
    plan_to_bytes,
    search_candidate_fold,
)
from jobs.lifecycle import Heartbeat
from training.models import SearchSnapshot, TrainingRun
from training.services import (
    SEARCH_PROGRESS,
    RunProgress,
    _scaling_from,
    _scaling_parameters,
    conclude_training,
    load_training_frame,
    mark_running,
    recall_margin_se,
    resolved_recall_target,
    training_failed,
)

logger = logging.getLogger(__name__)

FIT_TASK = "training.search_fit"
FINISH_TASK = "training.finish_search"

# Relative cost of a candidate's fold, to send the longest first (measured on the full profile: the
# scorecard's binning, forests and k-NN's neighbour search dominate; resampling up doubles the rows,
# down halves them). Only the order of sending depends on it, never a result.
ALGORITHM_COST = {
    "CreditScorecard": 6.0,
    "RandomForestClassifier": 5.0,
    "KNeighborsClassifier": 4.0,
    "XGBClassifier": 3.0,
    "DecisionTreeClassifier": 1.0,
    "LogisticRegression": 1.0,
}
BALANCING_COST = {"smote": 2.2, "oversampling": 2.0, "class_weight": 1.0, "none": 1.0, "undersampling": 0.4}


def longest_first(fits: list[tuple[str, str, int]]) -> list[tuple[str, str, int]]:
    """The plan's fits in the order to send them: the costliest first (a stable sort)."""
    return sorted(fits, key=lambda fit: -ALGORITHM_COST.get(fit[0], 1.0) * BALANCING_COST.get(fit[1], 1.0))


def start_distributed_training(
    run: TrainingRun,
    *,
    queue: str,
    profile: str = "quick",
    as_of: date | None = None,
    seed: int = 7,
    recall_target: float | None = None,
    score_scaling=None,
    candidate: str | None = None,
) -> dict:
    """Load, plan and store the search once, and send its chord to ``queue`` (see the module docstring).
    The run stays ``running``; the chord's callback ends it. Returns what the task reports."""
    from applicants.selectors import latest_installment_date

    report = RunProgress(run)
    mark_running(run)
    as_of = as_of or latest_installment_date()
    heartbeat = Heartbeat(run).__enter__()
    try:
        search_profile = get_profile(profile)
        target = resolved_recall_target(recall_target)
        frame, unlabelled = load_training_frame(report, as_of, search_profile)
        report(2, steps.SPLITTING.text())
        plan = plan_search(frame, profile=search_profile, seed=seed, candidate=candidate)
        data = plan_to_bytes(plan)
        fits = plan.fits()
        SearchSnapshot.objects.update_or_create(
            run=run, defaults={"data": data, "sha256": hashlib.sha256(data).hexdigest(), "fits": len(fits)}
        )
        context = {
            "run_id": run.pk,
            "recall_target": target,
            "recall_margin_se": recall_margin_se(),
            "calibration_method": settings.TRAINING_CALIBRATION_METHOD,
            "score_scaling": _scaling_parameters(score_scaling),
            "as_of": as_of.isoformat() if as_of else None,
            "seed": seed,
            "unlabelled": unlabelled,
            "started": time.time(),
        }
        report.note(
            f"The search is spread over the workers: {len(fits)} tasks (candidate × fold) on queue {queue!r}, "
            f"reading the development applicants from one snapshot of {len(data) / 1e6:.2f} MB."
        )
        report(
            SEARCH_PROGRESS[0],
            steps.SEARCHING_ON_WORKERS.text(
                candidates=len(plan.candidates), folds=len(plan.folds.splits), fits=len(fits)
            ),
        )
        header = [signature(FIT_TASK, args=(context, *fit), queue=queue) for fit in longest_first(fits)]
        chord(header)(signature(FINISH_TASK, kwargs={"context": context}, queue=queue))
    except Exception as exc:
        SearchSnapshot.objects.filter(run=run).delete()
        failed = training_failed(run, exc)
        return {"run_id": run.pk, "status": "failed", "error": str(failed)}
    finally:
        heartbeat.__exit__(None, None, None)
    return {"run_id": run.pk, "status": "searching", "fits": len(fits), "queue": queue}


# The plan this worker process loaded last: (run id, sha256, plan). A process takes many fits of one run.
_loaded: tuple[int, str, SearchPlan] | None = None


def load_plan(run_id: int) -> SearchPlan:
    """The run's search plan from its snapshot (read from the database once per process and run)."""
    global _loaded
    digest = SearchSnapshot.objects.values_list("sha256", flat=True).get(run_id=run_id)
    if _loaded is not None and _loaded[:2] == (run_id, digest):
        return _loaded[2]
    data = bytes(SearchSnapshot.objects.values_list("data", flat=True).get(run_id=run_id))
    if hashlib.sha256(data).hexdigest() != digest:
        raise ValueError(f"The search snapshot of training run {run_id} does not match its SHA-256")
    _loaded = (run_id, digest, plan_from_bytes(data))
    return _loaded[2]


def _running(run_id: int) -> TrainingRun | None:
    return TrainingRun.objects.filter(pk=run_id, status=TrainingRun.Status.RUNNING).first()


def search_fit(context: dict, algorithm: str, balancing: str, fold: int) -> dict:
    """One candidate on one fold of the run's search (``credit.model_search.search_candidate_fold``'s JSON).
    A run that is no longer running (failed meanwhile) is not searched: the outcome says so."""
    run = _running(context["run_id"])
    if run is None:
        return _not_searched(algorithm, balancing, fold, "the training run is no longer running")
    with Heartbeat(run):
        try:
            plan = load_plan(run.pk)
        except Exception as exc:  # the run's callback then fails it in words, instead of the chord stopping
            return _not_searched(algorithm, balancing, fold, f"{type(exc).__name__}: {exc}")
        X, y = plan.development
        outcome = search_candidate_fold(
            X,
            y,
            plan.folds,
            fold,
            algorithm=algorithm,
            balancing=balancing,
            profile=plan.profile,
            seed=plan.seed,
            recall_target=context["recall_target"],
            score_scaling=_scaling_from(context["score_scaling"]),
        )
    _count_fit_done(run.pk)
    return outcome


def _not_searched(algorithm: str, balancing: str, fold: int, why: str) -> dict:
    return {
        "algorithm": algorithm,
        "balancing": balancing,
        "fold": fold,
        "params": [],
        "scores": {},
        "seconds": 0.0,
        "error": f"Not searched: {why}."[:500],
    }


def _count_fit_done(run_id: int) -> None:
    SearchSnapshot.objects.filter(run_id=run_id).update(fits_done=F("fits_done") + 1)
    counts = SearchSnapshot.objects.filter(run_id=run_id).values_list("fits_done", "fits").first()
    if counts is None:
        return
    done, fits = counts
    low, high = SEARCH_PROGRESS
    percent = low + int((high - low) * 0.8 * done / fits)
    TrainingRun.objects.filter(pk=run_id, status=TrainingRun.Status.RUNNING, progress__lt=percent).update(
        progress=percent, current_step=steps.FITS_DONE.text(done=done, fits=fits), heartbeat_at=timezone.now()
    )


def finish_distributed_training(outcomes: list[dict], context: dict) -> dict:
    """The chord's callback: every candidate from its folds, then choose, calibrate, refit, test and
    register as in one process (``credit.model_search.finish_search``, ``conclude_training``)."""
    global _loaded
    run_id = context["run_id"]
    run = _running(run_id)
    try:
        if run is None:
            return {"run_id": run_id, "status": "skipped", "reason": "the run is no longer running"}
        report = RunProgress(run)
        with Heartbeat(run):
            try:
                plan = load_plan(run_id)
                X, y = plan.development
                scaling = _scaling_from(context["score_scaling"])
                candidates = [
                    candidate_from_folds(
                        algorithm,
                        balancing,
                        [o for o in outcomes if (o["algorithm"], o["balancing"]) == (algorithm, balancing)],
                        profile=plan.profile,
                        seed=plan.seed,
                        X=X,
                        y=y,
                        folds=plan.folds,
                        recall_target=context["recall_target"],
                        score_scaling=scaling,
                    )
                    for algorithm, balancing in plan.candidates
                ]
                result = finish_search(
                    plan,
                    candidates,
                    recall_target=context["recall_target"],
                    recall_margin_se=context["recall_margin_se"],
                    calibration_method=context["calibration_method"],
                    score_scaling=scaling,
                    progress=report,
                    progress_range=SEARCH_PROGRESS,
                    started=context["started"],
                )
                as_of = date.fromisoformat(context["as_of"]) if context["as_of"] else None
                version = conclude_training(
                    run,
                    result,
                    report,
                    target=context["recall_target"],
                    as_of=as_of,
                    seed=plan.seed,
                    profile=plan.profile,
                    unlabelled=context["unlabelled"],
                )
            except Exception as exc:
                failed = training_failed(run, exc)
                return {"run_id": run_id, "status": "failed", "error": str(failed)}
        return {"run_id": run_id, "status": "succeeded", "model_version_id": version.pk, "active": version.is_active}
    finally:
        SearchSnapshot.objects.filter(run_id=run_id).delete()
        _loaded = None
