"""Reads for the model pages: which versions a user may see, a version's report, a run's progress.

Model admins see every version; analysts only the active one (:func:`visible_model_versions`,
checked again per version by :func:`can_view_model_version`). Feature importance is computed on
read from the verified artifact (the classifier's ``feature_importances_`` or ``|coef_|`` mapped to
the encoder's feature names) and kept in a small per-process cache keyed by the artifact's SHA-256,
so an artifact is unpickled once per process, and nothing is ever written back to the version.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from datetime import date

import numpy as np
from django.db.models import QuerySet
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from credit.encoder import FEATURE_LABELS
from credit.model_search import BALANCING_LABELS
from credit.steps import translated_step
from nplsite.numbers import decimal_text
from nplsite.roles import is_model_admin
from training.artifacts import ArtifactIntegrityError, load_artifact
from training.models import ModelVersion, TrainingRun
from training.selectors import get_active_model_version, get_previous_model_version, list_model_versions
from web.charts import Series, line_chart, percent_tick
from web.templatetags.npl_format import grouped

HEADLINE_METRICS = ("precision", "recall", "f1", "roc_auc", "pr_auc", "brier")
IMPORTANCE_TOP = 15
_IMPORTANCE_CACHE_SIZE = 8

# Readable, translatable names of the encoder's features (credit.encoder.FEATURE_LABELS, worded
# for the pages); a feature missing here falls back to the encoder's own English label.
FEATURE_NAMES = {
    "log_monthly_income": _("Monthly income"),
    "log_otr": _("Vehicle price (OTR)"),
    "log_financed_amount": _("Financed amount (OTR − DP)"),
    "log_monthly_installment": _("Monthly installment (financed / tenor)"),
    "num_of_dependent": _("Number of dependants"),
    "lama_bekerja": _("Years in current job"),
    "tenor": _("Tenor (months)"),
    "dp_ratio": _("Down-payment ratio (DP / OTR)"),
    "installment_to_income": _("Installment-to-income ratio"),
    "loan_to_income": _("Financed amount in months of income"),
    "log_lama_bekerja": _("Years in current job (log)"),
    "log_income_per_household_member": _("Income per household member"),
}
CATEGORY_NAMES = {
    "housing_type": _("Housing"),
    "status_pernikahan": _("Marital status"),
    "pekerjaan": _("Occupation"),
}
BALANCING_NAMES = {
    "undersampling": _("random undersampling of non-NPL"),
    "oversampling": _("random oversampling of NPL"),
    "smote": _("SMOTE synthetic NPL"),
    "class_weight": _("class weights, no resampling"),
    "none": _("none: the book as it is"),
}


def visible_model_versions(user) -> QuerySet[ModelVersion]:
    """Every version for a model admin, newest first; only the active one for anyone else."""
    versions = list_model_versions()
    return versions if is_model_admin(user) else versions.filter(is_active=True)


def can_view_model_version(user, version: ModelVersion) -> bool:
    return is_model_admin(user) or version.is_active


def headline_metrics(version: ModelVersion) -> dict:
    metrics = version.metrics or {}
    return {name: metrics[name] for name in HEADLINE_METRICS if isinstance(metrics.get(name), int | float)}


def leaderboard(version: ModelVersion) -> list[dict]:
    """Every candidate of the run that produced ``version``: cross-validated mean ± standard error
    of the selection metric, best mean first, with the chosen and the best-mean candidate marked."""
    run = version.training_runs.order_by("-created_at", "-id").first()
    rows = list(run.leaderboard) if run is not None and run.leaderboard else []
    for row in rows:
        row["balancing_label"] = BALANCING_NAMES.get(row.get("balancing"), BALANCING_LABELS.get(row.get("balancing")))
        row["chosen"] = row.get("chosen", row.get("name") == version.name)
    return rows


def test_figures(metrics: dict) -> list[dict]:
    """The headline test figures with their bootstrap 95 % intervals, as the pages list them."""
    intervals = metrics.get("intervals") or {}
    labels = {
        "recall": _("Recall"),
        "precision": _("Precision"),
        "f1": _("F1"),
        "accuracy": _("Accuracy"),
        "roc_auc": _("ROC AUC"),
        "pr_auc": _("PR AUC"),
        "brier": _("Brier score"),
    }
    figures = []
    for name, label in labels.items():
        value = metrics.get(name)
        if isinstance(value, int | float):
            interval = intervals.get(name) or [None, None]
            figures.append({"name": name, "label": label, "value": value, "low": interval[0], "high": interval[1]})
    return figures


def readable_feature_name(feature: str) -> str:
    if "=" in feature:
        attribute, value = feature.split("=", 1)
        return f"{CATEGORY_NAMES.get(attribute, attribute)}: {value}"
    name = FEATURE_NAMES.get(feature)
    return str(name) if name is not None else FEATURE_LABELS.get(feature, feature)


_importance_cache: OrderedDict[tuple, tuple] = OrderedDict()
_importance_lock = threading.Lock()


def _raw_importance(version: ModelVersion) -> tuple[str, list[tuple[str, float]], list[dict]]:
    key = (version.artifact_sha256, version.artifact_size)
    with _importance_lock:
        if key in _importance_cache:
            _importance_cache.move_to_end(key)
            return _importance_cache[key]
    model = load_artifact(version)
    classifier = model.classifier
    names = model.feature_names
    points = classifier.points_table() if hasattr(classifier, "points_table") else []
    if getattr(classifier, "feature_importances_", None) is not None:
        method, values = "feature_importances", np.asarray(classifier.feature_importances_, dtype=float)
    elif getattr(classifier, "coef_", None) is not None:
        method, values = "coefficients", np.abs(np.asarray(classifier.coef_, dtype=float)).reshape(-1)
    else:
        method, values = "none", np.array([])
    pairs = list(zip(names, values.tolist(), strict=False)) if len(values) == len(names) else []
    result = (method if pairs else "none", pairs, points)
    with _importance_lock:
        _importance_cache[key] = result
        while len(_importance_cache) > _IMPORTANCE_CACHE_SIZE:
            _importance_cache.popitem(last=False)
    return result


def feature_importance(version: ModelVersion, top: int = IMPORTANCE_TOP) -> dict:
    """The ``top`` most important encoded features as shares of the total (``method`` says how they
    were measured: ``feature_importances``, ``coefficients`` or ``none`` — e.g. k-nearest neighbours
    — and ``unavailable`` when the artifact cannot be read)."""
    try:
        method, pairs, _points = _raw_importance(version)
    except ArtifactIntegrityError as exc:
        return {"method": "unavailable", "error": str(exc), "features": []}
    total = sum(value for _, value in pairs)
    ranked = sorted(pairs, key=lambda pair: -pair[1])[:top]
    largest = ranked[0][1] if ranked else 0.0
    features = [
        {
            "feature": name,
            "label": readable_feature_name(name),
            "importance": value,
            "share": value / total if total else 0.0,
            "relative": value / largest if largest else 0.0,
        }
        for name, value in ranked
    ]
    return {"method": method, "error": "", "features": features}


def scorecard_points(version: ModelVersion) -> list[dict]:
    """The points table of a scorecard version (attribute, bin, points); empty for other models or
    when the artifact cannot be read."""
    try:
        return _raw_importance(version)[2]
    except ArtifactIntegrityError:
        return []


def evaluation_charts(metrics: dict) -> dict:
    """ROC, precision–recall and calibration charts of a version's test metrics (None when missing)."""
    charts = {"roc": None, "pr": None, "calibration": None}
    roc = metrics.get("roc_curve") or []
    if roc:
        points = [(p["fpr"], p["tpr"]) for p in roc]
        charts["roc"] = line_chart(
            [Series(points=[(0.0, 0.0), *points, (1.0, 1.0)], label=gettext("ROC curve"), css="series-primary")],
            diagonal=True,
        )
    pr = metrics.get("pr_curve") or []
    if pr:
        points = sorted(((p["recall"], p["precision"]) for p in pr), key=lambda point: point[0])
        series = [Series(points=points, label=gettext("Precision–recall curve"), css="series-primary")]
        if isinstance(metrics.get("npl_rate"), int | float):
            rate = metrics["npl_rate"]
            series.append(Series(points=[(0.0, rate), (1.0, rate)], label=gettext("NPL rate"), css="series-baseline"))
        charts["pr"] = line_chart(series)
    calibration = metrics.get("calibration") or []
    if calibration:
        highest = max(max(row["mean_predicted"], row["observed_rate"]) for row in calibration)
        top = min(1.0, max(0.1, float(np.ceil(highest * 10) / 10)))
        points = [(row["mean_predicted"], row["observed_rate"]) for row in calibration]
        charts["calibration"] = line_chart(
            [Series(points=points, label=gettext("Observed NPL rate"), css="series-primary", markers=True)],
            x_range=(0.0, top),
            y_range=(0.0, top),
            diagonal=True,
            tick_format=percent_tick,
        )
    return charts


