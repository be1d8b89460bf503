"""Reads for the analyst pages: the dashboard's figures and the distribution of recent credit scores."""

from __future__ import annotations

import numpy as np
from django.db.models import Count, Q
from django.utils import timezone
from django.utils.translation import gettext

from applicants.models import Applicant
from applicants.selectors import kolektibilitas_distribution
from nplsite.charts import Bar, bar_chart
from training.selectors import get_active_model_version, recent_training_runs

from . import scorecard
from .models import Prediction
from .policies import current_policy
from .selectors import headline_metrics, predictions

SCORE_BIN_WIDTH = 50
RECENT_PREDICTIONS = 1000


def score_histogram(limit: int = RECENT_PREDICTIONS) -> dict:
    """Credit scores of the latest ``limit`` predictions in 50-point bins from 300 to 850.

    Returns ``{"count": n, "bins": [{"low", "high", "count", "grade"}]}``, where ``grade`` is the
    risk grade at the middle of the bin under the active policy's bands (used for its colour).
    """
    scores = np.fromiter(
        Prediction.objects.order_by("-created_at", "-id").values_list("credit_score", flat=True)[:limit], dtype=float
    )
    edges = np.arange(scorecard.MIN_SCORE, scorecard.MAX_SCORE + SCORE_BIN_WIDTH, SCORE_BIN_WIDTH, dtype=float)
    edges[-1] = scorecard.MAX_SCORE + 1  # the last bin holds 800–850 inclusive
    counts, _ = np.histogram(scores, bins=edges)
    parameters = current_policy().parameters
    grades = scorecard.risk_grade((edges[:-1] + np.minimum(edges[1:], scorecard.MAX_SCORE)) / 2, parameters)
    bins = [
        {"low": int(low), "high": int(min(high - 1, scorecard.MAX_SCORE)), "count": int(count), "grade": str(grade)}
        for low, high, count, grade in zip(edges[:-1], edges[1:], counts, grades, strict=True)
    ]
    return {"count": len(scores), "bins": bins}


def score_chart(histogram: dict) -> dict:
    """Bars of the score histogram, each coloured by the risk grade of its scores."""
    bars = [
        Bar(
            value=row["count"],
            label=str(row["low"]),
            title=gettext("Scores %(low)s–%(high)s (grade %(grade)s): %(count)s predictions") % row,
            css=f"bar-grade-{row['grade']}",
        )
        for row in histogram["bins"]
    ]
    return bar_chart(bars, integer_ticks=True)


def dashboard_figures() -> dict:
    """Everything the dashboard shows, in a handful of queries."""
    distribution = kolektibilitas_distribution()
    labelled = sum(row["count"] for row in distribution if row["kolektibilitas"] is not None)
    npl = sum(row["count"] for row in distribution if row["is_npl"])
    today = timezone.localdate()
    today_counts = predictions(created_from=today).aggregate(
        total=Count("pk"), flagged=Count("pk", filter=Q(is_npl=True))
    )
    active = get_active_model_version()
    histogram = score_histogram()
    return {
        "applicants": Applicant.objects.count(),
        "labelled": labelled,
        "npl": npl,
        "npl_rate": npl / labelled if labelled else None,
        "kolektibilitas": distribution,
        "predictions_today": today_counts["total"],
        "flagged_today": today_counts["flagged"],
        "histogram": histogram,
        "score_chart": score_chart(histogram),
        "grades": current_policy().parameters.grade_bands.all_grades,
        "active_model": active,
        "active_metrics": headline_metrics(active) if active is not None else {},
        "training_runs": list(recent_training_runs(5)),
    }
