"""Training, registering, activating and rolling back model versions.

- :func:`train_model_version` runs the model search (``credit.model_search``) for a ``TrainingRun``,
  reporting progress on the run, stores the winner's artifact, registers a ``ModelVersion`` and
  promotes it when it beats the active version on the same test applicants
  (:func:`compare_with_active_version`, rule ``settings.MODEL_PROMOTION_RULE``).
- :func:`activate_model_version` / :func:`roll_back_model_version` switch the active version
  atomically; the database constraint ``one_active_model_version`` guarantees at most one.
- :func:`request_retraining` queues a run for the Celery task ``training.tasks.retrain_model``;
  :func:`run_queued_training` is what that task does; :func:`retry_training_run` starts a failed run
  again. A run's lifecycle (claim, heartbeat, failing a run whose worker died) is every background
  job's: ``jobs/lifecycle.py``.

``ModelVersion.metrics`` holds the test metrics at the top level (``precision``, ``recall``, ``f1``,
``accuracy``, ``roc_auc``, ``pr_auc``, ``brier``, ``confusion_matrix``, ``roc_curve``, ``pr_curve``,
``calibration``, …) with ``intervals`` (bootstrap 95 % intervals of the headline figures), plus
``out_of_fold`` (the same on the pooled out-of-fold predictions over the development applicants,
where the threshold was chosen), ``selection`` (the cross-validated choice: metric, rule, the chosen
and the best-mean candidate with their means and standard errors), ``uncertain`` (fewer than
``pipeline.UNCERTAIN_BELOW_NPL`` NPL in the book) and ``champion_comparison``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import date

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone

from credit import steps
from credit.intervals import paired_bootstrap_difference
from credit.model_search import (
    REQUESTABLE_CANDIDATES,
    SearchProfile,
    SearchResult,
    TrainingDataError,
    check_training_data,
    evaluate,
    features_and_labels,
    get_profile,
    search_best_model,
)
from credit.scorecard import ScorecardParameters
from jobs.lifecycle import (
    Heartbeat,
    claim,
    enqueue,
    fail_if_stale,
    fail_stale_jobs,
    failure_message,
    is_stale,
    mark_failed,
    worker_lost_message,
)
from nplsite.roles import is_model_admin
from training.artifacts import (
    ArtifactIntegrityError,
    load_artifact,
    read_verified_bytes,
    resolve_artifact_path,
    save_artifact,
)
from training.models import ModelVersion, TrainingRun
from training.selectors import get_active_model_version, get_previous_model_version
from training.signals import active_version_changed, model_version_registered
from training.validation import record_validation

logger = logging.getLogger(__name__)

RETRAIN_TASK = "training.retrain_model"
PROMOTION_RULES = ("roc_auc", "pr_auc", "precision_at_recall", "always", "manual")
# The figure each comparing rule bootstraps (precision_at_recall: precision at each version's own threshold).
PROMOTION_METRICS = {"roc_auc": "roc_auc", "pr_auc": "pr_auc", "precision_at_recall": "precision"}
METRIC_LABELS = {"roc_auc": "ROC AUC", "pr_auc": "PR AUC", "precision": "precision at the recall target"}
# Fewer NPL than this among the test applicants the active version never saw: compare on the whole test split.
MIN_UNSEEN_NPL_FOR_COMPARISON = 20


class TrainingFailed(Exception):
    """A training run ended ``failed``; the message is the run's error, the active version is unchanged."""

    def __init__(self, run: TrainingRun, message: str):
        super().__init__(message)
        self.run = run


class ModelActivationError(Exception):
    """A version cannot be activated (or there is nothing to roll back to); the message says why."""


def recall_margin_se() -> float:
    return float(settings.TRAINING_RECALL_MARGIN_SE)


def promotion_rule() -> str:
    rule = settings.MODEL_PROMOTION_RULE
    if rule not in PROMOTION_RULES:
        raise ValueError(f"MODEL_PROMOTION_RULE must be one of {', '.join(PROMOTION_RULES)}, got {rule!r}")
    return rule


# --------------------------------------------------------------------------------------------
# Progress on the run
# --------------------------------------------------------------------------------------------


