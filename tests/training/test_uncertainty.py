"""Bootstrap intervals of test figures and the paired comparison champion/challenger relies on."""

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from credit.intervals import bootstrap_intervals, paired_bootstrap_difference


def scored_applicants(n: int, signal: float, seed: int):
    """``n`` applicants with a 25 % NPL rate and a score that separates them by ``signal``."""
    rng = np.random.default_rng(seed)
    y = (rng.random(n) < 0.25).astype(int)
    score = 1 / (1 + np.exp(-(signal * y + rng.standard_normal(n))))
    return y, score


def test_intervals_hold_the_figure_and_narrow_with_more_applicants():
    small_y, small_p = scored_applicants(300, 1.0, seed=1)
    large_y, large_p = scored_applicants(30_000, 1.0, seed=1)

    small = bootstrap_intervals(small_y, small_p, 0.5, resamples=300, seed=0)
    large = bootstrap_intervals(large_y, large_p, 0.5, resamples=300, seed=0)

    low, high = small["roc_auc"]
    assert low < roc_auc_score(small_y, small_p) < high
    for metric in ("precision", "recall", "f1", "accuracy", "roc_auc", "pr_auc", "brier"):
        assert large[metric][1] - large[metric][0] < (small[metric][1] - small[metric][0]) / 3, metric


def test_the_same_seed_gives_the_same_intervals():
    y, p = scored_applicants(500, 1.0, seed=2)
    assert bootstrap_intervals(y, p, 0.4, resamples=100, seed=3) == bootstrap_intervals(
        y, p, 0.4, resamples=100, seed=3
    )


def test_identical_models_differ_by_nothing():
    y, p = scored_applicants(500, 1.0, seed=3)
    difference = paired_bootstrap_difference("roc_auc", y, p, p, resamples=200)
    assert difference["difference"] == 0 and difference["interval"] == [0.0, 0.0]


def test_a_clearly_better_model_has_an_interval_above_zero():
    y, strong = scored_applicants(2_000, 2.0, seed=4)
    weak = 0.5 * strong + 0.5 * np.random.default_rng(9).random(len(y))
    difference = paired_bootstrap_difference("roc_auc", y, strong, weak, resamples=300)
    assert difference["difference"] > 0 and difference["interval"][0] > 0


def test_a_difference_within_the_noise_has_an_interval_around_zero():
    y, p = scored_applicants(400, 1.0, seed=5)
    nudged = p + np.random.default_rng(6).normal(0, 0.01, len(p))
    difference = paired_bootstrap_difference("roc_auc", y, nudged, p, resamples=300)
    low, high = difference["interval"]
    assert low < 0 < high


@pytest.mark.parametrize("metric", ["precision", "recall", "pr_auc"])
def test_every_promotion_figure_can_be_compared(metric):
    y, p = scored_applicants(600, 1.5, seed=7)
    difference = paired_bootstrap_difference(metric, y, p, p * 0.9, new_threshold=0.5, old_threshold=0.45)
    assert difference["metric"] == metric and len(difference["interval"]) == 2
