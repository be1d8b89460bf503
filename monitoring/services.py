"""Writes for monitoring: a version's reference distribution, and monitoring reports.

- :func:`record_reference_distribution` bins the development applicants of a new version (on
  ``training.signals.model_version_registered``, connected in ``monitoring.apps``); :func:`reference_distribution`
  finds it, or builds it for a version trained before monitoring existed from the training
  applicants its artifact records (``seen_app_ids``), or says why it cannot.
- :func:`compute_monitoring_figures` measures one version over one period: population stability of
  the period's predictions against the reference (``credit.stability``), counted by PostgreSQL
  into the reference's bins (SQLite: read and counted chunk by chunk), and the back-test of every
  earlier prediction whose outcome window has passed (``credit.backtest``), counted by the database.
  It returns the figures, the alerts and the status (``ok`` / ``watch`` / ``alert``: the most
  severe alert).
- :func:`write_monitoring_report` stores that as the one report of (version, period, channel):
  writing the same period again updates it. :func:`write_scheduled_reports` is what the periodic
  Celery task does.
"""

from __future__ import annotations

import logging
from datetime import date, timedelta

import numpy as np
import pandas as pd
from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from applicants.attributes import ATTRIBUTE_FIELDS, CATEGORY_FIELDS
from applicants.models import Applicant
from credit import backtest, stability
from monitoring.daily_counts import stability_counts
from monitoring.models import MonitoringReport, ReferenceDistribution
from monitoring.selectors import (
    backtest_groups,
    counts_in_database,
    period_applications,
    period_chunks,
)
from scoring.models import Prediction
from scoring.policies import current_policy
from scoring.selectors import predictions
from training.artifacts import ArtifactIntegrityError, load_artifact
from training.models import ModelVersion

logger = logging.getLogger(__name__)

APPLICANTS_PER_READ = 20_000
STATUS_ORDER = {
    MonitoringReport.Status.NOT_JUDGED: 0,
    MonitoringReport.Status.OK: 0,
    MonitoringReport.Status.WATCH: 1,
    MonitoringReport.Status.ALERT: 2,
}


class NoReferenceDistribution(Exception):
    """A version's training-time distribution is neither stored nor recomputable; the message says why."""


# --------------------------------------------------------------------------------------------
# Reference distribution
# --------------------------------------------------------------------------------------------


def reference_figures(model, applicants: pd.DataFrame, scores=None) -> dict:
    """The binned distribution of every monitored feature and of the model's NPL probability:
    ``scores`` (the applicants' out-of-fold probabilities, as training gives them) or else the
    model's own probability of them."""
    columns = stability.feature_columns(applicants)
    if scores is None:
        scores = model.predict_npl_probability(applicants[list(ATTRIBUTE_FIELDS)])
    return {
        "applicants": len(applicants),
        "attributes": {
            name: stability.reference_of(values, name in CATEGORY_FIELDS) for name, values in columns.items()
        },
        "score": stability.number_reference(np.asarray(scores, dtype=np.float64)),
    }


def record_reference_distribution(version: ModelVersion, model, development: list[pd.DataFrame], scores=None) -> None:
    """Store the distribution of ``version``'s development applicants (frames with the nine attributes,
    the development split: everything but the held-out test applicants) as its monitoring reference;
    the score's from ``scores``, their out-of-fold probabilities, when training gives them: the
    refitted model's own probabilities of the applicants it was fitted on are in-sample, and a forest
    or boosted winner would show drift on a stable population against them."""
    applicants = pd.concat([frame[list(ATTRIBUTE_FIELDS)] for frame in development], ignore_index=True)
    figures = reference_figures(model, applicants, scores)
    store_reference_distribution(version, figures, ReferenceDistribution.Source.TRAINING)


def store_reference_distribution(version: ModelVersion, figures: dict, source: str) -> ReferenceDistribution:
    """Store (or replace) ``version``'s reference: ``figures`` as :func:`reference_figures` returns them."""
    reference, _ = ReferenceDistribution.objects.update_or_create(
        model_version=version,
        defaults={
            "applicants": figures["applicants"],
            "attributes": figures["attributes"],
            "score": figures["score"],
            "source": source,
        },
    )
    return reference


