"""A version's validation record: what a credit validator re-checks, kept when the version is trained.

:func:`record_validation` stores, with every newly trained version (inside the transaction that
registers it), its held-out test applicants' outcomes and probabilities, the figures that depend on
the model alone (:func:`credit.validation.validation_figures`) and the scorecard fitted beside it
(:class:`credit.model_search.ScorecardCompanion`).

:func:`version_validation` reads it back. A version trained before validation records existed has
none; its figures are then **rebuilt on demand** where that is exact: the version's test applicants
are the applicants labelled as of its ``as_of`` date that its artifact does not list as seen in
training, and they count only if the SHA-256 of their ids equals the one the version recorded
(``training_data["test_app_ids_sha256"]``) — then its artifact scores them and the development
applicants (those it saw) are binned again. The scorecard beside such a version is known only if the
version is itself a scorecard. Otherwise the reason is returned (``unavailable``) and the pages say
"not recorded for this version: retrain". Nothing rebuilt is written back; a small per-process cache
keeps the last few rebuilds.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import date, datetime

import numpy as np
import pandas as pd

from credit.model_search import SearchResult, applicant_ids_digest, features_and_labels
from credit.validation import validation_figures
from training.artifacts import ArtifactIntegrityError, load_artifact
from training.models import ModelVersion, VersionValidation

RECORDED = "recorded"
REBUILT = "rebuilt"
UNAVAILABLE = "unavailable"
# Why a version without a record could not be rebuilt.
NO_TRAINING_RECORD = "no_training_record"  # the artifact does not list the applicants it was trained on
APPLICANTS_CHANGED = "applicants_changed"  # the labelled applicants no longer give exactly its test split
ARTIFACT_UNREADABLE = "artifact_unreadable"
TEST_COLUMNS = ("app_id", "is_npl", "probability", "otr", "dp", "monthly_income", "tenor", "scorecard_probability")
_REBUILT_CACHE_SIZE = 4


@dataclass
class Validation:
    """A version's validation record, as stored (``recorded``), rebuilt, or ``unavailable`` (``reason``)."""

    status: str
    test: pd.DataFrame | None = None  # TEST_COLUMNS, one row per test applicant
    figures: dict = field(default_factory=dict)
    scorecard: dict = field(default_factory=dict)
    recorded_at: datetime | None = None
    reason: str = ""

    @property
    def available(self) -> bool:
        return self.status != UNAVAILABLE


def scorecard_record(result: SearchResult) -> dict:
    """The scorecard beside the model, as stored (JSON)."""
    companion = result.scorecard
    if companion is None:
        return {"error": result.scorecard_error or "not fitted"}
    return {
        "source": companion.source,
        "hyperparameters": companion.hyperparameters,
        "points_table": companion.points_table,
        "cv_mean": companion.cv_mean,
        "cv_se": companion.cv_se,
    }


def test_predictions(test: pd.DataFrame, probability, scorecard_probability=None) -> dict:
    """The test applicants column by column (JSON)."""
    return {
        "app_id": [int(value) for value in test["app_id"]],
        "is_npl": [int(value) for value in test["is_npl"]],
        "probability": [float(value) for value in np.asarray(probability, dtype=float)],
        "otr": [int(value) for value in test["otr"]],
        "dp": [int(value) for value in test["dp"]],
        # What the policy's knock-out rules read (the strategy point), besides otr and dp.
        "monthly_income": [int(value) for value in test["monthly_income"]],
        "tenor": [int(value) for value in test["tenor"]],
        "scorecard_probability": (
            None if scorecard_probability is None else [float(v) for v in np.asarray(scorecard_probability, float)]
        ),
    }


def record_validation(version: ModelVersion, result: SearchResult) -> VersionValidation:
    """Store the validation record of a version just registered from ``result``."""
    test = result.split.test
    scorecard_probability = result.scorecard.test_probability if result.scorecard is not None else None
    figures = validation_figures(result.split.development, test, result.test_probability, scorecard_probability)
    return VersionValidation.objects.create(
        model_version=version,
        test_predictions=test_predictions(test, result.test_probability, scorecard_probability),
        figures=figures,
        scorecard=scorecard_record(result),
    )


def _frame(stored: dict) -> pd.DataFrame:
    columns = {name: stored.get(name) for name in TEST_COLUMNS}
    for name in ("scorecard_probability", "monthly_income", "tenor"):  # not in every record
        if columns[name] is None:
            columns[name] = [np.nan] * len(columns["app_id"])
    return pd.DataFrame(columns)


_rebuilt: OrderedDict[tuple, Validation] = OrderedDict()
_rebuilt_lock = threading.Lock()


def version_validation(version: ModelVersion) -> Validation:
    """The version's validation record (see the module docstring)."""
    record = VersionValidation.objects.filter(model_version=version).first()
    if record is not None:
        return Validation(
            status=RECORDED,
            test=_frame(record.test_predictions),
            figures=record.figures,
            scorecard=record.scorecard,
            recorded_at=record.created_at,
        )
    key = (version.pk, version.artifact_sha256)
    with _rebuilt_lock:
        if key in _rebuilt:
            _rebuilt.move_to_end(key)
            return _rebuilt[key]
    validation = _rebuild(version)
    if validation.available:
        with _rebuilt_lock:
            _rebuilt[key] = validation
            while len(_rebuilt) > _REBUILT_CACHE_SIZE:
                _rebuilt.popitem(last=False)
    return validation


def _own_scorecard(model) -> dict:
    """The points table of a version that is itself a scorecard (``{}`` for any other model)."""
    if not hasattr(model.classifier, "points_table"):
        return {}
    return {
        "source": "chosen",
        "hyperparameters": model.hyperparameters,
        "points_table": model.classifier.points_table(),
        "cv_mean": None,
        "cv_se": None,
    }


def _rebuild(version: ModelVersion) -> Validation:
    from applicants.selectors import labelled_applicants_frame

    try:
        model = load_artifact(version)
    except ArtifactIntegrityError:
        return Validation(status=UNAVAILABLE, reason=ARTIFACT_UNREADABLE)
    scorecard = _own_scorecard(model)
    seen = model.metadata.get("seen_app_ids")
    as_of_text = (version.training_data or {}).get("as_of")
    digest = (version.training_data or {}).get("test_app_ids_sha256")
    if not seen or not digest:
        return Validation(status=UNAVAILABLE, scorecard=scorecard, reason=NO_TRAINING_RECORD)
    frame = labelled_applicants_frame(as_of=date.fromisoformat(as_of_text) if as_of_text else None)
    seen_rows = frame["app_id"].isin(set(seen)) if len(frame) else pd.Series([], dtype=bool)
    development = frame[seen_rows].sort_values("app_id").reset_index(drop=True)
    test = frame[~seen_rows].sort_values("app_id").reset_index(drop=True)
    if test.empty or len(development) != len(seen) or applicant_ids_digest(test["app_id"]) != digest:
        return Validation(status=UNAVAILABLE, scorecard=scorecard, reason=APPLICANTS_CHANGED)
    X_test, _ = features_and_labels(test)
    probability = model.predict_npl_probability(X_test)
    scorecard_probability = probability if scorecard else None
    return Validation(
        status=REBUILT,
        test=_frame(test_predictions(test, probability, scorecard_probability)),
        figures=validation_figures(development, test, probability, scorecard_probability),
        scorecard=scorecard or {"error": "not recorded"},
    )
