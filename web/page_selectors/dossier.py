"""The model's dossier as pages, the PDF and the XLSX show it: every figure a credit validator signs.

:func:`version_dossier` gathers, for one model version, in the reader's language:

- the **data summary** (the book, its as-of date, the NPL definition, applicants per split, exclusions)
  and the **search** (candidates, folds, the one-standard-error choice or the requested candidate);
- **discrimination** (ROC AUC and Gini with their bootstrap 95 % intervals, KS with the credit score at
  which it is reached), the **gains table** by band, **calibration** by band and by risk grade with
  the back-test's binomial intervals, the **characteristic analysis**, and the **scorecard** beside
  the model (its points table and discrimination);
- **champion/challenger** at training, the **active decision policy's strategy point** on the test
  applicants, and the **monitoring** reports written since the version was activated.

The figures that depend on the model alone come from the version's validation record
(``training.validation``); credit scores, grades and the strategy point are computed from its stored
test predictions under the decision policy in force when the dossier is read (its id is shown), since
a policy change re-scales them. A version without a record (trained before records were kept) is
rebuilt where that is exact, otherwise the sections say it was not recorded and to retrain.
"""

from __future__ import annotations

import math
from dataclasses import replace
from datetime import date

import numpy as np
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from applicants.attributes import label as attribute_label
from credit import scorecard as scoring_rules
from credit.attributes import ATTRIBUTE_FIELDS
from credit.scorecard import KnockoutRules
from credit.strategy import ScoredApplicants, point
from credit.validation import CATEGORY, COUNT, RUPIAH, calibration_rows
from monitoring.alerts import alert_message
from monitoring.selectors import reports_of
from nplsite.numbers import decimal_text
from scoring.policies import current_policy
from training.models import ModelVersion
from training.validation import (
    APPLICANTS_CHANGED,
    ARTIFACT_UNREADABLE,
    NO_TRAINING_RECORD,
    REBUILT,
    Validation,
    version_validation,
)
from web.charts import Bar, ReferenceLine, Series, bar_chart, line_chart, nice_maximum, percent_tick
from web.page_selectors.monitoring import grade_chart
from web.page_selectors.training import (
    BALANCING_NAMES,
    FEATURE_NAMES,
    champion_comparison_summary,
    leaderboard,
    readable_feature_name,
    test_figures,
)
from web.templatetags.npl_format import grouped, percent, rupiah

# The derived characteristics (credit.validation.characteristic_values) and the encoder feature
# whose page label they share.
DERIVED_LABELS = {
    "financed_amount": FEATURE_NAMES["log_financed_amount"],
    "monthly_installment": FEATURE_NAMES["log_monthly_installment"],
    "dp_ratio": FEATURE_NAMES["dp_ratio"],
    "installment_to_income": FEATURE_NAMES["installment_to_income"],
    "loan_to_income": FEATURE_NAMES["loan_to_income"],
    "income_per_household_member": FEATURE_NAMES["log_income_per_household_member"],
}
# Ratios shown as percentages (shares); loan_to_income is a number of months.
PERCENT_RATIOS = ("dp_ratio", "installment_to_income")
IV_STRENGTHS = {
    "not predictive": _("not predictive"),
    "weak": _("weak"),
    "medium": _("medium"),
    "strong": _("strong"),
    "suspicious": _("suspiciously strong"),
}
SCORECARD_SOURCES = {
    "chosen": _("This version is the scorecard."),
    "candidate": _(
        "The search's scorecard candidate at its best setting, refitted on every development applicant beside "
        "the registered model."
    ),
    "default": _(
        "The search profile did not include the scorecard, so it was fitted with its default settings on every "
        "development applicant beside the registered model."
    ),
}
UNAVAILABLE_REASONS = {
    NO_TRAINING_RECORD: _("its model file does not list the applicants it was trained on"),
    APPLICANTS_CHANGED: _("the labelled applicants stored now no longer give exactly its test applicants"),
    ARTIFACT_UNREADABLE: _("its model file cannot be read"),
}
LIGHTS = {"green": _("green"), "yellow": _("yellow"), "red": _("red")}