class RunProgress:
    """Records progress on a ``TrainingRun`` (percent, step, heartbeat, log) and forwards it."""

    def __init__(self, run: TrainingRun, forward: Callable[[int, str], None] | None = None):
        self.run = run
        self.forward = forward

    def __call__(self, percent: int, step: str) -> None:
        now = timezone.now()
        run = self.run
        run.progress = max(run.progress, min(int(percent), 100))
        run.current_step = step[:200]
        run.heartbeat_at = now
        run.log = f"{run.log}{timezone.localtime(now):%H:%M:%S} [{run.progress:3d}%] {step}\n"
        run.save(update_fields=["progress", "current_step", "heartbeat_at", "log"])
        if self.forward is not None:
            self.forward(run.progress, step)

    def note(self, line: str) -> None:
        now = timezone.now()
        self.run.log = f"{self.run.log}{timezone.localtime(now):%H:%M:%S}        {line}\n"
        self.run.heartbeat_at = now
        self.run.save(update_fields=["log", "heartbeat_at"])


# --------------------------------------------------------------------------------------------
# Training
# --------------------------------------------------------------------------------------------


def train_model_version(
    run: TrainingRun,
    *,
    profile: str | SearchProfile = "quick",
    as_of: date | None = None,
    seed: int = 7,
    out_of_time: bool = False,
    progress: Callable[[int, str], None] | None = None,
    recall_target: float | None = None,
    score_scaling: ScorecardParameters | None = None,
    candidate: str | None = None,
) -> ModelVersion:
    """Train on the applicants labelled as of ``as_of``, register the winner, promote it if better.

    ``candidate``: ``None`` registers the candidate the one-standard-error rule chooses;
    ``"CreditScorecard"`` registers the scorecard deliberately (``credit.model_search.search_best_model``).
    Either way the version's validation record is stored with it (``training.validation``).

    ``recall_target``: the NPL recall the new model's flag threshold must reach, given by whoever
    starts the run (the active decision policy's, read by the web layer when a run is requested);
    ``None``: ``settings.TRAINING_RECALL_TARGET``. ``score_scaling``: the active policy's credit-score
    scaling, so the scorecard candidate's points add up to the score analysts see (``None``: defaults).

    Updates ``run`` throughout (status running → succeeded/failed, progress, step, heartbeat, log,
    leaderboard). Returns the new ``ModelVersion``; raises :class:`TrainingFailed` (after marking
    the run failed, with the active version unchanged) when no model can be trained.
    """
    from applicants.selectors import latest_installment_date

    report = RunProgress(run, progress)
    mark_running(run)
    # The default "as of" is resolved here, so the version records the date its labels are from.
    as_of = as_of or latest_installment_date()
    try:
        search_profile = get_profile(profile)
    except ValueError as exc:
        mark_failed(run, str(exc))
        raise TrainingFailed(run, str(exc)) from exc
    heartbeat = Heartbeat(run).__enter__()
    try:
        target = resolved_recall_target(recall_target)
        frame, unlabelled = load_training_frame(report, as_of, search_profile)
        report.note(in_process_note())
        result = search_best_model(
            frame,
            profile=search_profile,
            seed=seed,
            recall_target=target,
            recall_margin_se=recall_margin_se(),
            score_scaling=score_scaling,
            candidate=candidate,
            calibration_method=settings.TRAINING_CALIBRATION_METHOD,
            out_of_time=out_of_time,
            progress=report,
            progress_range=SEARCH_PROGRESS,
        )
        version = conclude_training(
            run, result, report, target=target, as_of=as_of, seed=seed, profile=search_profile, unlabelled=unlabelled
        )
    except Exception as exc:
        raise training_failed(run, exc) from exc
    finally:
        heartbeat.__exit__(None, None, None)
    return version


# The share of a run's progress bar the search itself takes (loading before it; comparing, saving after).
SEARCH_PROGRESS = (3, 88)


def mark_running(run: TrainingRun) -> None:
    now = timezone.now()
    run.status = TrainingRun.Status.RUNNING
    run.started_at = run.started_at or now
    run.heartbeat_at = now
    run.error = ""
    run.save(update_fields=["status", "started_at", "heartbeat_at", "error"])


