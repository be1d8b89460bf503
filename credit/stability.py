"""Population stability: the training-time distribution of each input and of the score, and the
population stability index (PSI) of a later period against it.

Bins are fixed at training: for a number, its deciles among the development applicants (fewer bins
when values repeat, e.g. a tenor of 12/24/36/48/60 months); for a category, the categories as they
are, plus one bin for a category the model never saw. A period is counted chunk by chunk
(:class:`StabilityCounter`), so its size never matters for memory.

    PSI = Σ over bins (period share − training share) × ln(period share / training share)

with a share of 0 read as :data:`EMPTY_SHARE` (a bin nobody fell in would otherwise make it infinite).
Reading: below 0.10 stable, 0.10–0.25 watch, above 0.25 shifted (:func:`psi_level`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from credit.attributes import ATTRIBUTE_FIELDS, CATEGORY_FIELDS
from credit.encoder import DERIVED_FEATURES, derived_applicant_features

# The ratios a credit analyst reads, as the feature encoder computes them (one definition).
MONITORED_RATIOS = tuple(
    name for name in ("dp_ratio", "installment_to_income", "loan_to_income") if name in DERIVED_FEATURES
)
MONITORED_FEATURES = (*ATTRIBUTE_FIELDS, *MONITORED_RATIOS)
SCORE = "npl_probability"
UNSEEN = "__unseen__"

PSI_WATCH = 0.10
PSI_SHIFTED = 0.25
EMPTY_SHARE = 1e-4
DECILES = np.arange(1, 10) / 10


def psi_level(psi: float | None) -> str:
    """``"stable"`` below 0.10, ``"watch"`` from 0.10 to 0.25, ``"shifted"`` above 0.25."""
    if psi is None:
        return "unknown"
    if psi > PSI_SHIFTED:
        return "shifted"
    if psi >= PSI_WATCH:
        return "watch"
    return "stable"


def population_stability_index(expected_shares, actual_shares) -> float:
    expected = np.maximum(np.asarray(expected_shares, dtype=np.float64), EMPTY_SHARE)
    actual = np.maximum(np.asarray(actual_shares, dtype=np.float64), EMPTY_SHARE)
    return float(np.sum((actual - expected) * np.log(actual / expected)))


def feature_columns(attributes: pd.DataFrame) -> dict[str, np.ndarray]:
    """Every monitored feature of applicants given as the nine attributes: the attributes themselves
    and the derived ratios (computed by the feature encoder, so they mean what the model saw)."""
    ratios = derived_applicant_features(attributes)
    columns = {}
    for name in ATTRIBUTE_FIELDS:
        if name in CATEGORY_FIELDS:
            columns[name] = attributes[name].astype("string").fillna("").to_numpy(dtype=object)
        else:
            columns[name] = pd.to_numeric(attributes[name], errors="coerce").to_numpy(dtype=np.float64)
    for name in MONITORED_RATIOS:
        columns[name] = ratios[name].to_numpy(dtype=np.float64)
    return columns


def number_reference(values) -> dict:
    values = np.asarray(values, dtype=np.float64)
    values = values[np.isfinite(values)]
    if not len(values):
        return {"kind": "number", "edges": [], "shares": [1.0], "minimum": None, "maximum": None, "mean": None}
    edges = np.unique(np.quantile(values, DECILES))
    counts = np.bincount(np.searchsorted(edges, values, side="left"), minlength=len(edges) + 1)
    return {
        "kind": "number",
        "edges": edges.tolist(),
        "shares": (counts / len(values)).tolist(),
        "minimum": float(values.min()),
        "maximum": float(values.max()),
        "mean": float(values.mean()),
    }


def category_reference(values) -> dict:
    counts = pd.Series(np.asarray(values, dtype=object)).value_counts(normalize=True, sort=False)
    return {"kind": "category", "categories": {str(key): float(share) for key, share in sorted(counts.items())}}


def reference_of(values, categorical: bool) -> dict:
    return category_reference(values) if categorical else number_reference(values)


def number_bin_bounds(reference: dict) -> list[tuple[int, float]]:
    """The bins of a number as (bin, upper bound), in order: a value belongs to the first bin whose
    bound it does not exceed, above every bound to the last bin (``len(edges)``). This is the rule
    :class:`StabilityCounter` applies (``np.searchsorted(edges, value, side="left")``) and the rule a
    database is given to count a period itself (``monitoring.selectors``)."""
    return list(enumerate(float(edge) for edge in reference["edges"]))


def category_bins(reference: dict) -> list[str]:
    """The categories of a categorical reference in bin order; one more bin follows them: any other value."""
    return list(reference["categories"])


class StabilityCounter:
    """Counts one feature of a period into its training bins, chunk by chunk (:meth:`add`), or takes
    counts made elsewhere, by a database (:meth:`add_counts`); :meth:`result` compares."""

    def __init__(self, reference: dict):
        self.reference = reference
        self.total = 0
        self.outside = 0  # outside the training range, or a category never seen
        self.sum = 0.0
        self.missing = 0
        if reference["kind"] == "number":
            self.edges = np.asarray(reference["edges"], dtype=np.float64)
            self.counts = np.zeros(len(self.edges) + 1, dtype=np.int64)
        else:
            self.categories = category_bins(reference)
            self.counts = np.zeros(len(self.categories) + 1, dtype=np.int64)  # the last: unseen

    def add(self, values) -> None:
        if self.reference["kind"] == "number":
            values = np.asarray(values, dtype=np.float64)
            known = np.isfinite(values)
            self.missing += int((~known).sum())
            values = values[known]
            self.counts += np.bincount(np.searchsorted(self.edges, values, side="left"), minlength=len(self.counts))
            low, high = self.reference["minimum"], self.reference["maximum"]
            if low is not None:
                self.outside += int(((values < low) | (values > high)).sum())
            self.sum += float(values.sum())
            self.total += len(values)
        else:
            codes = pd.Index(self.categories).get_indexer(np.asarray(values, dtype=object))
            codes[codes < 0] = len(self.categories)
            self.counts += np.bincount(codes, minlength=len(self.counts))
            self.outside += int((codes == len(self.categories)).sum())
            self.total += len(codes)

    def add_counts(self, counts, *, missing: int = 0, outside: int = 0, value_sum: float = 0.0) -> None:
        """Counts per bin made elsewhere by the same rules (:func:`number_bin_bounds`, :func:`category_bins`),
        with the number of missing values, of values outside the training range (for a category: the
        last bin's) and the sum of the values counted (numbers)."""
        counts = np.asarray(counts, dtype=np.int64)
        if counts.shape != self.counts.shape:
            raise ValueError(f"expected {len(self.counts)} bin counts, got {len(counts)}")
        self.counts += counts
        self.total += int(counts.sum())
        self.missing += int(missing)
        self.outside += int(counts[-1]) if self.reference["kind"] == "category" else int(outside)
        self.sum += float(value_sum)

    def result(self) -> dict:
        """PSI, its reading, the out-of-range (or unseen) share and what moved, as plain numbers."""
        if self.total == 0:
            return {"kind": self.reference["kind"], "count": 0, "psi": None, "level": "unknown"}
        actual = self.counts / self.total
        if self.reference["kind"] == "number":
            expected = np.asarray(self.reference["shares"], dtype=np.float64)
            psi = population_stability_index(expected, actual)
            # Ten significant digits: a sum's last bits depend on the order it was added in (chunks, a database).
            moved = {"training_mean": self.reference["mean"], "period_mean": float(f"{self.sum / self.total:.10g}")}
            bins = {"training": expected.tolist(), "period": actual.tolist(), "edges": self.reference["edges"]}
        else:
            expected_by_category = self.reference["categories"]
            expected = np.array([*expected_by_category.values(), 0.0])
            psi = population_stability_index(expected, actual)
            changes = actual - expected
            largest = int(np.argmax(np.abs(changes)))
            moved = {
                "category": self.categories[largest] if largest < len(self.categories) else UNSEEN,
                "training_share": float(expected[largest]),
                "period_share": float(actual[largest]),
            }
            bins = {"training": expected.tolist(), "period": actual.tolist(), "categories": [*self.categories, UNSEEN]}
        return {
            "kind": self.reference["kind"],
            "count": self.total,
            "missing": self.missing,
            "psi": round(psi, 6),
            "level": psi_level(psi),
            "outside_share": self.outside / self.total,
            "moved": moved,
            "bins": bins,
        }