def characteristic_label(name: str) -> str:
    if name in ATTRIBUTE_FIELDS:
        text = str(attribute_label(name))
        return text[:1].upper() + text[1:]
    return str(DERIVED_LABELS.get(name, name))


def _value_text(name: str, unit: str, value: float) -> str:
    if unit == RUPIAH:
        return rupiah(value)
    if name in PERCENT_RATIOS:
        return percent(value)
    return decimal_text(value, 2)


def bin_text(name: str, unit: str, row: dict) -> str:
    """A bin in words, in the reader's language (``[low, high)`` intervals, categories, missing)."""
    if row.get("missing"):
        return gettext("missing")
    if row.get("unseen"):
        return gettext("categories not seen in development")
    if unit == CATEGORY:
        return ", ".join(row["categories"])
    low, high = row.get("low"), row.get("high")
    if unit == COUNT:  # whole numbers: [1.5, 3.5) holds 2 and 3
        first = None if low is None else math.ceil(low)
        last = None if high is None else math.ceil(high) - 1
        if first is None and last is None:
            return gettext("every value")
        if first is None:
            return gettext("%(high)s or fewer") % {"high": grouped(last)}
        if last is None:
            return gettext("%(low)s or more") % {"low": grouped(first)}
        if first == last:
            return grouped(first)
        return f"{grouped(first)}–{grouped(last)}"
    if low is None and high is None:
        return gettext("every value")
    if low is None:
        return gettext("under %(high)s") % {"high": _value_text(name, unit, high)}
    if high is None:
        return gettext("%(low)s or more") % {"low": _value_text(name, unit, low)}
    return gettext("%(low)s to under %(high)s") % {
        "low": _value_text(name, unit, low),
        "high": _value_text(name, unit, high),
    }


def characteristics(figures: dict) -> list[dict]:
    rows = []
    for number, item in enumerate(figures.get("characteristics") or [], start=1):
        rows.append(
            {
                "number": number,
                "name": item["name"],
                "label": characteristic_label(item["name"]),
                "iv": item["iv"],
                "test_iv": item.get("test_iv"),
                "strength": str(IV_STRENGTHS.get(item.get("strength"), item.get("strength") or "—")),
                "bins": [{**row, "text": bin_text(item["name"], item["unit"], row)} for row in item["bins"]],
            }
        )
    return rows


def iv_chart(rows: list[dict]) -> dict | None:
    if not rows:
        return None
    bars = [
        Bar(
            value=min(row["iv"], 1.0),
            label=str(row["number"]),
            title=f"{row['number']}. {row['label']}: {decimal_text(row['iv'], 3)}",
            css="bar-period",
        )
        for row in rows
    ]
    top = nice_maximum(max(bar.value for bar in bars) or 0.1)
    return bar_chart(
        bars,
        y_max=min(1.0, top),
        y_tick_format=lambda value: decimal_text(value, 2),
        max_x_labels=len(bars),
        reference_lines=[ReferenceLine(0.1, gettext("weak below %(value)s") % {"value": decimal_text(0.1, 1)})],
    )


def _score_range(parameters, low_probability: float, high_probability: float) -> tuple[int, int]:
    scores = scoring_rules.credit_score(np.array([high_probability, low_probability]), parameters)
    return int(scores[0]), int(scores[1])


def gains_rows(figures: dict, parameters) -> list[dict]:
    rows = []
    for row in (figures.get("gains") or {}).get("bands") or []:
        lowest, highest = _score_range(parameters, row["min_probability"], row["max_probability"])
        rows.append({**row, "min_score": lowest, "max_score": highest})
    return rows


def gains_chart(rows: list[dict]) -> dict | None:
    if not rows:
        return None
    caught = [(0.0, 0.0), *((row["cumulative_applicants_share"], row["cumulative_npl_share"] or 0.0) for row in rows)]
    others = [
        (0.0, 0.0),
        *((row["cumulative_applicants_share"], row["cumulative_non_npl_share"] or 0.0) for row in rows),
    ]
    return line_chart(
        [
            Series(points=caught, label=gettext("Share of NPL applicants"), css="series-primary", markers=True),
            Series(points=others, label=gettext("Share of non-NPL applicants"), css="series-baseline", markers=True),
        ],
        diagonal=True,
        tick_format=percent_tick,
    )


