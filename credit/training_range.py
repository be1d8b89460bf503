"""What the model has seen: the range of each number and the categories of the development applicants.

A probability for an applicant far outside them (a price ten times any in training, an income of
zero when the lowest was millions) is an extrapolation the model was never checked on; the product
says so beside the score (``outside_training`` on the prediction, the result page and the API)
rather than showing a confident "100.0 %". Training stores :func:`training_ranges` in the
artifact's metadata; the scoring engine calls :func:`outside_training` for every applicant it scores.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from credit.attributes import ATTRIBUTE_FIELDS, CATEGORY_FIELDS, NUMERIC_FIELDS


def training_ranges(development: pd.DataFrame) -> dict:
    """``{"numbers": {name: [min, max]}, "categories": {name: [values]}}`` of the development applicants."""
    return {
        "numbers": {name: [int(development[name].min()), int(development[name].max())] for name in NUMERIC_FIELDS},
        "categories": {name: sorted(development[name].astype(str).unique().tolist()) for name in CATEGORY_FIELDS},
    }


def outside_training(columns: dict, ranges: dict | None) -> list[list[str]]:
    """For each applicant (``columns``: the nine attributes as equal-length arrays), the attributes
    whose value is outside ``ranges`` (below the smallest or above the largest number seen, or a
    category never seen), in the schema's order; empty lists when ``ranges`` is ``None`` (a model
    that did not record them)."""
    n = len(columns["otr"])
    if not ranges:
        return [[] for _ in range(n)]
    outside = {}
    for name in NUMERIC_FIELDS:
        low, high = ranges["numbers"][name]
        values = np.asarray(columns[name], dtype=np.float64)
        outside[name] = (values < low) | (values > high)
    for name in CATEGORY_FIELDS:
        known = np.asarray(ranges["categories"][name], dtype=object)
        outside[name] = ~np.isin(np.asarray(columns[name], dtype=object).astype(str), known)
    flagged = np.column_stack([outside[name] for name in ATTRIBUTE_FIELDS])
    names = np.asarray(ATTRIBUTE_FIELDS, dtype=object)
    result = [[] for _ in range(n)]
    for i in np.flatnonzero(flagged.any(axis=1)).tolist():
        result[i] = names[flagged[i]].tolist()
    return result
