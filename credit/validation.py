"""The figures a credit validator signs: KS, the gains table, characteristic analysis, calibration.

Everything here reads plain arrays (NPL outcome 0/1 and the model's calibrated NPL probability of the
test applicants, or a frame of applicants) and returns plain numbers; which applicants, which model
and which decision policy is the caller's business (``training.validation``).

**Bands.** The test applicants sorted riskiest first (NPL probability descending; applicants with the
same probability keep the order they were given in), and the applicant at position ``i`` of ``n``
falls in band ``i · bands // n + 1``: band 1 holds the riskiest tenth, band 10 the safest. Every band
has ``n // bands`` or one more applicants.

**Kolmogorov–Smirnov.** The largest gap between the share of all NPL applicants and the share of all
non-NPL applicants at or above a probability: ``max over t of (NPL with p ≥ t)/NPL − (non-NPL with
p ≥ t)/non-NPL``, over every distinct probability ``t`` (equal to ``max(TPR − FPR)`` over the ROC
curve). :func:`ks_statistic` also returns the ``t`` where it is reached, which the pages turn into a
credit score.

**Gains table** (:func:`gains_table`), per band: applicants, NPL, non-NPL, NPL rate, the probability
range, the cumulative shares of applicants, of NPL (the capture rate) and of non-NPL, their gap (KS
at the band's lower edge), the lift (the band's NPL rate over the whole set's) and the cumulative
lift, and the band's weight of evidence and information value as a characteristic would have them.

**Weight of evidence and information value**, as optbinning and the scorecard textbooks define them
(a higher WoE is a safer group)::

    WoE_i = ln( (non-NPL_i / non-NPL) / (NPL_i / NPL) )
    IV    = Σ_i ( non-NPL_i / non-NPL − NPL_i / NPL ) · WoE_i

A group without NPL or without non-NPL has no finite WoE: it is ``None`` and adds nothing to the IV.
Conventional readings of an IV (:func:`iv_strength`): below 0.02 not predictive, to 0.1 weak, to 0.3
medium, to 0.5 strong, above 0.5 suspiciously strong (check for a leak of the outcome).

**Characteristic analysis** (:func:`characteristic_analysis`): each of the nine attributes and the
ratios the encoder derives from them, binned by optbinning's ``OptimalBinning`` on the development
applicants (the same library and bin settings as the scorecard candidate), with each bin's counts,
NPL rate, WoE and IV there, and the held-out test applicants counted in the same bins (their IV says
whether the characteristic holds out of sample).

**Calibration** (:func:`calibration_rows`): per group (a band or a risk grade), the mean predicted
NPL probability against the observed NPL rate, with the back-test's exact (Clopper–Pearson) 99 %
binomial interval and its one-sided traffic light (:mod:`credit.backtest`).
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd
from optbinning import OptimalBinning

from credit.attributes import ATTRIBUTES, Kind
from credit.backtest import binomial_interval, traffic_light
from credit.encoder import derived_applicant_features

BANDS = 10
# optbinning's bins: at most six, each of at least 5 % of the applicants, numeric ones monotonic in NPL
# rate — the scorecard candidate's kind of binning (credit.credit_scorecard), one bin finer.
MAX_BINS = 6
MIN_BIN_SIZE = 0.05
RUPIAH = "rupiah"
COUNT = "count"
RATIO = "ratio"
CATEGORY = "category"
IV_READINGS = ((0.02, "not predictive"), (0.1, "weak"), (0.3, "medium"), (0.5, "strong"))
IV_SUSPICIOUS = "suspicious"


def _arrays(is_npl, probability) -> tuple[np.ndarray, np.ndarray]:
    y = np.asarray(is_npl).astype(int)
    p = np.asarray(probability, dtype=np.float64)
    if y.shape != p.shape or y.ndim != 1:
        raise ValueError(f"Outcomes and probabilities must be two equal-length lists, got {y.shape} and {p.shape}.")
    if len(y) == 0:
        raise ValueError("No applicants: the figures need at least one.")
    if not np.all(np.isfinite(p)) or p.min() < 0 or p.max() > 1:
        raise ValueError("Every NPL probability must be a number between 0 and 1.")
    return y, p


def iv_strength(iv: float | None) -> str | None:
    """The conventional reading of an information value (see the module docstring)."""
    if iv is None:
        return None
    for upper, reading in IV_READINGS:
        if iv < upper:
            return reading
    return IV_SUSPICIOUS


def woe_iv(npl: np.ndarray, non_npl: np.ndarray) -> tuple[list[float | None], list[float], float]:
    """(WoE per group, IV per group, total IV) from the NPL and non-NPL count of each group."""
    npl = np.asarray(npl, dtype=np.float64)
    non_npl = np.asarray(non_npl, dtype=np.float64)
    total_npl, total_non_npl = npl.sum(), non_npl.sum()
    woes, ivs = [], []
    for bad, good in zip(npl, non_npl, strict=True):
        if bad == 0 or good == 0 or total_npl == 0 or total_non_npl == 0:
            woes.append(None)
            ivs.append(0.0)
            continue
        good_share, bad_share = good / total_non_npl, bad / total_npl
        woe = math.log(good_share / bad_share)
        woes.append(float(woe))
        ivs.append(float((good_share - bad_share) * woe))
    return woes, ivs, float(sum(ivs))


def risk_order(probability: np.ndarray) -> np.ndarray:
    """Positions sorted riskiest first (probability descending, ties in the given order)."""
    return np.argsort(-np.asarray(probability, dtype=np.float64), kind="stable")


def bands_of(probability, bands: int = BANDS) -> np.ndarray:
    """The band (1 = riskiest) of each applicant, in the order given (see the module docstring)."""
    probability = np.asarray(probability, dtype=np.float64)
    n = len(probability)
    bands = max(1, min(int(bands), n))
    band = np.empty(n, dtype=np.int64)
    band[risk_order(probability)] = np.arange(n) * bands // n + 1
    return band


def ks_statistic(is_npl, probability) -> dict:
    """``{"ks", "probability", "npl_share", "non_npl_share"}``: the Kolmogorov–Smirnov statistic, the
    probability ``t`` at which it is reached (applicants with ``p ≥ t`` on the risky side) and the two
    cumulative shares there. ``ks`` is ``None`` without both NPL and non-NPL applicants."""
    y, p = _arrays(is_npl, probability)
    npl_total, non_npl_total = int(y.sum()), int(len(y) - y.sum())
    if npl_total == 0 or non_npl_total == 0:
        return {"ks": None, "probability": None, "npl_share": None, "non_npl_share": None}
    order = risk_order(p)
    p_sorted, y_sorted = p[order], y[order]
    cum_npl = np.cumsum(y_sorted) / npl_total
    cum_non_npl = np.cumsum(1 - y_sorted) / non_npl_total
    # Only where the probability changes (the last of each run of equal probabilities): a threshold
    # cannot separate applicants with the same probability.
    last_of_value = np.append(p_sorted[1:] != p_sorted[:-1], True)
    gaps = np.where(last_of_value, cum_npl - cum_non_npl, -np.inf)
    best = int(np.argmax(gaps))
    return {
        "ks": float(gaps[best]),
        "probability": float(p_sorted[best]),
        "npl_share": float(cum_npl[best]),
        "non_npl_share": float(cum_non_npl[best]),
    }


def gains_table(is_npl, probability, bands: int = BANDS) -> dict:
    """``{"bands": [row, …], "iv": total IV of the bands, "npl_rate": overall}``; see the module docstring."""
    y, p = _arrays(is_npl, probability)
    band = bands_of(p, bands)
    n, npl_total = len(y), int(y.sum())
    non_npl_total = n - npl_total
    overall = npl_total / n
    numbers = sorted(set(band.tolist()))
    npl = np.array([int(y[band == b].sum()) for b in numbers])
    counts = np.array([int((band == b).sum()) for b in numbers])
    non_npl = counts - npl
    woes, ivs, total_iv = woe_iv(npl, non_npl)
    rows = []
    cum_n = cum_npl = cum_non_npl = 0
    for index, number in enumerate(numbers):
        members = p[band == number]
        cum_n += int(counts[index])
        cum_npl += int(npl[index])
        cum_non_npl += int(non_npl[index])
        rate = npl[index] / counts[index]
        npl_share = cum_npl / npl_total if npl_total else None
        non_npl_share = cum_non_npl / non_npl_total if non_npl_total else None
        rows.append(
            {
                "band": number,
                "applicants": int(counts[index]),
                "npl": int(npl[index]),
                "non_npl": int(non_npl[index]),
                "npl_rate": float(rate),
                "min_probability": float(members.min()),
                "max_probability": float(members.max()),
                "mean_probability": float(members.mean()),
                "cumulative_applicants_share": cum_n / n,
                "cumulative_npl_share": npl_share,
                "cumulative_non_npl_share": non_npl_share,
                "ks": None if npl_share is None or non_npl_share is None else npl_share - non_npl_share,
                "lift": float(rate / overall) if overall else None,
                "cumulative_lift": float((cum_npl / cum_n) / overall) if overall else None,
                "woe": woes[index],
                "iv": ivs[index],
            }
        )
    return {"bands": rows, "iv": total_iv, "npl_rate": overall, "applicants": n, "npl": npl_total}


def calibration_rows(is_npl, probability, groups, order=None) -> list[dict]:
    """Per group (``groups``: a label per applicant; ``order``: the labels in the order wanted, default
    sorted): applicants, NPL, mean predicted probability (``expected_rate``), observed NPL rate, the
    exact 99 % binomial interval of the observed rate, and the one-sided traffic light (is the risk
    underestimated?) with its p-value — the back-test's (:mod:`credit.backtest`)."""
    y, p = _arrays(is_npl, probability)
    groups = np.asarray(groups, dtype=object)
    if len(groups) != len(y):
        raise ValueError("One group label per applicant is needed.")
    labels = list(order) if order is not None else sorted(set(groups.tolist()))
    rows = []
    for label in labels:
        members = groups == label
        n = int(members.sum())
        if n == 0:
            continue
        k = int(y[members].sum())
        expected = float(p[members].mean())
        light, p_value = traffic_light(k, n, expected)
        low, high = binomial_interval(k, n)
        rows.append(
            {
                "group": label,
                "applicants": n,
                "npl": k,
                "expected_rate": expected,
                "observed_rate": k / n,
                "interval": [low, high],
                "p_value": p_value,
                "light": light,
            }
        )
    return rows