def calibration_chart(rows: list[dict], label_of) -> dict | None:
    if not rows:
        return None
    return grade_chart(
        [
            {"grade": label_of(row), "expected_rate": row["expected_rate"], "observed_rate": row["observed_rate"]}
            | {"light": row["light"]}
            for row in rows
        ]
    )


def _with_lights(rows: list[dict]) -> list[dict]:
    return [{**row, "light_label": str(LIGHTS.get(row["light"], row["light"]))} for row in rows]


def grade_calibration(validation: Validation, parameters) -> list[dict]:
    test = validation.test
    probability = test["probability"].to_numpy(dtype=float)
    grades = scoring_rules.risk_grade(scoring_rules.credit_score(probability, parameters), parameters)
    return _with_lights(calibration_rows(test["is_npl"], probability, grades, order=parameters.grade_bands.all_grades))


def strategy_point(version: ModelVersion, validation: Validation, parameters):
    test = validation.test
    probability = test["probability"].to_numpy(dtype=float)
    if test["monthly_income"].isna().any() or test["tenor"].isna().any():
        parameters = replace(parameters, rules=KnockoutRules())  # a record without them: the rules cannot be read
    applicants = ScoredApplicants(
        model_version=version,
        app_ids=test["app_id"].to_numpy(np.int64),
        otr=test["otr"].to_numpy(np.int64),
        dp=test["dp"].to_numpy(np.int64),
        monthly_income=test["monthly_income"].fillna(0).to_numpy(np.int64),
        tenor=test["tenor"].fillna(0).to_numpy(np.int64),
        is_npl_outcome=test["is_npl"].to_numpy(bool),
        npl_probability=probability,
        flagged_npl=probability >= version.threshold,
        exact=True,
        as_of=None,
    )
    return point(applicants, parameters)


def discrimination(version: ModelVersion, validation: Validation, parameters) -> dict:
    metrics = version.metrics or {}
    intervals = metrics.get("intervals") or {}
    auc, auc_interval = metrics.get("roc_auc"), intervals.get("roc_auc")
    ks = (validation.figures or {}).get("ks") or {}
    ks_score = None
    if ks.get("probability") is not None:
        ks_score = int(scoring_rules.credit_score(np.array([ks["probability"]]), parameters)[0])
    return {
        "roc_auc": auc,
        "roc_auc_interval": auc_interval,
        "gini": None if auc is None else 2 * auc - 1,
        "gini_interval": None if not auc_interval else [2 * auc_interval[0] - 1, 2 * auc_interval[1] - 1],
        "ks": ks.get("ks"),
        "ks_probability": ks.get("probability"),
        "ks_score": ks_score,
    }


def scorecard_section(validation: Validation, model_discrimination: dict) -> dict:
    stored = validation.scorecard or {}
    figures = (validation.figures or {}).get("scorecard") or {}
    points = [
        {
            **row,
            "attribute": (
                characteristic_label(row["feature"])
                if row["feature"] in ATTRIBUTE_FIELDS
                else readable_feature_name(row["feature"])
            ),
        }
        for row in stored.get("points_table") or []
    ]
    return {
        "recorded": bool(points),
        "source": stored.get("source"),
        "source_text": str(SCORECARD_SOURCES.get(stored.get("source"), "")),
        "hyperparameters": stored.get("hyperparameters") or {},
        "cv_mean": stored.get("cv_mean"),
        "cv_se": stored.get("cv_se"),
        "points_table": points,
        "comparison": [
            {"label": label, "model": model_discrimination[name], "scorecard": figures.get(name)}
            for name, label in (("roc_auc", gettext("ROC AUC")), ("gini", gettext("Gini")), ("ks", gettext("KS")))
        ]
        if figures
        else [],
        "is_the_model": stored.get("source") == "chosen",
    }