def in_process_note() -> str:
    """The run's log line saying where the search runs when it runs in the run's own process."""
    if not settings.TRAINING_DISTRIBUTED:
        return (
            "The search runs in this process, candidate after candidate (TRAINING_DISTRIBUTED is off; with "
            "Redis it is on and the workers share the search)."
        )
    return "The search runs in this process (the run was not started by a Celery worker)."


def resolved_recall_target(recall_target: float | None) -> float:
    return float(recall_target if recall_target is not None else settings.TRAINING_RECALL_TARGET)


def load_training_frame(report: RunProgress, as_of: date | None, profile: SearchProfile):
    """(the applicants labelled as of ``as_of``, how many stored applicants have no label yet), read once
    per run from the loan tables; raises ``TrainingDataError`` when they cannot train a model."""
    from applicants.models import Applicant
    from applicants.selectors import labelled_applicants_frame

    as_of_label = as_of.isoformat() if as_of else ""
    report(1, steps.LOADING_AS_OF.text(as_of=as_of_label) if as_of_label else steps.LOADING.text())
    frame = labelled_applicants_frame(as_of=as_of)
    check_training_data(frame, as_of_label)
    # Stored applicants with no installment due by the as-of date (or no payment history) have no label: unused.
    unlabelled = Applicant.objects.count() - len(frame)
    report.note(
        f"{len(frame)} applicants, {int(frame['is_npl'].sum())} NPL ({frame['is_npl'].mean():.1%}); "
        f"profile {profile.name}: {profile.description}"
    )
    return frame, unlabelled


def conclude_training(
    run: TrainingRun,
    result: SearchResult,
    report: RunProgress,
    *,
    target: float,
    as_of: date | None,
    seed: int,
    profile: SearchProfile,
    unlabelled: int | None,
) -> ModelVersion:
    """After the search: the leaderboard on the run, champion/challenger, the artifact, the version
    registered (and activated when it wins); the run marked succeeded."""
    run.leaderboard = result.leaderboard()
    run.save(update_fields=["leaderboard"])
    for row in run.leaderboard:
        report.note(leaderboard_line(row))

    report(89, steps.COMPARING.text())
    comparison = compare_with_active_version(result, target, promotion_rule())
    report.note(comparison["reason"])

    report(93, steps.SAVING.text())
    result.model.metadata.update(
        {
            "seen_app_ids": sorted(int(i) for i in result.split.development["app_id"]),
            "training_run_id": run.pk,
            "as_of": as_of.isoformat() if as_of else None,
        }
    )
    stored = save_artifact(result.model, f"{result.winner.name}-run{run.pk}")
    try:
        version = _register_version(run, result, stored, comparison, as_of, seed, profile, unlabelled)
    except BaseException:
        resolve_artifact_path(stored.path).unlink(missing_ok=True)
        raise
    # The last step at 100 % first, then "succeeded": whoever reads a succeeded run reads it complete.
    done = steps.DONE_ACTIVATED if version.is_active else steps.DONE_INACTIVE
    report(100, done.text(name=version.name, pk=version.pk))
    run.status = TrainingRun.Status.SUCCEEDED
    run.finished_at = timezone.now()
    run.model_version = version
    run.save(update_fields=["status", "finished_at", "model_version"])
    return version


def training_failed(run: TrainingRun, exc: Exception) -> TrainingFailed:
    """Mark ``run`` failed because of ``exc`` (in words; a traceback in the log when unexpected) and
    return the :class:`TrainingFailed` to raise."""
    if isinstance(exc, TrainingFailed):
        return exc
    if isinstance(exc, TrainingDataError):
        message = str(exc)
    else:
        logger.exception("Training run %s failed", run.pk)
        message = failure_message(exc, "Training")
    mark_failed(run, message)
    return TrainingFailed(run, message)


def leaderboard_line(row: dict) -> str:
    if row.get("error"):
        return f"{row['name']}: failed ({row['error']})"
    marks = "".join([" [chosen]" if row.get("chosen") else "", " [best mean]" if row.get("best_mean") else ""])
    return (
        f"{row['name']}: CV {row['cv_metric']} {row['cv_mean']:.3f} ± {row['cv_se']:.3f} over {row['cv_folds']} folds, "
        f"precision at the recall target {row['cv_precision_at_recall']:.3f}, {row['fit_seconds']:.1f} s{marks}"
    )


