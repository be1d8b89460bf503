"""The population stability index and its bins, on numbers whose answer is known."""

import math

import numpy as np
import pytest

from credit.stability import (
    UNSEEN,
    StabilityCounter,
    category_reference,
    number_reference,
    population_stability_index,
    psi_level,
)


def test_psi_of_known_shares():
    assert population_stability_index([0.5, 0.5], [0.5, 0.5]) == 0.0
    expected = (0.7 - 0.5) * math.log(0.7 / 0.5) + (0.3 - 0.5) * math.log(0.3 / 0.5)
    assert population_stability_index([0.5, 0.5], [0.7, 0.3]) == pytest.approx(expected)
    # An empty bin counts as 0.0001, not as infinity.
    assert math.isfinite(population_stability_index([1.0, 0.0], [0.5, 0.5]))


@pytest.mark.parametrize(
    ("psi", "level"),
    [(0.0, "stable"), (0.0999, "stable"), (0.10, "watch"), (0.25, "watch"), (0.2501, "shifted"), (None, "unknown")],
)
def test_reading(psi, level):
    assert psi_level(psi) == level


def test_numbers_in_training_tenths_with_out_of_range_values_counted():
    training = np.arange(1, 1001, dtype=float)
    reference = number_reference(training)
    assert len(reference["edges"]) == 9 and reference["shares"] == pytest.approx([0.1] * 10)
    assert (reference["minimum"], reference["maximum"], reference["mean"]) == (1.0, 1000.0, 500.5)

    same = StabilityCounter(reference)
    for chunk in np.array_split(training, 7):  # chunks add up to the whole
        same.add(chunk)
    assert same.result()["psi"] == pytest.approx(0.0, abs=1e-9)

    shifted = StabilityCounter(reference)
    shifted.add(np.concatenate([training[:500] + 2000, [np.nan]]))
    result = shifted.result()
    assert result["count"] == 500 and result["missing"] == 1
    assert result["outside_share"] == 1.0 and result["level"] == "shifted"
    assert result["bins"]["period"][-1] == 1.0  # all in the top tenth
    assert result["moved"] == {"training_mean": 500.5, "period_mean": 2250.5}


def test_categories_as_they_are_and_an_unseen_one():
    reference = category_reference(["a"] * 60 + ["b"] * 40)
    assert reference["categories"] == {"a": 0.6, "b": 0.4}
    counter = StabilityCounter(reference)
    counter.add(["a"] * 50 + ["b"] * 30 + ["c"] * 20)
    result = counter.result()
    assert result["outside_share"] == pytest.approx(0.2)
    assert result["bins"]["categories"] == ["a", "b", UNSEEN]
    assert result["moved"] == {"category": UNSEEN, "training_share": 0.0, "period_share": pytest.approx(0.2)}
    assert result["level"] == "shifted"


def test_an_empty_period_has_no_index():
    counter = StabilityCounter(number_reference([1.0, 2.0, 3.0]))
    assert counter.result() == {"kind": "number", "count": 0, "psi": None, "level": "unknown"}