def monitoring_since_activation(version: ModelVersion) -> dict:
    if version.activated_at is None:
        return {"activated": None, "reports": [], "latest_alerts": []}
    activated = timezone.localdate(version.activated_at)
    reports = list(reports_of(version).filter(channel="", period_end__gte=activated)[:12])
    latest = reports[0] if reports else None
    return {
        "activated": activated,
        "reports": [
            {
                "period_start": report.period_start,
                "period_end": report.period_end,
                "status": report.status,
                "status_label": str(report.get_status_display()),
                "alerts": len(report.alerts or []),
            }
            for report in reports
        ],
        "latest_alerts": [alert_message(alert) for alert in (latest.alerts or [])] if latest else [],
    }


def data_summary(version: ModelVersion) -> dict:
    data = version.training_data or {}
    as_of = data.get("as_of")
    return {
        "as_of": date.fromisoformat(as_of) if as_of else None,
        "applicants": data.get("applicants"),
        "npl": data.get("npl"),
        "npl_rate": data.get("npl_rate"),
        "development": data.get("development") or {},
        "test": data.get("test") or {},
        "split_method": data.get("method"),
        "unlabelled": data.get("unlabelled"),
        "profile": data.get("profile"),
        "seed": data.get("seed"),
    }


def search_summary(version: ModelVersion) -> dict:
    selection = (version.metrics or {}).get("selection") or {}
    rows = leaderboard(version)
    return {
        "selection": selection,
        "candidates": len(rows),
        "failed": sum(1 for row in rows if row.get("error")),
        "floor": (
            None
            if selection.get("best_cv_mean") is None or selection.get("best_cv_se") is None
            else selection["best_cv_mean"] - selection["best_cv_se"]
        ),
        "requested": selection.get("requested"),
        "leaderboard": rows,
    }


def version_dossier(version: ModelVersion) -> dict:
    """Everything the dossier shows of ``version`` (see the module docstring)."""
    policy = current_policy()
    parameters = policy.parameters
    validation = version_validation(version)
    metrics = version.metrics or {}
    comparison = metrics.get("champion_comparison") or {}
    dossier = {
        "version": version,
        "generated_at": timezone.now(),
        "policy_id": policy.id,
        "policy": parameters,
        "available": validation.available,
        "rebuilt": validation.status == REBUILT,
        "recorded_at": validation.recorded_at,
        "unavailable_reason": str(UNAVAILABLE_REASONS.get(validation.reason, validation.reason)),
        "data": data_summary(version),
        "search": search_summary(version),
        "test_figures": test_figures(metrics),
        "metrics": metrics,
        "balancing_label": BALANCING_NAMES.get(version.balancing, version.balancing),
        "comparison": comparison,
        "comparison_summary": champion_comparison_summary(comparison),
        "monitoring": monitoring_since_activation(version),
    }
    model_discrimination = discrimination(version, validation, parameters)
    dossier["discrimination"] = model_discrimination
    dossier["scorecard"] = scorecard_section(validation, model_discrimination)
    if not validation.available:
        return dossier
    figures = validation.figures or {}
    gains = gains_rows(figures, parameters)
    by_band = _with_lights(figures.get("calibration_by_band") or [])
    by_grade = grade_calibration(validation, parameters)
    analysis = characteristics(figures)
    dossier.update(
        {
            "gains": gains,
            "gains_iv": (figures.get("gains") or {}).get("iv"),
            "calibration_by_band": by_band,
            "calibration_by_grade": by_grade,
            "characteristics": analysis,
            "strategy": strategy_point(version, validation, parameters),
            "charts": {
                "gains": gains_chart(gains),
                "calibration_by_band": calibration_chart(by_band, lambda row: str(row["group"])),
                "calibration_by_grade": calibration_chart(by_grade, lambda row: str(row["group"])),
                "iv": iv_chart(analysis),
            },
            "test_applicants": len(validation.test),
            "test_predictions": validation.test,
        }
    )
    return dossier