def _register_version(
    run, result: SearchResult, stored, comparison, as_of, seed, profile, unlabelled: int | None = None
) -> ModelVersion:
    metrics = dict(result.test_metrics)
    metrics["out_of_fold"] = result.out_of_fold_metrics
    metrics["selection"] = selection_summary(result)
    metrics["uncertain"] = result.training_data["uncertain"]
    metrics["champion_comparison"] = comparison
    training_data = dict(result.training_data)
    training_data.update(
        {
            "as_of": as_of.isoformat() if as_of else None,
            "profile": profile.name,
            "seed": seed,
            "training_run_id": run.pk,
            "search_seconds": round(result.seconds, 2),
            "unlabelled": unlabelled,
        }
    )
    with transaction.atomic():
        version = ModelVersion.objects.create(
            name=result.model.name,
            algorithm=result.model.algorithm,
            balancing=result.model.balancing,
            hyperparameters=result.model.hyperparameters,
            threshold=result.model.threshold,
            metrics=metrics,
            training_data=training_data,
            artifact_path=stored.path,
            artifact_sha256=stored.sha256,
            artifact_size=stored.size,
            status=ModelVersion.Status.CANDIDATE,
        )
        # Monitoring records its yardstick, the development applicants' distribution (training.signals).
        model_version_registered.send(
            sender=ModelVersion,
            version=version,
            model=result.model,
            development=[result.split.development],
            development_scores=result.development_scores,
        )
        record_validation(version, result)
        if comparison["promote"]:
            _activate_locked(version)
    version.refresh_from_db()
    return version


def selection_summary(result: SearchResult) -> dict:
    """How the candidate was chosen: the cross-validated metric, the rule, the chosen and the best mean."""
    rows = {row["name"]: row for row in result.leaderboard()}
    chosen, best = rows[result.winner.name], rows[result.best_mean.name]
    rule_choice = rows[(result.rule_choice or result.winner).name]
    return {
        "metric": chosen["cv_metric"],
        "rule": "one standard error",
        "requested": result.requested,
        "rule_choice": rule_choice["name"],
        "rule_choice_cv_mean": rule_choice["cv_mean"],
        "folds": result.out_of_fold_metrics["folds"],
        "repeats": result.out_of_fold_metrics["repeats"],
        "chosen": chosen["name"],
        "chosen_cv_mean": chosen["cv_mean"],
        "chosen_cv_se": chosen["cv_se"],
        "best_mean": best["name"],
        "best_cv_mean": best["cv_mean"],
        "best_cv_se": best["cv_se"],
    }


def compare_with_active_version(result: SearchResult, target: float, rule: str) -> dict:
    """Champion/challenger: both models on the same test applicants, by a paired bootstrap.

    The active version is scored on this run's test applicants it did not see in its own
    development (its artifact records them), so neither model is judged on applicants it learned
    from. If fewer than ``MIN_UNSEEN_NPL_FOR_COMPARISON`` of those are NPL (a retrain with another
    seed, whose test applicants the active version mostly trained on), there is **no verdict**
    (``judged`` False): nothing is compared on applicants the active version learned from, and the new
    version is registered without being activated (unless the rule is ``always``).

    Rules (``settings.MODEL_PROMOTION_RULE``): ``roc_auc`` (default), ``pr_auc`` or
    ``precision_at_recall`` — the new version replaces the active one only when it is better on that
    figure by more than the noise: the paired bootstrap 95 % interval of (new − active) lies above
    zero (:func:`credit.intervals.paired_bootstrap_difference`); with ``precision_at_recall`` it
    must also not fall below the recall target where the active version reaches it. ``always`` —
    the new version always wins; ``manual`` — never automatically. With no active version (or an
    unreadable one) the new version is activated.
    """
    active = get_active_model_version()
    if active is None:
        return {"rule": rule, "promote": True, "active_version": None, "reason": "No active version: activating."}
    try:
        champion = load_artifact(active)
    except ArtifactIntegrityError as exc:
        return {
            "rule": rule,
            "promote": True,
            "active_version": active.pk,
            "reason": f"The active version {active} cannot be loaded ({exc}): activating the new version.",
        }
    test = result.split.test
    seen = set(champion.metadata.get("seen_app_ids") or [])
    unseen = test[~test["app_id"].isin(seen)]
    unseen_npl = int(unseen["is_npl"].sum())
    if len(unseen) == len(test):
        basis = f"the {len(test)} test applicants of this run, none of which the active version saw in training"
    elif unseen_npl >= MIN_UNSEEN_NPL_FOR_COMPARISON and (~unseen["is_npl"]).sum() > 0:
        basis = f"{len(unseen)} of the {len(test)} test applicants, those the active version never saw in training"
    else:
        # Judging on applicants the active version learned from would flatter it: no verdict.
        return _no_verdict(rule, active, test, unseen, unseen_npl)
    compared = unseen
    X, y = features_and_labels(compared)
    new_probability = result.model.predict_npl_probability(X)
    old_probability = champion.predict_npl_probability(X)
    challenger_metrics = _headline(evaluate(y, new_probability, result.model.threshold))
    champion_metrics = _headline(evaluate(y, old_probability, champion.threshold))
    difference = paired_bootstrap_difference(
        PROMOTION_METRICS.get(rule, "roc_auc"),
        y,
        new_probability,
        old_probability,
        new_threshold=result.model.threshold,
        old_threshold=champion.threshold,
        seed=int(result.model.metadata.get("seed", 0)),
    )
    promote, why = challenger_wins(challenger_metrics, champion_metrics, difference, target, rule)
    return {
        "rule": rule,
        "promote": promote,
        "active_version": active.pk,
        "active_version_name": active.name,
        "judged": True,
        "basis": basis,
        "applicants": len(compared),
        "challenger": challenger_metrics,
        "champion": champion_metrics,
        "difference": difference,
        "reason": f"{'Activating' if promote else 'Keeping the active version'}: {why} (on {basis}).",
    }


