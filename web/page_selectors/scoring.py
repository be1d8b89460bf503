"""Reads for the analyst pages: the dashboard's figures and the distribution of recent credit scores."""

from __future__ import annotations

import numpy as np
import pandas as pd
from django.core.paginator import Page, Paginator
from django.db.models import Count, Q
from django.utils import timezone
from django.utils.translation import gettext

from applicants.attributes import label
from applicants.models import Applicant
from applicants.selectors import kolektibilitas_distribution
from credit import scorecard
from scoring.models import Prediction
from scoring.policies import current_policy
from scoring.reason_wording import worded_reasons
from scoring.selectors import headline_metrics, predictions
from training.selectors import get_active_model_version, recent_training_runs
from web.charts import Bar, bar_chart

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
    return _histogram(scores)


def _histogram(scores: np.ndarray, weights: np.ndarray | None = None) -> dict:
    """Scores (each counted ``weights`` times) in 50-point bins from 300 to 850, as :func:`score_histogram` says."""
    edges = np.arange(scorecard.MIN_SCORE, scorecard.MAX_SCORE + SCORE_BIN_WIDTH, SCORE_BIN_WIDTH, dtype=float)
    edges[-1] = scorecard.MAX_SCORE + 1  # the last bin holds 800–850 inclusive
    counts, _ = np.histogram(scores, bins=edges, weights=weights)
    parameters = current_policy().parameters
    grades = scorecard.risk_grade((edges[:-1] + np.minimum(edges[1:], scorecard.MAX_SCORE)) / 2, parameters)
    bins = [
        {"low": int(low), "high": int(min(high - 1, scorecard.MAX_SCORE)), "count": int(count), "grade": str(grade)}
        for low, high, count, grade in zip(edges[:-1], edges[1:], counts, grades, strict=True)
    ]
    return {"count": int(counts.sum()), "bins": bins}


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


# ---------------------------------------------------------------------------------------------
# Batch results


BATCH_ROWS_PER_PAGE = 50


def batch_summary(statistics: dict, scored: int) -> dict | None:
    """The batch page's summary of a job's ``statistics`` (:class:`scoring.batch.BatchStatistics`)."""
    if not statistics or not scored:
        return None
    scores = statistics["scores"]
    histogram = _histogram(
        np.array([float(score) for score in scores], dtype=float), np.array(list(scores.values()), dtype=float)
    )
    return {
        "by_recommendation": statistics["by_recommendation"],
        "by_grade": statistics["by_grade"],
        "flagged": statistics["flagged"],
        "flag_rate": statistics["flagged"] / scored,
        "expected_loss_total": statistics["expected_loss_total"],
        "expected_loss_average": round(statistics["expected_loss_total"] / scored),
        "histogram": histogram,
        "chart": score_chart(histogram),
    }


class CsvRows:
    """The data rows of a CSV file that Django's ``Paginator`` can page through: a slice reads only its rows."""

    NUMBERS = {"npl_probability": float, "threshold": float, "credit_score": int, "expected_loss": int, "is_npl": int}

    def __init__(self, path, count: int):
        self.path, self.count = path, count

    def __len__(self) -> int:
        return self.count

    def __getitem__(self, window: slice) -> list[dict]:
        start, stop = window.start or 0, min(window.stop, self.count)
        rows = pd.read_csv(
            self.path, skiprows=range(1, start + 1), nrows=max(stop - start, 0), dtype=str, keep_default_na=False
        )
        for name, kind in self.NUMBERS.items():
            if name in rows.columns:
                rows[name] = pd.to_numeric(rows[name]).astype(kind)
        if "column" in rows.columns:  # a report: name each column by its label
            rows["column_label"] = rows["column"].map(lambda name: label(name) if name else "")
        return rows.to_dict("records")


def csv_page(path, count: int, number) -> Page:
    """Page ``number`` (any text: an invalid one gives the first or last page) of a CSV file's ``count`` rows."""
    return Paginator(CsvRows(path, count), BATCH_ROWS_PER_PAGE).get_page(number)


def with_stored_predictions(rows: list[dict]) -> list[dict]:
    """A page of a results file's rows, each with what its stored prediction says in the reader's
    language: ``main_reason`` (the first reason, worded now — the file holds the words of the
    language the job was started in) and ``applicant_id`` (the applicant page to link to, when the
    prediction is linked to a stored applicant)."""
    ids = [int(row["prediction_id"]) for row in rows if str(row.get("prediction_id", "")).isdigit()]
    stored = {
        prediction.pk: prediction
        for prediction in Prediction.objects.filter(pk__in=ids)
        .select_related("applicant")
        .only("id", "reasons", "input_attributes", "applicant__app_id")
    }
    for row in rows:
        prediction = stored.get(int(row["prediction_id"])) if str(row.get("prediction_id", "")).isdigit() else None
        if prediction is None:  # deleted since (e.g. by a retry): the file's own words
            row["main_reason"], row["applicant_id"] = row.get("reason_1") or "", None
            continue
        reasons = worded_reasons(prediction.reasons[:1], prediction.input_attributes)
        row["main_reason"] = reasons[0]["text"] if reasons else ""
        row["applicant_id"] = prediction.applicant.app_id if prediction.applicant is not None else None
    return rows
