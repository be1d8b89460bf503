"""The scoring engine: the active model version, applied to applicants, with reasons.

**Which model.** The active version is read from the database on every call (one indexed query on
``ModelVersion.is_active``), so every web and worker process follows an activation at once, without
a restart and without anything in process memory that two processes could disagree about. Its
artifact is loaded once per process and kept in a small cache keyed by (version id, artifact
SHA-256, artifact path); :func:`training.artifacts.load_artifact` verifies the SHA-256 before
unpickling. Every use also compares the file's ``stat`` signature with the one it had when it was
verified (one ``stat`` call), so a cached artifact whose file was deleted or altered since is loaded
and verified again: every process then refuses it, not only the ones started after the change.
No active version → :class:`NoActiveModelError`; an artifact that is missing or fails its integrity
check → :class:`ModelArtifactUnavailableError` (logged). The API answers both with 503.

**What it computes**, vectorised over a frame of applicants (the nine attributes): the calibrated
NPL probability, the label at the version's threshold, then the scorecard figures of
:mod:`scoring.scorecard` (credit score, grade, expected loss, recommendation), and the reasons.

**Reasons: attribute occlusion.** For each applicant and each *attribute group* below, the engine
replaces the group with the reference value of a typical training applicant and scores again; the
group's effect is ``PD(applicant) − PD(applicant with that group made typical)``, in probability
points. A positive effect means the applicant's value raises the risk compared with a typical
applicant. The method only needs the model's probabilities, so it works the same for every
algorithm training can choose (logistic regression, trees, forests, k-NN, XGBoost), and it
speaks in the nine attributes an analyst knows rather than in encoded features. All variants of
all applicants go through the model in one call. Groups:

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

The top :data:`REASON_COUNT` reasons are the groups that raise the risk most; when fewer groups
raise it, the ones that lower it most follow. Each is worded for an analyst through gettext, e.g.
"Down payment is 5 % of the vehicle price (low) — raises risk".
"""

from __future__ import annotations

import functools
import logging
import threading
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from django.utils.formats import get_format, number_format
from django.utils.translation import gettext

from training.encoder import APPLICANT_ATTRIBUTES, CATEGORICAL_ATTRIBUTES

from . import scorecard

logger = logging.getLogger(__name__)

REASON_COUNT = 3
# Loaded artifacts kept per process: the active one and the one before it (a quick switch back).
_CACHE_SIZE = 2
INTEGER_ATTRIBUTES = ["monthly_income", "num_of_dependent", "lama_bekerja", "otr", "tenor", "dp"]
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


class ScoringUnavailableError(Exception):
    """Scoring cannot run at all right now; the message says why and what to do."""


class NoActiveModelError(ScoringUnavailableError):
    pass


class ModelArtifactUnavailableError(ScoringUnavailableError):
    pass


@dataclass(frozen=True)
class ActiveVersion:
    """The columns of the active ``ModelVersion`` that scoring needs (one cheap query)."""

    id: int
    name: str
    threshold: float
    artifact_sha256: str
    artifact_path: str

    @property
    def cache_key(self) -> tuple:
        return (self.id, self.artifact_sha256, self.artifact_path)


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
        for attribute, known in zip(CATEGORICAL_ATTRIBUTES, encoder.one_hot_.categories_, strict=True):
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


@dataclass
class LoadedModel:
    version: ActiveVersion
    model: object  # training.trained_model.TrainedNplModel
    references: ReferenceValues
    model_version: object  # the training.models.ModelVersion row as it was when loaded
    file_signature: tuple | None = None  # training.artifacts.artifact_file_signature when verified


@dataclass
class EngineScores:
    """Scores of n applicants, as parallel arrays / lists (index i is the i-th input row)."""

    version: ActiveVersion
    npl_probability: np.ndarray
    is_npl: np.ndarray
    credit_score: np.ndarray
    risk_grade: np.ndarray
    expected_loss: np.ndarray
    recommendation: np.ndarray
    reasons: list[list[dict]]

    def __len__(self) -> int:
        return len(self.npl_probability)

    def row(self, i: int) -> dict:
        return {
            "npl_probability": float(self.npl_probability[i]),
            "is_npl": bool(self.is_npl[i]),
            "threshold": self.version.threshold,
            "credit_score": int(self.credit_score[i]),
            "risk_grade": str(self.risk_grade[i]),
            "expected_loss": int(self.expected_loss[i]),
            "recommendation": str(self.recommendation[i]),
            "reasons": self.reasons[i],
        }