def _no_verdict(rule: str, active: ModelVersion, test, unseen, unseen_npl: int) -> dict:
    """Too few of this run's test applicants are unseen by the active version to judge both models on
    applicants neither has seen: the figures are not compared and the new version is not activated
    automatically (``judged`` False; the rule ``always`` still activates it)."""
    counts = {"unseen": len(unseen), "test": len(test), "unseen_npl": unseen_npl}
    promote = rule == "always"
    return {
        "rule": rule,
        "promote": promote,
        "judged": False,
        "active_version": active.pk,
        "active_version_name": active.name,
        "minimum_unseen_npl": MIN_UNSEEN_NPL_FOR_COMPARISON,
        **counts,
        "basis": f"{len(unseen)} of the {len(test)} test applicants unseen by the active version",
        "reason": (
            f"{'Activating (the promotion rule activates every new version)' if promote else 'Not activating'}: "
            f"no verdict — only {len(unseen)} of the {len(test)} test applicants were not seen by the active "
            f"version in its training ({unseen_npl} NPL, fewer than {MIN_UNSEEN_NPL_FOR_COMPARISON}), too few "
            "to judge both models on applicants neither has seen; a model admin compares and decides."
        ),
    }


def _headline(metrics: dict) -> dict:
    return {key: metrics[key] for key in ("precision", "recall", "f1", "roc_auc", "pr_auc", "threshold", "npl")}


def challenger_wins(new: dict, old: dict, difference: dict, target: float, rule: str) -> tuple[bool, str]:
    if rule == "always":
        return True, "the promotion rule activates every new version"
    if rule == "manual":
        return False, "the promotion rule leaves activation to a model admin"
    label = METRIC_LABELS[difference["metric"]]
    interval = difference["interval"] or [0.0, 0.0]
    text = (
        f"{label} new {difference['new']:.4f} vs active {difference['old']:.4f}, difference "
        f"{difference['difference']:+.4f} with a paired bootstrap 95 % interval of "
        f"{interval[0]:+.4f} to {interval[1]:+.4f}"
    )
    if rule == "precision_at_recall" and new["recall"] < target <= old["recall"]:
        return False, f"the new version's recall {new['recall']:.3f} misses the target {target:.2f}; {text}"
    if interval[0] > 0:
        return True, f"the new version is better by more than the noise — {text}"
    if interval[1] < 0:
        return False, f"the new version is worse — {text}"
    return False, f"the difference is within the noise (the interval includes zero) — {text}"


# --------------------------------------------------------------------------------------------
# Activation
# --------------------------------------------------------------------------------------------