PROMOTION_RULE_NAMES = {
    "roc_auc": _("ROC AUC"),
    "pr_auc": _("PR AUC"),
    "precision_at_recall": _("precision at the recall target"),
    "always": _("every new version is activated"),
    "manual": _("a model admin activates versions"),
}


def _iso_date(value) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except (TypeError, ValueError):
        return None


def champion_comparison_summary(comparison: dict) -> str:
    """What the champion/challenger comparison at training decided, in the reader's language.

    Worded from the comparison's figures (``training.services.compare_with_active_version``), not
    from its English ``reason``, which stays in the log."""
    if not comparison:
        return ""
    rule = comparison.get("rule")
    if comparison.get("active_version") is None:
        return gettext("No version was active when this one was trained, so it was activated.")
    version = comparison.get("active_version_name") or f"#{comparison['active_version']}"
    if comparison.get("judged") is False:
        values = {
            "version": version,
            "unseen": grouped(comparison["unseen"]),
            "test": grouped(comparison["test"]),
            "npl": grouped(comparison["unseen_npl"]),
            "minimum": comparison["minimum_unseen_npl"],
        }
        if comparison.get("promote"):
            text = gettext(
                "Activated by the promotion rule, without a verdict: only %(unseen)s of the %(test)s test "
                "applicants were not seen by %(version)s in its training (%(npl)s NPL, fewer than %(minimum)s), too "
                "few to judge both on applicants neither has seen."
            )
        else:
            text = gettext(
                "No verdict: only %(unseen)s of the %(test)s test applicants were not seen by %(version)s in its "
                "training (%(npl)s NPL, fewer than %(minimum)s), too few to judge both on applicants neither has "
                "seen. This version was registered without being activated; a model admin compares and decides."
            )
        return text % values
    difference = comparison.get("difference") or {}
    if not comparison.get("challenger") or not comparison.get("champion"):
        return gettext("The active version could not be loaded, so this one was activated.")
    if rule == "always":
        return gettext("Activated: the promotion rule activates every new version.")
    if rule == "manual":
        return gettext(
            "Not activated: the promotion rule leaves activation to a model admin; %(version)s stays active."
        ) % {"version": version}
    interval = difference.get("interval")
    if not interval:  # a comparison recorded before the paired bootstrap
        return gettext("Compared with %(version)s on the same test applicants.") % {"version": version}
    values = {
        "version": version,
        "figure": PROMOTION_RULE_NAMES.get(rule, rule),
        "new": decimal_text(difference["new"], 3),
        "old": decimal_text(difference["old"], 3),
        "low": decimal_text(interval[0], 3),
        "high": decimal_text(interval[1], 3),
    }
    if comparison.get("promote"):
        text = gettext(
            "Activated: better than %(version)s by more than the noise on the same test applicants — %(figure)s "
            "%(new)s against %(old)s, the 95 %% interval of the difference %(low)s to %(high)s is above zero."
        )
    elif interval[1] < 0:
        text = gettext(
            "Not activated: worse than %(version)s on the same test applicants — %(figure)s %(new)s against "
            "%(old)s, the 95 %% interval of the difference %(low)s to %(high)s."
        )
    else:
        text = gettext(
            "Not activated: %(version)s stays active; on the same test applicants %(figure)s %(new)s against "
            "%(old)s is within the noise (the 95 %% interval of the difference, %(low)s to %(high)s, includes zero)."
        )
    return text % values