def reference_distribution(version: ModelVersion) -> ReferenceDistribution:
    """The version's reference; built from its recorded training applicants if it has none yet.

    Raises :class:`NoReferenceDistribution` saying why when neither is possible.
    """
    stored = ReferenceDistribution.objects.filter(model_version=version).first()
    if stored is not None:
        return stored
    try:
        model = load_artifact(version)
    except ArtifactIntegrityError as exc:
        raise NoReferenceDistribution(f"the model artifact cannot be read ({exc})") from exc
    app_ids = model.metadata.get("seen_app_ids") or []
    if not app_ids:
        raise NoReferenceDistribution("the model artifact records no training applicants")
    parts = []
    for start in range(0, len(app_ids), APPLICANTS_PER_READ):
        chunk = app_ids[start : start + APPLICANTS_PER_READ]
        rows = Applicant.objects.filter(app_id__in=chunk).order_by().values_list(*ATTRIBUTE_FIELDS)
        parts.append(pd.DataFrame(list(rows), columns=list(ATTRIBUTE_FIELDS)))
    applicants = pd.concat(parts, ignore_index=True)
    if len(applicants) < len(app_ids):
        raise NoReferenceDistribution(
            f"only {len(applicants)} of the {len(app_ids)} training applicants the artifact records are stored"
        )
    return store_reference_distribution(
        version, reference_figures(model, applicants), ReferenceDistribution.Source.RECORDED_APPLICANTS
    )


# --------------------------------------------------------------------------------------------
# Figures
# --------------------------------------------------------------------------------------------


def outcome_window_months() -> int:
    return int(settings.MONITORING_OUTCOME_WINDOW_MONTHS)


def stability_figures(
    version: ModelVersion, start: date, end: date, channel: str | None, *, in_database: bool | None = None
) -> dict:
    """PSI and out-of-range share per monitored feature and for the score, over the period's predictions.

    ``in_database``: count the bins in the database (PostgreSQL only; the default there: closed days
    from their stored counts, ``monitoring.daily_counts``) or read the rows chunk by chunk and count
    them in Python (the default on SQLite). Both give the same figures.
    """
    if in_database is None:
        in_database = counts_in_database()
    try:
        reference = reference_distribution(version)
    except NoReferenceDistribution as exc:
        count = period_applications(version, start, end, channel).count()
        return {"reference": None, "no_reference_reason": str(exc), "predictions": count}
    # A feature the reference has but the product no longer computes (or the reverse) is left out.
    counters = {
        name: stability.StabilityCounter(reference.attributes[name])
        for name in stability.MONITORED_FEATURES
        if name in reference.attributes
    }
    score = stability.StabilityCounter(reference.score)
    if in_database:
        references = {name: counter.reference for name, counter in counters.items()} | {
            stability.SCORE: score.reference
        }
        count, counted = stability_counts(version, start, end, channel, references)
        for name, counter in [*counters.items(), (stability.SCORE, score)]:
            made = counted[name]
            counter.add_counts(made["counts"], missing=made["missing"], outside=made["outside"], value_sum=made["sum"])
    else:
        count = 0
        for attributes, probabilities in period_chunks(version, start, end, channel):
            count += len(probabilities)
            columns = stability.feature_columns(attributes)
            for name, counter in counters.items():
                counter.add(columns[name])
            score.add(probabilities)
    return {
        "reference": {
            "applicants": reference.applicants,
            "source": reference.source,
            "computed_at": reference.created_at.isoformat(),
        },
        "predictions": count,
        "features": {name: counter.result() for name, counter in counters.items()},
        "score": score.result(),
    }


def compute_monitoring_figures(
    version: ModelVersion, start: date, end: date, channel: str | None = None
) -> tuple[dict, list[dict], str]:
    """(figures, alerts, status) of ``version`` over the period ``start``–``end`` (whole days)."""
    figures = {
        "period": {"start": start.isoformat(), "end": end.isoformat(), "channel": channel or ""},
        "thresholds": {
            "psi_watch": stability.PSI_WATCH,
            "psi_shifted": stability.PSI_SHIFTED,
            "outside_watch": settings.MONITORING_OUTSIDE_WATCH,
            "outside_alert": settings.MONITORING_OUTSIDE_ALERT,
            "min_predictions": settings.MONITORING_MIN_PREDICTIONS,
            "recall_target": current_policy().recall_target,
            "version_threshold": version.threshold,
        },
        "stability": stability_figures(version, start, end, channel),
        "backtest": backtest.backtest_figures(
            backtest_groups(version, end),
            window_months=outcome_window_months(),
            grades=current_policy().parameters.grade_bands.all_grades,
        ),
    }
    alerts = stability_alerts(figures["stability"]) + backtest_alerts(figures["backtest"])
    # "OK" only about a period that could be judged: enough predictions against a reference. Otherwise,
    # without an alert (a back-test's can still come), the period is "not judged" — never "OK" about nothing.
    judged = stability_judged(figures["stability"])
    figures["judged"] = judged
    status = MonitoringReport.Status.OK if judged else MonitoringReport.Status.NOT_JUDGED
    for alert in alerts:
        if STATUS_ORDER[alert["level"]] > STATUS_ORDER[status]:
            status = MonitoringReport.Status(alert["level"])
    return figures, alerts, str(status)