def _check_model_admin(user, action: str) -> None:
    if user is not None and not is_model_admin(user):
        raise PermissionDenied(f"Only model admins can {action}.")


def _lock_model_versions() -> None:
    """Serialise activations: lock every version row (a handful) in a fixed order.

    Locking only the active row would not do: a second transaction waiting on it finds it no
    longer active once the first commits, and would then activate a second version.
    On SQLite the write transaction (``transaction_mode=IMMEDIATE``) serialises instead.
    """
    list(ModelVersion.objects.select_for_update().order_by("pk").values_list("pk", flat=True))


def _activate_locked(version: ModelVersion) -> ModelVersion:
    now = timezone.now()
    ModelVersion.objects.filter(is_active=True).exclude(pk=version.pk).update(
        is_active=False, status=ModelVersion.Status.RETIRED
    )
    ModelVersion.objects.filter(pk=version.pk).update(
        is_active=True, status=ModelVersion.Status.ACTIVE, activated_at=now
    )
    version.refresh_from_db()
    active_version_changed.send(sender=ModelVersion, version=version)
    return version


def _verify_artifact(version: ModelVersion) -> None:
    try:
        read_verified_bytes(version.artifact_path, version.artifact_sha256, version.artifact_size)
    except ArtifactIntegrityError as exc:
        raise ModelActivationError(f"Cannot activate {version}: {exc}") from exc


def check_activatable(version: ModelVersion) -> None:
    """Raise :class:`ModelActivationError` (in words) when ``version``'s artifact cannot be used."""
    _verify_artifact(version)


def activate_model_version(version: ModelVersion, user=None) -> ModelVersion:
    """Make ``version`` the one active version (the current one is retired), atomically.

    ``user``: who asks (must be a model admin); ``None`` for the system (automatic promotion).
    The artifact is verified first, so scoring never switches to a file it cannot load.
    """
    _check_model_admin(user, "activate model versions")
    _verify_artifact(version)
    with transaction.atomic():
        _lock_model_versions()
        version = ModelVersion.objects.get(pk=version.pk)
        if version.is_active:
            return version
        activated = _activate_locked(version)
    logger.info("Model version %s activated by %s", activated, user or "the system")
    return activated


def roll_back_model_version(user=None) -> ModelVersion:
    """Activate the version that was active before the current one; raises ModelActivationError if none."""
    _check_model_admin(user, "roll back model versions")
    with transaction.atomic():
        _lock_model_versions()
        current = get_active_model_version()
        previous = get_previous_model_version()
        if previous is None:
            raise ModelActivationError("There is no previously active model version to roll back to.")
        _verify_artifact(previous)
        activated = _activate_locked(previous)
    logger.info("Rolled back from %s to %s (by %s)", current, activated, user or "the system")
    return activated


# --------------------------------------------------------------------------------------------
# Retraining in the background
# --------------------------------------------------------------------------------------------


def request_retraining(
    user,
    profile: str = "quick",
    as_of: date | None = None,
    seed: int = 7,
    *,
    recall_target: float,
    score_scaling: ScorecardParameters | None = None,
    candidate: str | None = None,
    retry_of: TrainingRun | None = None,
) -> TrainingRun:
    """Create a queued ``TrainingRun`` and enqueue ``retrain_model`` for it; returns at once.

    ``recall_target`` and ``score_scaling`` (the active decision policy's, from the caller) are
    stored with the run's parameters, so the worker trains for the policy in force when the run was
    requested. ``candidate``: ``"CreditScorecard"`` to register the scorecard whatever the rule
    chooses (``None``: the rule's choice).

    If the broker cannot take the task, the run is marked failed with a message saying so
    (nothing is raised): the caller shows the run either way.
    """
    _check_model_admin(user, "retrain models")
    get_profile(profile)  # an unknown profile is the caller's error, before anything is created
    if candidate is not None and candidate not in REQUESTABLE_CANDIDATES:
        raise ValueError(f"Unknown candidate {candidate!r}: choose one of {', '.join(REQUESTABLE_CANDIDATES)}")
    fail_stale_jobs(TrainingRun)  # runs whose worker died show as failed next to the new one
    run = TrainingRun.objects.create(
        started_by=user,
        parameters={
            "profile": profile,
            "as_of": as_of.isoformat() if as_of else None,
            "seed": int(seed),
            "recall_target": float(recall_target),
            "score_scaling": _scaling_parameters(score_scaling),
            # Only when one is requested: a run without it registers the rule's choice.
            **({"candidate": candidate} if candidate else {}),
        },
        status=TrainingRun.Status.QUEUED,
        current_step=steps.WAITING.text(),
        retry_of=retry_of,
    )
    if transaction.get_connection().in_atomic_block:
        transaction.on_commit(lambda: enqueue(run, RETRAIN_TASK, then="retrain again"))
    else:
        enqueue(run, RETRAIN_TASK, then="retrain again")
    run.refresh_from_db()
    return run