def model_version_report(version: ModelVersion) -> dict:
    """Everything a version's page shows: metrics, confusion matrix, curves, leaderboard, importance."""
    metrics = version.metrics or {}
    confusion = metrics.get("confusion_matrix") or {}
    return {
        "metrics": metrics,
        "headline": headline_metrics(version),
        "out_of_fold": metrics.get("out_of_fold") or {},
        "selection": metrics.get("selection") or {},
        "test_figures": test_figures(metrics),
        "uncertain": bool(metrics.get("uncertain")),
        "npl_in_book": (version.training_data or {}).get("npl"),
        "comparison": metrics.get("champion_comparison") or {},
        "comparison_summary": champion_comparison_summary(metrics.get("champion_comparison") or {}),
        "confusion": confusion,
        "confusion_total": sum(confusion.values()) if confusion else 0,
        "charts": evaluation_charts(metrics),
        "calibration": metrics.get("calibration") or [],
        "leaderboard": leaderboard(version),
        "importance": feature_importance(version),
        "labelled_as_of": _iso_date(version.training_data.get("as_of")),
        "balancing_label": BALANCING_NAMES.get(version.balancing, version.balancing),
        "training_run": version.training_runs.order_by("-created_at", "-id").first(),
    }


def activation_dialog(version: ModelVersion, active: ModelVersion | None) -> dict:
    """What the activate dialog shows: the paired comparison made at training when it was against
    the version active now; otherwise both versions' own test figures side by side (measured on
    different test applicants, which the dialog says)."""
    comparison = (version.metrics or {}).get("champion_comparison") or {}
    paired = active is not None and comparison.get("active_version") == active.pk and comparison.get("challenger")
    rows = []
    if active is not None and not paired:
        theirs = {f["name"]: f for f in test_figures(active.metrics or {})}
        for figure in test_figures(version.metrics or {}):
            rows.append({"label": figure["label"], "new": figure, "active": theirs.get(figure["name"])})
    return {
        "version": version,
        "active": active,
        "comparison": comparison if paired else {},
        "comparison_summary": champion_comparison_summary(comparison) if paired else "",
        "side_by_side": rows,
    }


def rollback_target() -> tuple[ModelVersion | None, ModelVersion | None]:
    """(the active version, the version a roll-back would activate)."""
    return get_active_model_version(), get_previous_model_version()


def training_run_status(run: TrainingRun) -> dict:
    """A run's progress as the run page's JSON status endpoint answers it."""
    finished = run.status in (TrainingRun.Status.SUCCEEDED, TrainingRun.Status.FAILED)
    return {
        "id": run.pk,
        "status": run.status,
        "status_label": str(run.get_status_display()),
        "progress": 100 if run.status == TrainingRun.Status.SUCCEEDED else run.progress,
        "current_step": translated_step(run.current_step, gettext),
        "finished": finished,
        "error": run.error,
        "model_version_id": run.model_version_id,
        "log_tail": run.log.splitlines()[-12:],
    }


def default_as_of() -> date | None:
    """The labelling date training uses when none is given: the latest date in the installments."""
    from applicants.selectors import latest_installment_date

    return latest_installment_date()