def discrimination(is_npl, probability) -> dict:
    """ROC AUC, Gini (2·AUC − 1) and KS of a probability on the given applicants."""
    from sklearn.metrics import roc_auc_score

    y, p = _arrays(is_npl, probability)
    ks = ks_statistic(y, p)
    if y.min() == y.max():
        return {"roc_auc": None, "gini": None, "ks": ks["ks"]}
    auc = float(roc_auc_score(y, p))
    return {"roc_auc": auc, "gini": 2 * auc - 1, "ks": ks["ks"]}


# --------------------------------------------------------------------------------------------
# Characteristic analysis
# --------------------------------------------------------------------------------------------


def characteristic_values(applicants: pd.DataFrame) -> dict[str, tuple[str, np.ndarray]]:
    """``{name: (unit, values)}``: the nine attributes as they are and the derived ratios and amounts."""
    values: dict[str, tuple[str, np.ndarray]] = {}
    for attribute in ATTRIBUTES:
        column = applicants[attribute.name]
        if attribute.is_category:
            values[attribute.name] = (CATEGORY, column.astype(str).to_numpy(dtype=object))
        else:
            unit = RUPIAH if attribute.kind == Kind.RUPIAH else COUNT
            values[attribute.name] = (unit, pd.to_numeric(column, errors="coerce").to_numpy(dtype=np.float64))
    derived = derived_applicant_features(applicants[[attribute.name for attribute in ATTRIBUTES]])
    values["financed_amount"] = (RUPIAH, np.expm1(derived["log_financed_amount"].to_numpy()))
    values["monthly_installment"] = (RUPIAH, np.expm1(derived["log_monthly_installment"].to_numpy()))
    for ratio in ("dp_ratio", "installment_to_income", "loan_to_income"):
        values[ratio] = (RATIO, derived[ratio].to_numpy())
    values["income_per_household_member"] = (RUPIAH, np.expm1(derived["log_income_per_household_member"].to_numpy()))
    return values