def _scaling_parameters(scaling: ScorecardParameters | None) -> dict | None:
    """The points scaling as a run stores it (JSON)."""
    if scaling is None:
        return None
    return {"base_points": scaling.base_points, "base_odds": scaling.base_odds, "pdo": scaling.pdo}


def _scaling_from(stored: dict | None) -> ScorecardParameters | None:
    return ScorecardParameters(**stored) if stored else None


def retry_training_run(run: TrainingRun, user) -> TrainingRun:
    """Start a failed run again: a new queued run with the same parameters (``retry_of`` the failed one)."""
    run = fail_if_stale(run)
    if run.status != TrainingRun.Status.FAILED:
        raise ValueError(f"Only a failed training run can be started again; run #{run.pk} is {run.status}.")
    parameters = run.parameters or {}
    as_of = date.fromisoformat(parameters["as_of"]) if parameters.get("as_of") else None
    return request_retraining(
        user,
        parameters.get("profile", "quick"),
        as_of,
        int(parameters.get("seed", 7)),
        recall_target=float(parameters.get("recall_target", settings.TRAINING_RECALL_TARGET)),
        score_scaling=_scaling_from(parameters.get("score_scaling")),
        candidate=parameters.get("candidate"),
        retry_of=run,
    )


def run_queued_training(run_id: int, *, start: Callable[..., dict] | None = None) -> dict:
    """What the Celery task does: claim the queued run, train, and report the outcome as a dict.

    ``start(run, **arguments)``: starts the run's training elsewhere and reports (the task passes
    ``training.distributed.start_distributed_training`` to spread the search over the workers: the run
    is still running when this returns); ``None``: train in this process.

    A run that is not queued any more (already taken by another worker, or finished) is skipped,
    so a redelivered message never trains twice; a run still "running" without a heartbeat for
    ``settings.JOB_STALE_HEARTBEAT_SECONDS`` lost its worker (the broker redelivers unacknowledged tasks) and
    is marked failed.
    """
    if not claim(TrainingRun, run_id):
        run = TrainingRun.objects.filter(pk=run_id).first()
        if run is not None and is_stale(run):
            # The message came back because the worker that ran it died (acks_late): say so.
            mark_failed(run, worker_lost_message(run))
            return {"run_id": run_id, "status": "failed", "error": run.error}
        reason = "no such training run" if run is None else f"run is {run.status}, not queued"
        logger.warning("Skipping training run %s: %s", run_id, reason)
        return {"run_id": run_id, "status": "skipped", "reason": reason}
    run = TrainingRun.objects.get(pk=run_id)
    parameters = run.parameters or {}
    try:
        as_of = date.fromisoformat(parameters["as_of"]) if parameters.get("as_of") else None
        arguments = {
            "profile": parameters.get("profile", "quick"),
            "as_of": as_of,
            "seed": int(parameters.get("seed", 7)),
            "recall_target": parameters.get("recall_target"),
            "score_scaling": _scaling_from(parameters.get("score_scaling")),
            "candidate": parameters.get("candidate"),
        }
        if start is not None:
            return start(run, **arguments)
        version = train_model_version(run, **arguments)
    except TrainingFailed as exc:
        return {"run_id": run_id, "status": "failed", "error": str(exc)}
    except (ValueError, TypeError) as exc:  # bad parameters stored on the run
        mark_failed(run, f"Invalid training parameters {parameters}: {exc}")
        return {"run_id": run_id, "status": "failed", "error": run.error}
    return {"run_id": run_id, "status": "succeeded", "model_version_id": version.pk, "active": version.is_active}
