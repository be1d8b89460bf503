"""Reasons: which of an applicant's attributes move their NPL probability, by attribute occlusion.

**Reasons: attribute occlusion.** For each applicant and each *attribute group* below, the engine
replaces the group with the reference value of a typical training applicant and scores again; the
group's effect is ``PD(applicant) − PD(applicant with that group made typical)``, in probability
points. A positive effect means the applicant's value raises the risk compared with a typical
applicant. The method only needs the model's probabilities, so it works the same for every
algorithm training can choose (logistic regression, trees, forests, k-NN, XGBoost), and it
speaks in the nine attributes an analyst knows rather than in encoded features. The applicants
and all their variants are stacked into one set of columns (plain numpy arrays: a DataFrame of a
few rows costs more to build than to encode) and go through the model in **one** call (per chunk
of :data:`CHUNK_SIZE` applicants in a large batch, which bounds the memory): the libraries'
per-call cost is paid once, not once per variant. Groups:

- ``monthly_income``, ``num_of_dependent``, ``lama_bekerja``, ``tenor``: the attribute itself;
- ``dp`` (down-payment ratio): dp becomes the typical dp/otr ratio × the applicant's otr;
- ``otr`` (size of the loan): otr becomes the typical otr and dp keeps the applicant's ratio;
- ``housing_type``, ``status_pernikahan``, ``pekerjaan``: the typical (most frequent) category.

Reference values come from the artifact's ``metadata["reference_values"]`` (median of each number
and the dp/otr ratio, most frequent category, on the training split) when training stored them.
Otherwise the numbers come from the medians the fitted encoder keeps (``numeric_medians_``: the
median of log income and log otr, of the dp ratio, tenor, dependants and years in job — medians
survive monotone transforms, so these are the training medians), and each category group is
compared with the *average over the categories the encoder knows* (each weighted equally), since
the encoder does not keep category frequencies.

Why "exact tree contributions" are not used for the tree models: the features mix attributes
(the installment-to-income ratio depends on otr, dp, tenor and income), so per-feature
contributions do not say which attribute to talk about, and they explain the raw score, not the
calibrated probability the analyst sees. One method for every algorithm also means an applicant
gets the same reasons whichever model is active.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from credit.attributes import ATTRIBUTE_BY_NAME, ATTRIBUTE_FIELDS, CATEGORY_FIELDS, NUMERIC_FIELDS
from credit.scorecard import APPROVE, DECLINE

REASON_COUNT = 3
REASON_GROUPS = (
    "monthly_income",
    "dp",
    "otr",
    "tenor",
    "num_of_dependent",
    "lama_bekerja",
    "housing_type",
    "status_pernikahan",
    "pekerjaan",
)
# Each group's label (English, marked for translation in the schema): the attribute's short label.
REASON_LABELS = {group: ATTRIBUTE_BY_NAME[group].short_label for group in REASON_GROUPS}
# Effects below this, in log-odds, are left out as noise.
MIN_LOG_ODDS_EFFECT = 0.01


@dataclass
class ReferenceValues:
    """What a typical training applicant looks like, for occlusion (see the module docstring)."""

    monthly_income: int
    num_of_dependent: int
    lama_bekerja: int
    otr: int
    tenor: int
    dp_ratio: float
    # attribute → [(category, weight)]: one category with weight 1 (the mode), or every known
    # category with equal weights when the mode is unknown.
    categories: dict[str, list[tuple[str, float]]] = field(default_factory=dict)

    @classmethod
    def of(cls, model) -> ReferenceValues:
        stored = (getattr(model, "metadata", None) or {}).get("reference_values") or {}
        encoder = model.encoder
        medians = encoder.numeric_medians_

        def number(name, from_encoder):
            value = stored.get(name)
            return from_encoder() if value is None else value

        otr = float(number("otr", lambda: np.expm1(medians["log_otr"])))
        dp_ratio = stored.get("dp_ratio")
        if dp_ratio is None:
            dp_ratio = stored["dp"] / otr if stored.get("dp") is not None and otr > 0 else medians["dp_ratio"]
        categories = {}
        for attribute, known in zip(CATEGORY_FIELDS, encoder.one_hot_.categories_, strict=True):
            known = [str(value) for value in known if str(value)]
            if stored.get(attribute) is not None:
                categories[attribute] = [(str(stored[attribute]), 1.0)]
            else:
                categories[attribute] = [(value, 1.0 / len(known)) for value in known]
        return cls(
            monthly_income=int(round(float(number("monthly_income", lambda: np.expm1(medians["log_monthly_income"]))))),
            num_of_dependent=int(round(float(number("num_of_dependent", lambda: medians["num_of_dependent"])))),
            lama_bekerja=int(round(float(number("lama_bekerja", lambda: medians["lama_bekerja"])))),
            otr=int(round(otr)),
            tenor=max(1, int(round(float(number("tenor", lambda: medians["tenor"]))))),
            dp_ratio=float(min(max(float(dp_ratio), 0.0), 1.0)),
            categories=categories,
        )


def columns_of(applicants) -> dict[str, np.ndarray]:
    return {
        name: np.array(applicants[name], dtype=np.int64 if name in NUMERIC_FIELDS else object)
        for name in ATTRIBUTE_FIELDS
    }


def occlusion_variants(columns: dict[str, np.ndarray], ref: ReferenceValues) -> list[tuple[str, float, dict]]:
    """``[(group, weight, changes)]`` in :data:`REASON_GROUPS` order: ``changes`` maps attributes to the
    columns that make the group typical for every applicant."""
    n = len(columns["otr"])
    otr, dp = columns["otr"], columns["dp"]

    def constant(value, dtype=np.int64):
        return np.full(n, value, dtype=dtype)

    own_ratio = np.divide(dp, otr, out=np.full(n, ref.dp_ratio), where=otr > 0)
    variants = [
        ("monthly_income", 1.0, {"monthly_income": constant(ref.monthly_income)}),
        ("dp", 1.0, {"dp": np.rint(ref.dp_ratio * otr).astype(np.int64)}),
        ("otr", 1.0, {"otr": constant(ref.otr), "dp": np.rint(own_ratio * ref.otr).astype(np.int64)}),
        ("tenor", 1.0, {"tenor": constant(ref.tenor)}),
        ("num_of_dependent", 1.0, {"num_of_dependent": constant(ref.num_of_dependent)}),
        ("lama_bekerja", 1.0, {"lama_bekerja": constant(ref.lama_bekerja)}),
    ]
    for attribute in CATEGORY_FIELDS:
        for category, weight in ref.categories[attribute]:
            variants.append((attribute, weight, {attribute: constant(category, object)}))
    return variants


def stacked(columns: dict[str, np.ndarray], variants) -> dict[str, np.ndarray]:
    """One set of columns: the applicants, then one block of the same applicants per variant."""
    return {
        name: np.concatenate([column, *(changes.get(name, column) for _, _, changes in variants)])
        for name, column in columns.items()
    }


def typical_probability(per_variant: np.ndarray, variants) -> np.ndarray:
    """n × groups: PD of each applicant with the group made typical (weighted over the group's
    variants), columns in :data:`REASON_GROUPS` order; ``per_variant`` is variants × n."""
    typical: dict[str, np.ndarray] = {}
    for (group, weight, _), values in zip(variants, per_variant, strict=True):
        typical[group] = typical.get(group, 0.0) + weight * values
    return np.column_stack([typical[group] for group in REASON_GROUPS])


def log_odds(probability: np.ndarray) -> np.ndarray:
    clipped = np.minimum(np.maximum(probability, 1e-9), 1 - 1e-9)
    return np.log(clipped) - np.log1p(-clipped)


def occlusion_probabilities(model, columns: dict[str, np.ndarray], references: ReferenceValues, chunk_size: int):
    """``(probability, typical)``: each applicant's NPL probability (n) and, per reason group, the
    probability with that group made typical (n × groups, :data:`REASON_GROUPS` order). The
    applicants and their variants go through ``model.predict_npl_probability`` in one call per
    chunk of ``chunk_size`` applicants (which bounds the memory)."""
    n = len(columns["otr"])
    probability = np.empty(n, dtype=np.float64)
    typical = np.empty((n, len(REASON_GROUPS)), dtype=np.float64)
    for start in range(0, n, chunk_size):
        part = {name: values[start : start + chunk_size] for name, values in columns.items()}
        end = start + len(part["otr"])
        variants = occlusion_variants(part, references)
        probability_all = model.predict_npl_probability(stacked(part, variants))
        probability[start:end] = probability_all[: end - start]
        per_variant = probability_all[end - start :].reshape(len(variants), end - start)
        typical[start:end] = typical_probability(per_variant, variants)
    return probability, typical


@dataclass(frozen=True)
class ChosenReasons:
    """Which groups explain each applicant, strongest first (see "Which reasons are shown" in
    :mod:`scoring.engine`): ``chosen[i, :count[i]]`` are indices into :data:`REASON_GROUPS`."""

    effect: np.ndarray  # n × groups, probability points
    log_odds_effect: np.ndarray  # n × groups
    chosen: np.ndarray  # n × REASON_COUNT
    count: np.ndarray  # n


def choose_reasons(probability: np.ndarray, typical: np.ndarray, recommendation) -> ChosenReasons:
    """For approval the groups that lower the risk most, for decline those that raise it most, for
    review the strongest either way; ranked by the effect on the log-odds of NPL."""
    effect = probability[:, None] - typical
    odds = log_odds(np.concatenate([probability[:, None], typical], axis=1))
    log_odds_effect = odds[:, :1] - odds[:, 1:]
    recommendation = np.asarray(recommendation, dtype=object)[:, None]
    wanted = np.where(
        recommendation == APPROVE,
        log_odds_effect < 0,
        np.where(recommendation == DECLINE, log_odds_effect > 0, True),
    ) & (np.abs(log_odds_effect) >= MIN_LOG_ODDS_EFFECT)
    key = np.where(wanted, -np.abs(log_odds_effect), np.inf)  # strongest first; unwanted ones last, then cut
    chosen = np.argsort(key, axis=1, kind="stable")[:, :REASON_COUNT]
    count = np.minimum(wanted.sum(axis=1), REASON_COUNT)
    return ChosenReasons(effect=effect, log_odds_effect=log_odds_effect, chosen=chosen, count=count)
