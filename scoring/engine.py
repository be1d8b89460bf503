"""The scoring engine: the active model version, applied to applicants, with reasons.

**Which model.** The active version is read from the database (one indexed query on
``ModelVersion.is_active``), again whenever the last reading is more than
``settings.SCORING_ACTIVE_VERSION_RECHECK_SECONDS`` old (default 1 s), so every web and worker process
follows an activation within that time, without a restart; the process that activates (or saves any
``ModelVersion``) forgets its reading at once (:func:`training.signals.active_version_changed`).
Between readings no query is made: a score then costs no database round trip before its INSERT.
``0`` reads it on every call. Its
artifact is loaded once per process and kept in a small cache keyed by (version id, artifact
SHA-256, artifact path); :func:`training.artifacts.load_artifact` verifies the SHA-256 before
unpickling. Within the same recheck time, the file's ``stat`` signature is compared with the one it
had when it was verified (one ``stat`` call), so a cached artifact whose file was deleted or altered
since is loaded and verified again: every process then refuses it, not only the ones started after
the change.
No active version → :class:`NoActiveModelError`; an artifact that is missing or fails its integrity
check → :class:`ModelArtifactUnavailableError` (logged). The API answers both with 503.

**What it computes**, vectorised over a frame of applicants (the nine attributes): the calibrated
NPL probability, the label at the version's threshold, then the scorecard figures of
:mod:`scoring.scorecard` (credit score, grade, expected loss, recommendation) under the active
decision policy (:func:`scoring.policies.current_policy`, followed like the active version), and the reasons.

**Reasons: attribute occlusion.** For each applicant and each *attribute group* below, the engine
replaces the group with the reference value of a typical training applicant and scores again; the
group's effect is ``PD(applicant) − PD(applicant with that group made typical)``, in probability
points. A positive effect means the applicant's value raises the risk compared with a typical
applicant. The method only needs the model's probabilities, so it works the same for every
algorithm training can choose (logistic regression, trees, forests, k-NN, XGBoost), and it
speaks in the nine attributes an analyst knows rather than in encoded features. All variants of
all applicants go through the model in one call (per chunk of :data:`CHUNK_SIZE` applicants in a
large batch, where a variant that would not change an applicant, who already has the typical
value, is not scored again); the encoder builds the variants' features from the applicant's own
(:meth:`training.encoder.ApplicantFeatureEncoder.transform_variants`). Groups:

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
raise it, the ones that lower it most follow. They are chosen for all applicants at once
(:class:`Reasons`) and each applicant's are worded for an analyst through gettext when read, in
the language active when it was scored, e.g. "Down payment is 5 % of the vehicle price (low) —
raises risk".

Why "exact tree contributions" are not used for the tree models: the features mix attributes
(the installment-to-income ratio depends on otr, dp, tenor and income), so per-feature
contributions do not say which attribute to talk about; XGBoost's exact ones (TreeSHAP) cost
about 120 µs an applicant here, twelve times the whole occlusion; and they explain the raw score,
not the calibrated probability the analyst sees. One method for every algorithm also means an
applicant gets the same reasons whichever model is active.
"""

from __future__ import annotations

import functools
import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from django.conf import settings
from django.utils import translation
from django.utils.formats import get_format, number_format
from django.utils.translation import get_language, gettext, gettext_noop

from training.encoder import APPLICANT_ATTRIBUTES, CATEGORICAL_ATTRIBUTES

from . import scorecard
from .policies import ActivePolicy, current_policy

logger = logging.getLogger(__name__)

REASON_COUNT = 3
# Applicants scored per model call in a large batch. With their occlusion variants a chunk is ten
# times as many feature rows (about 8 MB): small enough to stay in the CPU's caches between the
# encoder and the model, large enough that per-call costs vanish (measured: 100,000 applicants
# with reasons in 0.94 s in chunks of 4,096 against 1.46 s in one call).
CHUNK_SIZE = 4096
# From this many applicants on, a variant is scored only for the applicants it changes (finding
# them costs more than it saves for a few applicants).
SKIP_UNCHANGED_FROM = 64
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
_GROUP_INDEX = {group: index for index, group in enumerate(REASON_GROUPS)}


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
    checked_at: float = 0.0  # time.monotonic() when the file's signature was last compared


