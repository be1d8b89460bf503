"""What the monitoring page shows: a report's figures in words, tables and charts."""

from __future__ import annotations

from django.utils.translation import gettext

from credit.stability import PSI_SHIFTED, PSI_WATCH, SCORE, UNSEEN
from monitoring.alerts import alert_message, feature_label, figure, percent
from monitoring.models import MonitoringReport
from monitoring.selectors import active_version_monitoring
from nplsite.numbers import decimal_text
from training.models import ModelVersion
from web.charts import Bar, ReferenceLine, bar_chart, nice_maximum
from web.templatetags.npl_format import month


def _two_decimals(value: float) -> str:
    return decimal_text(value, 2)


def _percent_tick(value: float) -> str:
    return f"{round(value * 100):d}%"


def stability_rows(stability: dict) -> list[dict]:
    if not stability.get("reference"):
        return []
    rows = []
    for name, result in [*stability["features"].items(), (SCORE, stability["score"])]:
        moved = result.get("moved") or {}
        if "category" in moved:
            category = (
                gettext("categories never seen in training") if moved["category"] == UNSEEN else moved["category"]
            )
            change = gettext("%(category)s: %(before)s → %(after)s") % {
                "category": category,
                "before": percent(moved["training_share"]),
                "after": percent(moved["period_share"]),
            }
        elif moved:
            change = gettext("mean %(before)s → %(after)s") % {
                "before": figure(name, moved["training_mean"]),
                "after": figure(name, moved["period_mean"]),
            }
        else:
            change = "—"
        rows.append(
            {
                "name": name,
                "label": feature_label(name),
                "psi": result["psi"],
                "level": result["level"],
                "outside_share": result.get("outside_share"),
                "change": change,
            }
        )
    return rows


def stability_chart(rows: list[dict]) -> dict | None:
    """The stability index of each input, named under its bar, with the watch line (amber) and the
    shifted line (red). The axis stops at 1.0 at most, so that both lines stay readable; a larger
    index is cut at the top with a break mark and its value written on the bar."""
    measured = [row for row in rows if row["psi"] is not None]
    if not measured:
        return None
    bars = [
        Bar(
            value=row["psi"],
            label=row["label"],
            title=f"{row['label']}: PSI {decimal_text(row['psi'], 3)}",
            css=f"bar-level-{row['level']}",
            value_label=decimal_text(row["psi"], 2),
        )
        for row in measured
    ]
    top = min(1.0, nice_maximum(max(0.3, max(row["psi"] for row in measured))))
    return bar_chart(
        bars,
        y_max=top,
        y_tick_format=_two_decimals,
        rotate_x_labels=True,
        reference_lines=[
            ReferenceLine(PSI_WATCH, decimal_text(PSI_WATCH, 2), css="chart-reference-watch"),
            ReferenceLine(PSI_SHIFTED, decimal_text(PSI_SHIFTED, 2)),
        ],
    )


def score_distribution_chart(score: dict) -> dict | None:
    """Training and period shares of each score bin (the training deciles of the NPL probability), side by side."""
    bins = score.get("bins") if score else None
    if not bins:
        return None
    bars = []
    for index, (training, period) in enumerate(zip(bins["training"], bins["period"], strict=True)):
        bars.append(
            Bar(
                value=training,
                label=str(index + 1),
                title=gettext("Tenth %(n)s at training: %(share)s") % {"n": index + 1, "share": percent(training)},
                css="bar-training",
            )
        )
        bars.append(
            Bar(
                value=period,
                title=gettext("Tenth %(n)s in the period: %(share)s") % {"n": index + 1, "share": percent(period)},
                css="bar-period",
            )
        )
    top = min(1.0, nice_maximum(max(bar.value for bar in bars) or 0.1))
    return bar_chart(bars, y_max=top, y_tick_format=_percent_tick, max_x_labels=len(bars))


def grade_chart(grades: list[dict]) -> dict | None:
    if not grades:
        return None
    bars = []
    for row in grades:
        bars.append(
            Bar(
                value=row["expected_rate"] or 0.0,
                label=row["grade"],
                title=gettext("Grade %(grade)s: expected %(rate)s")
                % {"grade": row["grade"], "rate": percent(row["expected_rate"])},
                css="bar-expected",
            )
        )
        bars.append(
            Bar(
                value=row["observed_rate"] or 0.0,
                label="",
                title=gettext("Grade %(grade)s: observed %(rate)s")
                % {"grade": row["grade"], "rate": percent(row["observed_rate"])},
                css=f"bar-light-{row['light']}",
            )
        )
    top = nice_maximum(max(bar.value for bar in bars) or 0.1)
    return bar_chart(bars, y_max=min(1.0, top), y_tick_format=_percent_tick, max_x_labels=len(bars))


def vintage_chart(vintages: list[dict], test_auc: float | None) -> dict | None:
    measured = [row for row in vintages if row["roc_auc"] is not None]
    if not measured:
        return None
    bars = [
        Bar(
            value=row["roc_auc"],
            label=month(row["vintage"]),
            title=f"{month(row['vintage'])}: ROC AUC {decimal_text(row['roc_auc'], 3)}",
        )
        for row in measured
    ]
    references = [ReferenceLine(test_auc, gettext("test AUC"))] if isinstance(test_auc, int | float) else []
    return bar_chart(bars, y_max=1.0, y_tick_format=_two_decimals, max_x_labels=8, reference_lines=references)


def monitoring_page(version: ModelVersion, report: MonitoringReport | None) -> dict:
    """Everything the monitoring page of ``version`` shows for ``report`` (None: nothing written yet)."""
    if report is None:
        return {"report": None}
    figures = report.figures
    stability = figures["stability"]
    backtest = figures["backtest"]
    rows = stability_rows(stability)
    return {
        "report": report,
        "alerts": [{"level": alert["level"], "message": alert_message(alert)} for alert in report.alerts],
        "stability": stability,
        "stability_rows": rows,
        "too_few_predictions": stability["predictions"] < figures["thresholds"]["min_predictions"],
        "backtest": backtest,
        "thresholds": figures["thresholds"],
        "charts": {
            "stability": stability_chart(rows),
            "score": score_distribution_chart(stability.get("score")),
            "grades": grade_chart(backtest["grades"]),
            "vintages": vintage_chart(backtest["vintages"], (version.metrics or {}).get("roc_auc")),
        },
    }


def dashboard_monitoring() -> dict | None:
    """The active version's monitoring status for the dashboard: its latest report and the first alerts in words."""
    monitoring = active_version_monitoring()
    if monitoring is None:
        return None
    report = monitoring["report"]
    alerts = report.alerts if report is not None else []
    return {
        **monitoring,
        "status": report.status if report is not None else None,
        "alert_count": len(alerts),
        "messages": [alert_message(alert) for alert in alerts[:3]],
    }