def _level_of_psi(psi: float) -> str | None:
    reading = stability.psi_level(psi)
    return {"shifted": MonitoringReport.Status.ALERT, "watch": MonitoringReport.Status.WATCH}.get(reading)


def stability_judged(figures: dict) -> bool:
    """Whether a period's stability can be judged: a reference distribution and at least
    ``MONITORING_MIN_PREDICTIONS`` predictions (fewer: a shift cannot be told from noise)."""
    return figures["reference"] is not None and figures["predictions"] >= settings.MONITORING_MIN_PREDICTIONS


def stability_alerts(figures: dict) -> list[dict]:
    if figures["reference"] is None:
        return [{"level": "watch", "kind": "no_reference", "reason": figures["no_reference_reason"]}]
    if figures["predictions"] < settings.MONITORING_MIN_PREDICTIONS:
        return []  # too few to tell a shift from noise; the page says so
    alerts = []
    for name, result in [*figures["features"].items(), (stability.SCORE, figures["score"])]:
        if result["psi"] is None:
            continue
        level = _level_of_psi(result["psi"])
        if level:
            alerts.append(
                {"level": str(level), "kind": "psi", "feature": name, "psi": result["psi"], "moved": result["moved"]}
            )
        outside = result["outside_share"]
        if outside > settings.MONITORING_OUTSIDE_WATCH:
            level = "alert" if outside > settings.MONITORING_OUTSIDE_ALERT else "watch"
            alerts.append({"level": level, "kind": "outside", "feature": name, "share": outside})
    return sorted(alerts, key=lambda alert: (-STATUS_ORDER[alert["level"]], -alert.get("psi", 0.0)))


def backtest_alerts(figures: dict) -> list[dict]:
    alerts = []
    for row in figures["grades"]:
        if row["light"] == backtest.GREEN:
            continue
        alerts.append(
            {
                "level": "alert" if row["light"] == backtest.RED else "watch",
                "kind": "grade",
                "grade": row["grade"],
                "light": row["light"],
                **{key: row[key] for key in ("n", "npl", "expected_rate", "observed_rate", "p_value")},
            }
        )
    overall = figures["overall"]
    target = current_policy().recall_target
    if overall["npl"] >= settings.MONITORING_MIN_NPL_FOR_RECALL and overall["recall"] < target:
        alerts.append(
            {
                "level": "alert" if overall["recall_upper_bound"] < target else "watch",
                "kind": "recall",
                "recall": overall["recall"],
                "upper_bound": overall["recall_upper_bound"],
                "target": target,
                "npl": overall["npl"],
            }
        )
    return alerts


# --------------------------------------------------------------------------------------------
# Reports
# --------------------------------------------------------------------------------------------


def write_monitoring_report(version: ModelVersion, start: date, end: date, channel: str = "") -> MonitoringReport:
    """Compute and store the report of (version, period, channel); the same period again updates it."""
    if start > end:
        raise ValueError(f"the period starts ({start}) after it ends ({end})")
    if channel and channel not in Prediction.Channel.values:
        raise ValueError(f"unknown channel {channel!r}; expected one of {', '.join(Prediction.Channel.values)}")
    figures, alerts, status = compute_monitoring_figures(version, start, end, channel or None)
    values = {"status": status, "figures": figures, "alerts": alerts}
    key = {"model_version": version, "period_start": start, "period_end": end, "channel": channel}
    try:
        with transaction.atomic():
            report, _ = MonitoringReport.objects.update_or_create(**key, defaults=values)
    except IntegrityError:  # written at the same moment by another process: update that one
        with transaction.atomic():
            report = MonitoringReport.objects.select_for_update().get(**key)
            for field, value in values.items():
                setattr(report, field, value)
            report.save()
    logger.info("Monitoring report %s written: %s, %d alert(s)", report.pk, status, len(alerts))
    return report


def scheduled_period(today: date | None = None) -> tuple[date, date]:
    """The period the periodic task reports: the ``MONITORING_PERIOD_DAYS`` days ending today."""
    today = today or timezone.localdate()
    return today - timedelta(days=int(settings.MONITORING_PERIOD_DAYS) - 1), today


def versions_to_monitor(start: date, end: date) -> list[ModelVersion]:
    """The active version, and every other version that scored someone in the period."""
    scored = period_predictions_versions(start, end)
    return list(ModelVersion.objects.filter(Q(is_active=True) | Q(pk__in=scored)).order_by("pk"))


def period_predictions_versions(start: date, end: date) -> list[int]:
    return list(
        predictions(created_from=start, created_to=end).order_by().values_list("model_version_id", flat=True).distinct()
    )


def write_scheduled_reports(today: date | None = None) -> list[MonitoringReport]:
    """What the periodic task does: the report of the scheduled period for every version to monitor."""
    start, end = scheduled_period(today)
    return [write_monitoring_report(version, start, end) for version in versions_to_monitor(start, end)]