class ScoringEngine:
    """Scores applicants with the active model version; one instance per process (:data:`engine`)."""

    def __init__(self):
        self._cache: OrderedDict[tuple, LoadedModel] = OrderedDict()
        self._lock = threading.Lock()

    # -- which model --------------------------------------------------------------------------

    def active_version(self) -> ActiveVersion:
        from training.models import ModelVersion

        # Hand-written SQL through Manager.raw: it runs on every score, and compiling the same
        # query through the ORM costs about three times as much CPU as running it.
        rows = list(ModelVersion.objects.raw(_active_version_sql(), [True]))
        if not rows:
            raise NoActiveModelError(
                gettext("No model version is active: a model admin must train a model or activate a version.")
            )
        row = rows[0]
        return ActiveVersion(row.id, row.name, row.threshold, row.artifact_sha256, row.artifact_path)

    def loaded_model(self, version: ActiveVersion | None = None) -> LoadedModel:
        from training.artifacts import artifact_file_signature

        version = version or self.active_version()
        signature = artifact_file_signature(version.artifact_path)
        loaded = self._cache.get(version.cache_key)
        if loaded is not None and loaded.file_signature == signature:
            return loaded
        with self._lock:
            loaded = self._cache.get(version.cache_key)
            if loaded is None or loaded.file_signature != signature:
                # Not loaded in this process yet, or its file was deleted or changed since it was
                # verified: load and verify it again (a missing or altered file raises).
                self._cache.pop(version.cache_key, None)
                loaded = self._load(version, signature)
                self._cache[version.cache_key] = loaded
                while len(self._cache) > _CACHE_SIZE:
                    self._cache.popitem(last=False)
        return loaded

    def _load(self, version: ActiveVersion, signature: tuple | None) -> LoadedModel:
        from training.artifacts import ArtifactIntegrityError, load_artifact
        from training.models import ModelVersion

        model_version = ModelVersion.objects.get(pk=version.id)
        try:
            model = load_artifact(model_version)
        except ArtifactIntegrityError as exc:
            logger.error(
                "Cannot load the artifact of active model version %s (%s): %s",
                version.id,
                version.artifact_path,
                exc,
            )
            raise ModelArtifactUnavailableError(
                gettext(
                    "The active model version #%(id)s cannot be used: its artifact file is missing or failed its "
                    "integrity check (the server log has the details). A model admin must activate another "
                    "version or retrain."
                )
                % {"id": version.id}
            ) from exc
        logger.info("Loaded model version %s (%s) for scoring", version.id, version.name)
        return LoadedModel(
            version=version,
            model=model,
            references=ReferenceValues.of(model),
            model_version=model_version,
            file_signature=signature,
        )

    def clear_cache(self) -> None:
        """Forget every loaded artifact (the next score loads the active one again)."""
        with self._lock:
            self._cache.clear()

    # -- scoring ------------------------------------------------------------------------------

    def score(self, applicants: pd.DataFrame | Mapping[str, Sequence], *, with_reasons: bool = True) -> EngineScores:
        """Score valid applicants (validate them first): a frame, or a mapping of the nine attributes to columns."""
        loaded = self.loaded_model()
        columns = _columns_of(applicants)
        n = len(columns["otr"])
        variants = _occlusion_variants(columns, loaded.references) if with_reasons else []
        stacked = _stacked([columns] + [variant for _, _, variant in variants])
        probability_all = np.asarray(loaded.model.predict_npl_probability(stacked), dtype=np.float64)
        probability = probability_all[:n]
        parameters = scorecard.scorecard_parameters()
        is_npl = probability >= loaded.version.threshold
        score = scorecard.credit_score(probability, parameters)
        reasons = [[] for _ in range(n)]
        if with_reasons:
            typical = _group_effects(probability, probability_all[n:], variants, n)
            reasons = _top_reasons(columns, probability, typical, loaded.references)
        return EngineScores(
            version=loaded.version,
            npl_probability=probability,
            is_npl=is_npl,
            credit_score=score,
            risk_grade=scorecard.risk_grade(score, parameters),
            expected_loss=scorecard.expected_loss(probability, columns["otr"], columns["dp"], parameters),
            recommendation=scorecard.recommendation(probability, is_npl, score, parameters),
            reasons=reasons,
        )


engine = ScoringEngine()


@functools.cache
def _active_version_sql() -> str:
    from django.db import connection

    from training.models import ModelVersion

    meta, quote = ModelVersion._meta, connection.ops.quote_name
    columns = ", ".join(quote(meta.get_field(name).column) for name in ActiveVersion.__dataclass_fields__)
    table, active = quote(meta.db_table), quote(meta.get_field("is_active").column)
    return f"SELECT {columns} FROM {table} WHERE {active} = %s"  # noqa: S608 (quoted names; values are parameters)