def _bin_index_numeric(values: np.ndarray, splits: list[float]) -> np.ndarray:
    """Bin of each value under optbinning's left-closed bins ``[s_i, s_{i+1})``; -1 for a missing value."""
    index = np.searchsorted(np.asarray(splits, dtype=np.float64), values, side="right")
    return np.where(np.isnan(values), -1, index)


def _bin_index_category(values: np.ndarray, groups: list[list[str]]) -> np.ndarray:
    lookup = {category: index for index, group in enumerate(groups) for category in group}
    return np.array([lookup.get(str(value), -2) for value in values], dtype=np.int64)


def _characteristic(name: str, unit: str, dev_values, dev_y, test_values, test_y) -> dict:
    numeric = unit != CATEGORY
    binning = OptimalBinning(
        name=name,
        dtype="numerical" if numeric else "categorical",
        max_n_bins=MAX_BINS,
        min_bin_size=MIN_BIN_SIZE,
        monotonic_trend="auto_asc_desc" if numeric else None,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        binning.fit(dev_values, dev_y)
    if numeric:
        splits = [float(value) for value in binning.splits]
        edges = [None, *splits, None]
        bins = [{"low": edges[i], "high": edges[i + 1]} for i in range(len(splits) + 1)]
        dev_index = _bin_index_numeric(dev_values, splits)
        test_index = _bin_index_numeric(test_values, splits)
        special = [({"missing": True}, -1)]
    else:
        groups = [sorted(str(value) for value in group) for group in binning.splits]
        bins = [{"categories": group} for group in groups]
        dev_index = _bin_index_category(dev_values, groups)
        test_index = _bin_index_category(test_values, groups)
        special = [({"unseen": True}, -2)]
    rows = []
    for number, description in [*enumerate(bins), *[(index, bin_) for bin_, index in special]]:
        in_dev, in_test = dev_index == number, test_index == number
        count = int(in_dev.sum())
        if count == 0 and not in_test.any() and number < 0:
            continue  # no missing or unseen value on either side
        npl = int(dev_y[in_dev].sum())
        test_count = int(in_test.sum())
        test_npl = int(test_y[in_test].sum())
        rows.append(
            {
                **description,
                "count": count,
                "npl": npl,
                "non_npl": count - npl,
                "npl_rate": npl / count if count else None,
                "test_count": test_count,
                "test_npl": test_npl,
                "test_npl_rate": test_npl / test_count if test_count else None,
            }
        )
    woes, ivs, iv = woe_iv([row["npl"] for row in rows], [row["non_npl"] for row in rows])
    _, _, test_iv = woe_iv([row["test_npl"] for row in rows], [row["test_count"] - row["test_npl"] for row in rows])
    for row, woe, part in zip(rows, woes, ivs, strict=True):
        row["woe"] = woe
        row["iv"] = part
    return {
        "name": name,
        "unit": unit,
        "splits": splits if numeric else None,
        "iv": iv,
        "test_iv": test_iv,
        "strength": iv_strength(iv),
        "bins": rows,
    }


def characteristic_analysis(development: pd.DataFrame, test: pd.DataFrame) -> list[dict]:
    """Every characteristic binned on the development applicants, the test applicants counted in the
    same bins; most informative (highest development IV) first. Both frames hold the nine attributes
    and ``is_npl``. A bin ``{"low", "high"}`` is ``[low, high)`` (``None``: unbounded); a category bin
    ``{"categories": [...]}``; ``{"missing": True}`` / ``{"unseen": True}`` hold values that were
    missing, or categories the development applicants did not have."""
    if development.empty:
        raise ValueError("No development applicants to bin.")
    dev_y = development["is_npl"].astype(int).to_numpy()
    test_y = test["is_npl"].astype(int).to_numpy()
    dev_values, test_values = characteristic_values(development), characteristic_values(test)
    rows = [
        _characteristic(name, unit, values, dev_y, test_values[name][1], test_y)
        for name, (unit, values) in dev_values.items()
    ]
    return sorted(rows, key=lambda row: -row["iv"])


def validation_figures(development: pd.DataFrame, test: pd.DataFrame, probability, scorecard_probability=None) -> dict:
    """Every figure of the dossier that depends on the model alone (not on a decision policy): KS, the
    gains table and calibration by band of ``probability`` on the ``test`` applicants, the
    characteristic analysis (development binned, test counted), and the discrimination of the
    scorecard beside the model (``scorecard_probability``, where given)."""
    y = test["is_npl"].astype(int).to_numpy()
    probability = np.asarray(probability, dtype=np.float64)
    bands = bands_of(probability)
    return {
        "ks": ks_statistic(y, probability),
        "gains": gains_table(y, probability),
        "calibration_by_band": calibration_rows(y, probability, bands, order=sorted(set(bands.tolist()))),
        "characteristics": characteristic_analysis(development, test),
        "scorecard": None if scorecard_probability is None else discrimination(y, scorecard_probability),
    }
