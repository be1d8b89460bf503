"""How sure a figure is: bootstrap intervals of test metrics, and paired comparisons of two models.

A test set of a few hundred applicants with a few dozen NPL gives a recall or a ROC AUC that
another draw of applicants would move by several points. Every test figure the product shows
carries a percentile bootstrap 95 % interval (:func:`bootstrap_intervals`): the test applicants are
resampled with replacement ``resamples`` times and the figure recomputed each time.

:func:`paired_bootstrap_difference` compares two models on the *same* applicants: each resample
scores both, so what the applicants have in common cancels out and only the models' difference is
measured. Champion/challenger uses it: a challenger replaces the active version only when the
interval of its advantage excludes zero.
"""

from __future__ import annotations

import numpy as np
from sklearn.metrics import average_precision_score, roc_auc_score

DEFAULT_RESAMPLES = 1000
CONFIDENCE = 0.95
# Figures at a threshold: computed for all resamples at once from the confusion counts.
THRESHOLD_METRICS = ("precision", "recall", "f1", "accuracy")
RANKING_METRICS = ("roc_auc", "pr_auc")


def _resample_rows(n: int, resamples: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, n, size=(resamples, n))


def _threshold_figures(y: np.ndarray, predicted: np.ndarray) -> dict[str, np.ndarray]:
    """Precision, recall, F1 and accuracy of each row of ``y``/``predicted`` (resamples × applicants)."""
    tp = (y & predicted).sum(axis=1).astype(float)
    fp = (~y & predicted).sum(axis=1).astype(float)
    fn = (y & ~predicted).sum(axis=1).astype(float)
    n = y.shape[1]
    with np.errstate(divide="ignore", invalid="ignore"):
        precision = np.where(tp + fp > 0, tp / (tp + fp), 0.0)
        recall = np.where(tp + fn > 0, tp / (tp + fn), np.nan)
        f1 = np.where(precision + recall > 0, 2 * precision * recall / (precision + recall), 0.0)
    accuracy = (n - fp - fn) / n
    return {"precision": precision, "recall": recall, "f1": f1, "accuracy": accuracy}


def _ranking_figure(metric: str, y: np.ndarray, probability: np.ndarray) -> float:
    if y.min() == y.max():
        return np.nan
    if metric == "roc_auc":
        return float(roc_auc_score(y, probability))
    return float(average_precision_score(y, probability))


def _interval(values: np.ndarray) -> list[float] | None:
    values = values[~np.isnan(values)]
    if not len(values):
        return None
    tail = (1 - CONFIDENCE) / 2 * 100
    low, high = np.percentile(values, [tail, 100 - tail])
    return [round(float(low), 6), round(float(high), 6)]


def bootstrap_intervals(
    y_true, probability, threshold: float, *, resamples: int = DEFAULT_RESAMPLES, seed: int = 0
) -> dict[str, list[float] | None]:
    """``{metric: [low, high]}``: percentile bootstrap 95 % intervals of precision, recall, F1 and
    accuracy at ``threshold``, ROC AUC, PR AUC and the Brier score, over the given applicants."""
    y = np.asarray(y_true).astype(bool)
    probability = np.asarray(probability, dtype=float)
    rows = _resample_rows(len(y), resamples, seed)
    ys, ps = y[rows], probability[rows]
    figures = _threshold_figures(ys, ps >= threshold)
    figures["brier"] = ((ps - ys) ** 2).mean(axis=1)
    for metric in RANKING_METRICS:
        figures[metric] = np.array([_ranking_figure(metric, ys[i], ps[i]) for i in range(resamples)])
    return {metric: _interval(values) for metric, values in figures.items()}


def metric_values(metric: str, y: np.ndarray, probability: np.ndarray, threshold: float) -> np.ndarray:
    """``metric`` of each row of ``y``/``probability`` (resamples × applicants)."""
    if metric in THRESHOLD_METRICS:
        return _threshold_figures(y, probability >= threshold)[metric]
    if metric in RANKING_METRICS:
        return np.array([_ranking_figure(metric, y[i], probability[i]) for i in range(len(y))])
    raise ValueError(f"Unknown metric {metric!r}")


def paired_bootstrap_difference(
    metric: str,
    y_true,
    new_probability,
    old_probability,
    *,
    new_threshold: float = 0.5,
    old_threshold: float = 0.5,
    resamples: int = DEFAULT_RESAMPLES,
    seed: int = 0,
) -> dict:
    """The new model's ``metric`` minus the old one's on the same applicants, with a paired
    bootstrap 95 % interval: ``{"metric", "new", "old", "difference", "interval": [low, high]}``."""
    y = np.asarray(y_true).astype(bool)
    new_probability = np.asarray(new_probability, dtype=float)
    old_probability = np.asarray(old_probability, dtype=float)
    whole = np.arange(len(y))[None, :]
    new = float(metric_values(metric, y[whole], new_probability[whole], new_threshold)[0])
    old = float(metric_values(metric, y[whole], old_probability[whole], old_threshold)[0])
    rows = _resample_rows(len(y), resamples, seed)
    differences = metric_values(metric, y[rows], new_probability[rows], new_threshold) - metric_values(
        metric, y[rows], old_probability[rows], old_threshold
    )
    return {
        "metric": metric,
        "new": round(new, 6),
        "old": round(old, 6),
        "difference": round(new - old, 6),
        "interval": _interval(differences),
    }