# --------------------------------------------------------------------------------------------
# Occlusion
# --------------------------------------------------------------------------------------------


def _columns_of(applicants) -> dict[str, np.ndarray]:
    columns = {}
    for name in APPLICANT_ATTRIBUTES:
        values = np.asarray(applicants[name])
        columns[name] = values.astype(np.int64) if name in INTEGER_ATTRIBUTES else values.astype(object)
    return columns


def _stacked(parts: list[dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
    """The applicants and their variants, one after the other, as columns for the model (no
    DataFrame: building one costs more than the model call on a few rows)."""
    if len(parts) == 1:
        return parts[0]
    return {name: np.concatenate([part[name] for part in parts]) for name in APPLICANT_ATTRIBUTES}


def _occlusion_variants(columns: dict[str, np.ndarray], ref: ReferenceValues) -> list[tuple[str, float, dict]]:
    """``[(group, weight, columns with the group made typical)]`` in :data:`REASON_GROUPS` order."""
    n = len(columns["otr"])
    otr, dp = columns["otr"], columns["dp"]

    def replaced(**changes):
        variant = dict(columns)
        variant.update(changes)
        return variant

    def constant(value):
        return np.full(n, value, dtype=np.int64)

    with np.errstate(divide="ignore", invalid="ignore"):
        own_ratio = np.where(otr > 0, dp / np.where(otr > 0, otr, 1), ref.dp_ratio)
    variants = [
        ("monthly_income", 1.0, replaced(monthly_income=constant(ref.monthly_income))),
        ("dp", 1.0, replaced(dp=np.rint(ref.dp_ratio * otr).astype(np.int64))),
        (
            "otr",
            1.0,
            replaced(otr=constant(ref.otr), dp=np.rint(own_ratio * ref.otr).astype(np.int64)),
        ),
        ("tenor", 1.0, replaced(tenor=constant(ref.tenor))),
        ("num_of_dependent", 1.0, replaced(num_of_dependent=constant(ref.num_of_dependent))),
        ("lama_bekerja", 1.0, replaced(lama_bekerja=constant(ref.lama_bekerja))),
    ]
    for attribute in CATEGORICAL_ATTRIBUTES:
        for category, weight in ref.categories[attribute]:
            variants.append((attribute, weight, replaced(**{attribute: np.full(n, category, dtype=object)})))
    return variants


def _group_effects(probability: np.ndarray, variant_probability: np.ndarray, variants, n: int) -> dict[str, np.ndarray]:
    """group → PD of the applicant with that group made typical (weighted over the group's variants)."""
    per_variant = variant_probability.reshape(len(variants), n)
    typical: dict[str, np.ndarray] = {}
    for (group, weight, _), values in zip(variants, per_variant, strict=True):
        typical[group] = typical.get(group, 0.0) + weight * values
    return typical


def _log_odds(probability: np.ndarray) -> np.ndarray:
    clipped = np.clip(probability, 1e-9, 1 - 1e-9)
    return np.log(clipped) - np.log1p(-clipped)


def _top_reasons(columns, probability: np.ndarray, typical: dict[str, np.ndarray], ref: ReferenceValues):
    """The :data:`REASON_COUNT` strongest reasons per applicant.

    Groups are ranked by their effect on the log-odds of NPL, which stays informative when the
    probability is close to 0 or 1 (where probability differences all shrink towards zero); each
    reason reports the effect in probability points too. Raising groups come first (largest first),
    then lowering ones (most lowering first); changes below 0.01 in log-odds are left out as noise.
    """
    groups = list(REASON_GROUPS)
    own = _log_odds(probability)
    log_odds_effect = np.column_stack([own - _log_odds(typical[group]) for group in groups])  # n × groups
    key = np.where(log_odds_effect > 0, -log_odds_effect, 1e6 + log_odds_effect)
    order = np.argsort(key, axis=1, kind="stable")
    reasons = []
    wording = _Wording()
    for i, row_order in enumerate(order):
        chosen = [j for j in row_order if abs(log_odds_effect[i, j]) >= 0.01][:REASON_COUNT]
        reasons.append(
            [
                _reason(
                    groups[j],
                    float(probability[i] - typical[groups[j]][i]),
                    float(log_odds_effect[i, j]),
                    columns,
                    i,
                    ref,
                    wording,
                )
                for j in chosen
            ]
        )
    return reasons


class _Wording:
    """The active language's translations and number formats, for one scoring call.

    Django looks the language up again on every ``gettext`` and ``number_format`` call; for a
    batch that was about 90 % of the engine's time (seven translated strings a reason, three
    reasons an applicant). Within one call the language cannot change, so each string is
    translated once, and rupiah amounts are grouped with the language's thousands separator
    directly (``number_format(..., force_grouping=True)`` gives the same text; a test holds them
    equal in both languages).
    """

    def __init__(self):
        self.gettext = functools.cache(gettext)
        self.percent = functools.cache(_percent)
        self.thousands_separator = get_format("THOUSAND_SEPARATOR")

    def rupiah(self, value: int) -> str:
        return "Rp " + f"{int(value):,}".replace(",", self.thousands_separator)


def _percent(ratio: float) -> str:
    return number_format(round(ratio * 100, 1), decimal_pos=0 if abs(ratio * 100 - round(ratio * 100)) < 0.05 else 1)


def _reason(
    group: str, effect: float, log_odds_effect: float, columns, i: int, ref: ReferenceValues, wording: _Wording
) -> dict:
    """One reason, structured and worded: attribute, value, typical value, effect, direction, text."""
    gettext, rupiah, percent = wording.gettext, wording.rupiah, wording.percent
    raises = log_odds_effect > 0
    value = columns[group][i]
    value = value.item() if hasattr(value, "item") else value
    otr, dp = int(columns["otr"][i]), int(columns["dp"][i])
    if group == "dp":
        ratio = dp / otr if otr > 0 else 0.0
        label = gettext("Down payment")
        described = gettext("Down payment is %(percent)s %% of the vehicle price") % {"percent": percent(ratio)}
        qualifier = _qualifier(ratio, ref.dp_ratio, gettext("low"), gettext("high"), tolerance=0.005)
        typical = gettext("%(percent)s %% of the vehicle price") % {"percent": percent(ref.dp_ratio)}
    elif group == "otr":
        label = gettext("Vehicle price")
        described = gettext("Vehicle price (OTR) is %(amount)s") % {"amount": rupiah(otr)}
        qualifier = _qualifier(otr, ref.otr, gettext("low"), gettext("high"), relative=True)
        typical = rupiah(ref.otr)
    elif group == "monthly_income":
        label = gettext("Monthly income")
        described = gettext("Monthly income is %(amount)s") % {"amount": rupiah(value)}
        qualifier = _qualifier(value, ref.monthly_income, gettext("low"), gettext("high"), relative=True)
        typical = rupiah(ref.monthly_income)
    elif group == "tenor":
        label = gettext("Tenor")
        described = gettext("Tenor is %(months)s months") % {"months": value}
        qualifier = _qualifier(value, ref.tenor, gettext("short"), gettext("long"))
        typical = gettext("%(months)s months") % {"months": ref.tenor}
    elif group == "num_of_dependent":
        label = gettext("Number of dependants")
        described = gettext("Number of dependants is %(count)s") % {"count": value}
        qualifier = _qualifier(value, ref.num_of_dependent, gettext("few"), gettext("many"))
        typical = str(ref.num_of_dependent)
    elif group == "lama_bekerja":
        label = gettext("Years in current job")
        described = gettext("Years in current job is %(years)s") % {"years": value}
        qualifier = _qualifier(value, ref.lama_bekerja, gettext("short"), gettext("long"))
        typical = str(ref.lama_bekerja)
    else:
        label = {
            "housing_type": gettext("Housing"),
            "status_pernikahan": gettext("Marital status"),
            "pekerjaan": gettext("Occupation"),
        }[group]
        described = gettext("%(label)s is %(value)s") % {"label": label, "value": value}
        qualifier = ""
        choices = ref.categories[group]
        typical = choices[0][0] if len(choices) == 1 else gettext("the average of all categories")
    if qualifier:
        described = gettext("%(described)s (%(qualifier)s)") % {"described": described, "qualifier": qualifier}
    if group == "otr":
        described = gettext("%(described)s, %(financed)s financed") % {
            "described": described,
            "financed": rupiah(max(otr - dp, 0)),
        }
    consequence = gettext("raises risk") if raises else gettext("lowers risk")
    return {
        "attribute": group,
        "label": label,
        "value": value,
        "typical_value": typical,
        "direction": "raises" if raises else "lowers",
        "effect": round(effect, 4),
        "text": gettext("%(described)s — %(consequence)s") % {"described": described, "consequence": consequence},
    }


def _qualifier(value, reference, low: str, high: str, *, tolerance: float = 0.0, relative: bool = False) -> str:
    margin = abs(reference) * 0.05 if relative else tolerance
    if value < reference - margin:
        return low
    if value > reference + margin:
        return high
    return ""
