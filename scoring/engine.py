"""The scoring engine: the active model version, applied to applicants, with reasons.

**Which model.** The active version is read through the ORM
(:func:`training.selectors.get_active_model_version`, one indexed query) and the reading kept for
``settings.SCORING_ACTIVE_VERSION_RECHECK_SECONDS`` (default 1 s; the active decision policy's
reading too): every web and worker process follows an activation within that time, without a
restart, and the process that activates at once (:data:`training.signals.active_version_changed`).
The reading is kept because the query (compiling it, mostly) cost a third of scoring one
applicant, which the engine's budget (1.5 ms with reasons, ``benchmarks/scoring_speed.py``) does
not allow. Its artifact is loaded once per
process and kept in a small cache keyed by (version id, artifact SHA-256, artifact path);
:func:`training.artifacts.load_artifact` verifies the SHA-256 before unpickling. Whenever the active
version is read, the file's ``stat`` signature is compared with the one it had when it was
verified (one ``stat`` call), so a cached artifact whose file was deleted or altered since is
loaded and verified again: every process then refuses it, not only the ones started after the
change.
No active version → :class:`NoActiveModelError`; an artifact that is missing or fails its integrity
check → :class:`ModelArtifactUnavailableError` (logged). The API answers both with 503.

**What it computes**, vectorised over a frame of applicants (the nine attributes): the calibrated
NPL probability (:meth:`credit.trained_model.TrainedNplModel.predict_npl_probability`: the
model's own calibrator on the pipeline's score),
the NPL flag at the version's threshold (chosen on validation data at the recall target), then the scorecard figures
of :mod:`credit.scorecard` (credit score, grade, expected loss, recommendation) under the active
decision policy (:func:`scoring.policies.current_policy`, followed like the active version), and
the reasons.

**Reasons**: attribute occlusion, computed by :mod:`credit.reasons` (how, and why that method).

**Which reasons are shown** follows the recommendation, so that they explain it: for an applicant
recommended for approval, the (up to :data:`REASON_COUNT`) groups that *lower* the risk most; for
one recommended for decline, those that *raise* it most; for one sent to review, the strongest
either way (largest effect, whichever direction). Groups are ranked by their effect on the
log-odds of NPL, which stays informative near 0 and 1; effects below 0.01 in log-odds are left
out as noise. Each reason is data — the applicant's value beside the typical value it was
compared with (:class:`Reasons`) — and is worded when shown, in the reader's language
(:mod:`scoring.reason_wording`), e.g. "Down payment: 5 % of the vehicle price; typical 20 % of the
vehicle price — raises risk".

"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from django.conf import settings
from django.utils.translation import gettext

from credit import scorecard
from credit.reasons import (
    REASON_GROUPS,
    ReferenceValues,
    choose_reasons,
    columns_of,
    occlusion_probabilities,
)
from credit.training_range import outside_training
from scoring.policies import ActivePolicy, current_policy

logger = logging.getLogger(__name__)

# Applicants scored per model call in a large batch: with their occlusion variants a chunk is ten
# times as many rows, so this bounds the memory a batch of any size needs.
CHUNK_SIZE = 4096
# Loaded artifacts kept per process: the active one and the one before it (a quick switch back).
CACHE_SIZE = 2


class ScoringUnavailableError(Exception):
    """Scoring cannot run at all right now; the message says why and what to do."""


class NoActiveModelError(ScoringUnavailableError):
    pass


class ModelArtifactUnavailableError(ScoringUnavailableError):
    pass


@dataclass
class LoadedModel:
    model_version: object  # the training.models.ModelVersion row as it was when loaded
    model: object  # credit.trained_model.TrainedNplModel
    references: ReferenceValues
    file_signature: tuple | None = None  # training.artifacts.artifact_file_signature when verified


@dataclass
class EngineScores:
    """Scores of n applicants, as parallel arrays / lists (index i is the i-th input row)."""

    model_version: object  # the training.models.ModelVersion that scored them (what a Prediction links to)
    policy: ActivePolicy  # the decision policy the scorecard figures follow (scoring.policies)
    npl_probability: np.ndarray
    is_npl: np.ndarray
    credit_score: np.ndarray
    risk_grade: np.ndarray
    expected_loss: np.ndarray
    recommendation: np.ndarray
    knockout_rule: np.ndarray  # the policy's knock-out rule that decided ("" where the score did)
    reasons: Sequence[list[dict]]  # Reasons (worded when read), or empty lists without reasons
    outside_training: list[list[str]]  # each applicant's attributes outside what the model saw

    def __len__(self) -> int:
        return len(self.npl_probability)

    def row(self, i: int) -> dict:
        return {
            "npl_probability": float(self.npl_probability[i]),
            "is_npl": bool(self.is_npl[i]),
            "threshold": self.model_version.threshold,
            "credit_score": int(self.credit_score[i]),
            "risk_grade": str(self.risk_grade[i]),
            "expected_loss": int(self.expected_loss[i]),
            "recommendation": str(self.recommendation[i]),
            "knockout_rule": str(self.knockout_rule[i]),
            "reasons": self.reasons[i],
            "outside_training": self.outside_training[i],
            "policy_id": self.policy.id,
        }


class ScoringEngine:
    """Scores applicants with the active model version; one instance per process (:data:`engine`)."""

    def __init__(self):
        self._cache: OrderedDict[tuple, LoadedModel] = OrderedDict()
        self._lock = threading.Lock()
        self._active: tuple[LoadedModel, float] | None = None  # the last reading and when (monotonic)

    def loaded_model(self) -> LoadedModel:
        """The active version with its artifact, loaded and verified (see the module docstring)."""
        now = time.monotonic()
        with self._lock:
            reading = self._active
            if reading is not None and now - reading[1] < settings.SCORING_ACTIVE_VERSION_RECHECK_SECONDS:
                return reading[0]
        loaded = self._read_active()
        with self._lock:
            self._active = (loaded, now)
        return loaded

    def forget_active_version(self, **signal_arguments) -> None:
        """Read the active version again at the next score: the one place a reading is dropped before
        its time is up (connected to :data:`training.signals.active_version_changed`; tests call it
        too, each starting from a database of its own)."""
        with self._lock:
            self._active = None

    def _read_active(self) -> LoadedModel:
        from training.artifacts import artifact_file_signature
        from training.selectors import get_active_model_version

        version = get_active_model_version()
        if version is None:
            raise NoActiveModelError(
                gettext("No model version is active: a model admin must train a model or activate a version.")
            )
        key = (version.pk, version.artifact_sha256, version.artifact_path)
        signature = artifact_file_signature(version.artifact_path)
        with self._lock:
            loaded = self._cache.get(key)
            if loaded is None or loaded.file_signature != signature:
                # Not loaded in this process yet, or its file was deleted or changed since it was
                # verified: load and verify it again (a missing or altered file raises).
                self._cache.pop(key, None)
                loaded = self._cache[key] = self._load(version, signature)
                while len(self._cache) > CACHE_SIZE:
                    self._cache.popitem(last=False)
        return loaded

    def _load(self, version, signature: tuple | None) -> LoadedModel:
        from training.artifacts import ArtifactIntegrityError, load_artifact

        try:
            model = load_artifact(version)
        except ArtifactIntegrityError as exc:
            logger.error(
                "Cannot load the artifact of active model version %s (%s): %s", version.pk, version.artifact_path, exc
            )
            raise ModelArtifactUnavailableError(
                gettext(
                    "The active model version #%(id)s cannot be used: its artifact file is missing or failed its "
                    "integrity check (the server log has the details). A model admin must activate another "
                    "version or retrain."
                )
                % {"id": version.pk}
            ) from exc
        logger.info("Loaded model version %s (%s) for scoring", version.pk, version.name)
        return LoadedModel(
            model_version=version, model=model, references=ReferenceValues.of(model), file_signature=signature
        )

    def clear_cache(self) -> None:
        """Forget every loaded artifact and the active version (the next score reads and loads them again)."""
        with self._lock:
            self._cache.clear()
            self._active = None

    def score(self, applicants: pd.DataFrame | Mapping[str, Sequence], *, with_reasons: bool = True) -> EngineScores:
        """Score valid applicants (validate them first): a frame, or a mapping of the nine attributes to columns."""
        loaded = self.loaded_model()
        model = loaded.model
        columns = columns_of(applicants)
        n = len(columns["otr"])
        typical = None
        if with_reasons:
            probability, typical = occlusion_probabilities(model, columns, loaded.references, CHUNK_SIZE)
        else:
            probability = np.empty(n, dtype=np.float64)
            for start in range(0, n, CHUNK_SIZE):
                part = {name: values[start : start + CHUNK_SIZE] for name, values in columns.items()}
                probability[start : start + CHUNK_SIZE] = model.predict_npl_probability(part)
        policy = current_policy()
        is_npl = probability >= loaded.model_version.threshold
        decisions = scorecard.decide(
            probability,
            is_npl,
            columns["otr"],
            columns["dp"],
            policy.parameters,
            monthly_income=columns["monthly_income"],
            tenor=columns["tenor"],
        )
        reasons = (
            Reasons(columns, probability, typical, decisions.recommendation, loaded.references)
            if with_reasons
            else [[] for _ in range(n)]
        )
        return EngineScores(
            model_version=loaded.model_version,
            policy=policy,
            npl_probability=probability,
            is_npl=is_npl,
            credit_score=decisions.credit_score,
            risk_grade=decisions.risk_grade,
            expected_loss=decisions.expected_loss,
            recommendation=decisions.recommendation,
            knockout_rule=decisions.knockout_rule,
            reasons=reasons,
            outside_training=outside_training(columns, model.metadata.get("training_ranges")),
        )


engine = ScoringEngine()


class Reasons(Sequence):
    """The reasons of each scored applicant: ``reasons[i]`` is applicant ``i``'s list of reasons, as
    data (:data:`scoring.reason_wording.STORED_KEYS`): the group, the applicant's value, the typical
    value it was compared with (for ``dp`` the typical down payment at the applicant's price; for a
    category group ``None`` when it was compared with the average of every category), the direction
    and the effect in probability points. They are worded when shown, in the reader's language
    (:mod:`scoring.reason_wording`).

    Which groups they are, in which order, is decided for every applicant at once when scoring
    (see "Which reasons are shown" in the module docstring); each applicant's list is built when
    read (not every caller reads every applicant's reasons).
    """

    def __init__(
        self, columns, probability: np.ndarray, typical: np.ndarray, recommendation, references: ReferenceValues
    ):
        self._columns = columns
        self._values: dict[str, list] | None = None
        self._typical = _typical_values(references)
        self._dp_ratio = references.dp_ratio
        chosen = choose_reasons(probability, typical, recommendation)
        self._effect, self._log_odds_effect = chosen.effect, chosen.log_odds_effect
        self._chosen, self._count = chosen.chosen, chosen.count

    def __len__(self) -> int:
        return len(self._chosen)

    def __getitem__(self, i):
        if isinstance(i, slice):
            return [self[j] for j in range(*i.indices(len(self)))]
        i = range(len(self))[i]  # negative indices; IndexError beyond the end
        if self._values is None:  # Python values, read once: indexing numpy arrays costs more per value
            self._values = {name: column.tolist() for name, column in self._columns.items()}
        reasons = []
        for j in self._chosen[i, : self._count[i]].tolist():
            group = REASON_GROUPS[j]
            typical_value = round(self._dp_ratio * self._values["otr"][i]) if group == "dp" else self._typical[group]
            reasons.append(
                {
                    "attribute": group,
                    "value": self._values[group][i],
                    "typical_value": typical_value,
                    "direction": "raises" if self._log_odds_effect[i, j] > 0 else "lowers",
                    "effect": round(float(self._effect[i, j]), 4),
                }
            )
        return reasons


def _typical_values(ref: ReferenceValues) -> dict[str, object]:
    """Each group's typical value as data (``dp`` depends on the price: computed per applicant); a
    category group compared with the average of every category has ``None``."""
    typical = {
        group: getattr(ref, group) for group in ("monthly_income", "otr", "tenor", "num_of_dependent", "lama_bekerja")
    }
    for group, choices in ref.categories.items():
        typical[group] = choices[0][0] if len(choices) == 1 else None
    return typical