@dataclass
class EngineScores:
    """Scores of n applicants, as parallel arrays / lists (index i is the i-th input row)."""

    version: ActiveVersion
    model_version: object  # the training.models.ModelVersion row of ``version`` (what a Prediction links to)
    policy: ActivePolicy  # the decision policy the scorecard figures follow (scoring.policies)
    npl_probability: np.ndarray
    is_npl: np.ndarray
    credit_score: np.ndarray
    risk_grade: np.ndarray
    expected_loss: np.ndarray
    recommendation: np.ndarray
    reasons: Sequence[list[dict]]  # Reasons (worded when read), or empty lists without reasons

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
            "policy_id": self.policy.id,
        }


class ScoringEngine:
    """Scores applicants with the active model version; one instance per process (:data:`engine`)."""

    def __init__(self):
        self._cache: OrderedDict[tuple, LoadedModel] = OrderedDict()
        self._lock = threading.Lock()
        self._active: tuple[ActiveVersion, float] | None = None  # the last reading and when (monotonic)

    # -- which model --------------------------------------------------------------------------

    def active_version(self) -> ActiveVersion:
        """The active version as last read from the database, read again when that reading is older
        than ``SCORING_ACTIVE_VERSION_RECHECK_SECONDS`` (see the module docstring)."""
        from django.db import connection

        now = time.monotonic()
        known = self._active
        if known is not None and now - known[1] < settings.SCORING_ACTIVE_VERSION_RECHECK_SECONDS:
            return known[0]
        # Hand-written SQL on a plain cursor: going through the ORM (even Manager.raw) costs several
        # times more CPU than the query itself.
        with connection.cursor() as cursor:
            cursor.execute(_active_version_sql(), [True])
            row = cursor.fetchone()
        if row is None:
            self._active = None  # no reading kept: a version activated next is used at once
            raise NoActiveModelError(
                gettext("No model version is active: a model admin must train a model or activate a version.")
            )
        version = ActiveVersion(*row)
        self._active = (version, now)
        return version

    def forget_active_version(self, **signal_arguments) -> None:
        """Read the active version from the database on the next score (connected to
        :data:`training.signals.active_version_changed` and to saves of ``ModelVersion``)."""
        self._active = None

    def loaded_model(self, version: ActiveVersion | None = None) -> LoadedModel:
        from training.artifacts import artifact_file_signature

        version = version or self.active_version()
        now = time.monotonic()
        loaded = self._cache.get(version.cache_key)
        if loaded is not None and now - loaded.checked_at < settings.SCORING_ACTIVE_VERSION_RECHECK_SECONDS:
            return loaded
        signature = artifact_file_signature(version.artifact_path)
        if loaded is not None and loaded.file_signature == signature:
            loaded.checked_at = now
            return loaded
        with self._lock:
            loaded = self._cache.get(version.cache_key)
            if loaded is None or loaded.file_signature != signature:
                # Not loaded in this process yet, or its file was deleted or changed since it was
                # verified: load and verify it again (a missing or altered file raises).
                self._cache.pop(version.cache_key, None)
                loaded = self._load(version, signature)
                loaded.checked_at = now
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
        model.use_prediction_threads(settings.SCORING_THREADS)
        logger.info("Loaded model version %s (%s) for scoring", version.id, version.name)
        return LoadedModel(
            version=version,
            model=model,
            references=ReferenceValues.of(model),
            model_version=model_version,
            file_signature=signature,
        )

    def clear_cache(self) -> None:
        """Forget every loaded artifact and the active version (the next score reads and loads it again)."""
        with self._lock:
            self._cache.clear()
            self._active = None

    # -- scoring ------------------------------------------------------------------------------

    def score(self, applicants: pd.DataFrame | Mapping[str, Sequence], *, with_reasons: bool = True) -> EngineScores:
        """Score valid applicants (validate them first): a frame, or a mapping of the nine attributes to columns."""
        loaded = self.loaded_model()
        columns = _columns_of(applicants)
        n = len(columns["otr"])
        probability = np.empty(n, dtype=np.float64)
        typical = np.empty((n, len(REASON_GROUPS)), dtype=np.float64) if with_reasons else None
        for start in range(0, n, CHUNK_SIZE):
            part = (
                columns
                if n <= CHUNK_SIZE
                else {name: values[start : start + CHUNK_SIZE] for name, values in columns.items()}
            )
            end = start + len(part["otr"])
            if with_reasons:
                variants = _occlusion_variants(part, loaded.references)
                rows = _changed_rows(part, variants) if end - start >= SKIP_UNCHANGED_FROM else None
                probability_all = loaded.model.predict_npl_probability_of_variants(
                    part, [changes for _, _, changes in variants], rows
                )
                probability[start:end] = probability_all[: end - start]
                typical[start:end] = _typical_probability(probability_all, variants, rows, end - start)
            else:
                probability[start:end] = loaded.model.predict_npl_probability(part)
        policy = current_policy()
        is_npl = probability >= loaded.version.threshold
        decisions = scorecard.decide(probability, is_npl, columns["otr"], columns["dp"], policy.parameters)
        reasons = Reasons(columns, probability, typical, loaded.references) if with_reasons else [[] for _ in range(n)]
        return EngineScores(
            version=loaded.version,
            model_version=loaded.model_version,
            policy=policy,
            npl_probability=probability,
            is_npl=is_npl,
            credit_score=decisions.credit_score,
            risk_grade=decisions.risk_grade,
            expected_loss=decisions.expected_loss,
            recommendation=decisions.recommendation,
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
    return {
        name: np.array(applicants[name], dtype=np.int64 if name in INTEGER_ATTRIBUTES else object)
        for name in APPLICANT_ATTRIBUTES
    }


def _occlusion_variants(columns: dict[str, np.ndarray], ref: ReferenceValues) -> list[tuple[str, float, dict]]:
    """``[(group, weight, changes)]`` in :data:`REASON_GROUPS` order: ``changes`` makes the group typical
    (a variant for :meth:`training.encoder.ApplicantFeatureEncoder.transform_variants`)."""
    n = len(columns["otr"])
    otr, dp = columns["otr"], columns["dp"]

    def constant(value):
        return np.full(n, value, dtype=np.int64)

    own_ratio = np.divide(dp, otr, out=np.full(n, ref.dp_ratio), where=otr > 0)
    variants = [
        ("monthly_income", 1.0, {"monthly_income": constant(ref.monthly_income)}),
        ("dp", 1.0, {"dp": np.rint(ref.dp_ratio * otr).astype(np.int64)}),
        ("otr", 1.0, {"otr": constant(ref.otr), "dp": np.rint(own_ratio * ref.otr).astype(np.int64)}),
        ("tenor", 1.0, {"tenor": constant(ref.tenor)}),
        ("num_of_dependent", 1.0, {"num_of_dependent": constant(ref.num_of_dependent)}),
        ("lama_bekerja", 1.0, {"lama_bekerja": constant(ref.lama_bekerja)}),
    ]
    for attribute in CATEGORICAL_ATTRIBUTES:
        for category, weight in ref.categories[attribute]:
            variants.append((attribute, weight, {attribute: category}))
    return variants


def _changed_rows(columns: dict[str, np.ndarray], variants) -> list[np.ndarray | None]:
    """For each variant, the applicants it changes (``None``: all of them). An applicant who already
    has the typical value gets exactly its own probability from that variant, so the model need
    not score it again: in the generated books that is about a fifth of all variant rows (a
    standard tenor, the usual number of dependants, the most frequent categories)."""
    rows = []
    for _, _, changes in variants:
        changed = np.zeros(len(columns["otr"]), dtype=bool)
        for name, value in changes.items():
            changed |= columns[name] != value
        rows.append(None if changed.all() else np.flatnonzero(changed))
    return rows


def _typical_probability(probability_all: np.ndarray, variants, rows, n: int) -> np.ndarray:
    """n × groups: PD of each applicant with the group made typical (weighted over the group's variants),
    columns in :data:`REASON_GROUPS` order, from the probabilities of the applicants and their variants."""
    if rows is None:
        per_variant = probability_all[n:].reshape(len(variants), n)
    else:  # an applicant left out of a variant's rows keeps its own probability there
        own = probability_all[:n]
        per_variant = np.empty((len(variants), n), dtype=np.float64)
        start = n
        for k, chosen in enumerate(rows):
            size = n if chosen is None else len(chosen)
            if chosen is None:
                per_variant[k] = probability_all[start : start + size]
            else:
                per_variant[k] = own
                per_variant[k, chosen] = probability_all[start : start + size]
            start += size
    if [group for group, _, _ in variants] == list(REASON_GROUPS) and all(weight == 1.0 for _, weight, _ in variants):
        return per_variant.T  # one variant per group, in group order: the usual case
    typical: dict[str, np.ndarray] = {}
    for (group, weight, _), values in zip(variants, per_variant, strict=True):
        typical[group] = typical.get(group, 0.0) + weight * values  # in variant order
    return np.column_stack([typical[group] for group in REASON_GROUPS])


def _log_odds(probability: np.ndarray) -> np.ndarray:
    clipped = np.minimum(np.maximum(probability, 1e-9), 1 - 1e-9)
    return np.log(clipped) - np.log1p(-clipped)


class Reasons(Sequence):
    """The top :data:`REASON_COUNT` reasons of each scored applicant: ``reasons[i]`` is applicant
    ``i``'s list of reason dicts (see :func:`_reason`).

    Which groups they are, in which order, is decided for every applicant at once when scoring
    (vectorised below); each applicant's reasons are worded when read, in the language that was
    active when it was scored. Wording is Python code per reason, about as costly as the rest of
    scoring for a large batch, and not every caller reads every applicant's reasons.

    Groups are ranked by their effect on the log-odds of NPL, which stays informative when the
    probability is close to 0 or 1 (where probability differences all shrink towards zero); each
    reason reports the effect in probability points too. Raising groups come first (largest first),
    then lowering ones (most lowering first); changes below 0.01 in log-odds are left out as noise.
    """

    def __init__(self, columns, probability: np.ndarray, typical: np.ndarray, references: ReferenceValues):
        self._columns, self._references = columns, references
        self._wording = _Wording.active()
        self._values: dict[str, list] | None = None
        self._typical: dict[str, str] = {}
        self._effect = probability[:, None] - typical  # n × groups, probability points
        log_odds = _log_odds(np.concatenate([probability[:, None], typical], axis=1))
        effect = self._log_odds_effect = log_odds[:, :1] - log_odds[:, 1:]
        key = np.where(effect > 0, -effect, 1e6 + effect)
        noise = np.abs(effect) < 0.01
        key[noise] = 2e6  # after every reason, and cut below
        self._chosen = np.argsort(key, axis=1, kind="stable")[:, :REASON_COUNT]
        self._count = np.minimum(len(REASON_GROUPS) - noise.sum(axis=1), REASON_COUNT)

    def __len__(self) -> int:
        return len(self._chosen)

    def __getitem__(self, i):
        if isinstance(i, slice):
            return [self[j] for j in range(*i.indices(len(self)))]
        i = range(len(self))[i]  # negative indices; IndexError beyond the end
        if self._values is None:  # Python values, read once: indexing numpy arrays costs more per value
            self._values = {name: column.tolist() for name, column in self._columns.items()}
            self._typical = {}
        values = {name: column[i] for name, column in self._values.items()}
        return [
            _reason(
                REASON_GROUPS[j],
                float(self._effect[i, j]),
                float(self._log_odds_effect[i, j]),
                values,
                self._references,
                self._wording,
                self._typical,
            )
            for j in self._chosen[i, : self._count[i]].tolist()
        ]


class _Wording:
    """One language's translations and number formats for reasons, kept per process.

    Django looks the language up again on every ``gettext`` and ``number_format`` call; for a
    batch that was about 90 % of the engine's time (seven translated strings a reason, three
    reasons an applicant), and for one applicant still a third. The compiled catalogues are read
    once per process anyway, so :meth:`active` keeps one instance per language (a changed catalogue
    is used after a restart, as Django's own are in production), which translates each
    string once (in its own language, whatever is active when a reason is worded later) and
    groups rupiah amounts with the language's thousands separator directly
    (``number_format(..., force_grouping=True)`` gives the same text; a test holds them equal in
    both languages). Percentages are one decimal at most, so their cache stays small.
    """

    _by_language: dict[str | None, _Wording] = {}
    _MAX_PERCENTAGES = 10_000

    @classmethod
    def active(cls) -> _Wording:
        language = get_language()
        wording = cls._by_language.get(language)
        if wording is None:
            wording = cls._by_language[language] = cls(language)
        return wording

    def __init__(self, language: str | None):
        self.language = language
        self.thousands_separator = get_format("THOUSAND_SEPARATOR", language)
        self._translations: dict[str, str] = {}
        self._percentages: dict[tuple[float, int], str] = {}

    def gettext(self, text: str) -> str:
        translated = self._translations.get(text)
        if translated is None:
            with translation.override(self.language):
                translated = self._translations[text] = gettext(text)
        return translated

    def percent(self, ratio: float) -> str:
        """``0.2`` → ``"20"``, ``0.125`` → ``"12.5"`` (``"12,5"`` in Indonesian)."""
        percentage = round(ratio * 100, 1)
        decimals = 0 if abs(ratio * 100 - round(ratio * 100)) < 0.05 else 1
        text = self._percentages.get((percentage, decimals))
        if text is None:
            with translation.override(self.language):
                text = number_format(percentage, decimal_pos=decimals)
            if len(self._percentages) >= self._MAX_PERCENTAGES:
                self._percentages.clear()
            self._percentages[percentage, decimals] = text
        return text

    def rupiah(self, value: int) -> str:
        return "Rp " + f"{int(value):,}".replace(",", self.thousands_separator)


def _reason(
    group: str,
    effect: float,
    log_odds_effect: float,
    values: dict,
    ref: ReferenceValues,
    wording: _Wording,
    typical_texts: dict[str, str],
) -> dict:
    """One reason, structured and worded: attribute, value, typical value, effect, direction, text.

    ``values``: the applicant's nine attributes; ``typical_texts``: the typical value of each
    group as worded so far for these references and this wording (filled here, the same for every
    applicant of a scoring call)."""
    gettext, rupiah, percent = wording.gettext, wording.rupiah, wording.percent
    raises = log_odds_effect > 0
    value = values[group]
    otr, dp = values["otr"], values["dp"]
    typical = typical_texts.get(group)
    if typical is None:
        typical = typical_texts[group] = _typical_text(group, ref, wording)
    if group == "dp":
        ratio = dp / otr if otr > 0 else 0.0
        label = gettext("Down payment")
        described = gettext("Down payment is %(percent)s %% of the vehicle price") % {"percent": percent(ratio)}
        qualifier = _qualifier(ratio, ref.dp_ratio, gettext("low"), gettext("high"), tolerance=0.005)
    elif group == "otr":
        label = gettext("Vehicle price")
        described = gettext("Vehicle price (OTR) is %(amount)s") % {"amount": rupiah(otr)}
        qualifier = _qualifier(otr, ref.otr, gettext("low"), gettext("high"), relative=True)
    elif group == "monthly_income":
        label = gettext("Monthly income")
        described = gettext("Monthly income is %(amount)s") % {"amount": rupiah(value)}
        qualifier = _qualifier(value, ref.monthly_income, gettext("low"), gettext("high"), relative=True)
    elif group == "tenor":
        label = gettext("Tenor")
        described = gettext("Tenor is %(months)s months") % {"months": value}
        qualifier = _qualifier(value, ref.tenor, gettext("short"), gettext("long"))
    elif group == "num_of_dependent":
        label = gettext("Number of dependants")
        described = gettext("Number of dependants is %(count)s") % {"count": value}
        qualifier = _qualifier(value, ref.num_of_dependent, gettext("few"), gettext("many"))
    elif group == "lama_bekerja":
        label = gettext("Years in current job")
        described = gettext("Years in current job is %(years)s") % {"years": value}
        qualifier = _qualifier(value, ref.lama_bekerja, gettext("short"), gettext("long"))
    else:
        label = gettext(_CATEGORY_LABELS[group])
        described = gettext("%(label)s is %(value)s") % {"label": label, "value": value}
        qualifier = ""
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


_CATEGORY_LABELS = {
    "housing_type": gettext_noop("Housing"),
    "status_pernikahan": gettext_noop("Marital status"),
    "pekerjaan": gettext_noop("Occupation"),
}


def _typical_text(group: str, ref: ReferenceValues, wording: _Wording) -> str:
    """How a reason words the typical value of its group."""
    if group == "dp":
        return wording.gettext("%(percent)s %% of the vehicle price") % {"percent": wording.percent(ref.dp_ratio)}
    if group in ("otr", "monthly_income"):
        return wording.rupiah(getattr(ref, group))
    if group == "tenor":
        return wording.gettext("%(months)s months") % {"months": ref.tenor}
    if group in ("num_of_dependent", "lama_bekerja"):
        return str(getattr(ref, group))
    choices = ref.categories[group]
    return choices[0][0] if len(choices) == 1 else wording.gettext("the average of all categories")


def _qualifier(value, reference, low: str, high: str, *, tolerance: float = 0.0, relative: bool = False) -> str:
    margin = abs(reference) * 0.05 if relative else tolerance
    if value < reference - margin:
        return low
    if value > reference + margin:
        return high
    return ""
