"""Scoring applicants and keeping the audit trail: validate → engine → persist → return.

:func:`score_valid_applicants` is the one way an applicant gets scored: the REST API, the
deprecated ``/predict/``, the web form, batch scoring and ``manage.py score_csv`` all end there.
Services take validated values: :func:`score_applicants` checks plain dicts with the shared rule
(:func:`applicants.validation.validate_applicant_attributes`); :func:`score_requests` takes
``(attributes, app_id)`` pairs the API's serializers have read and adds the ``app_id`` handling;
the score form's :func:`score_form_applicant` and "score now"'s :func:`score_stored_applicant` are
at the end. Every score returned has been stored as a :class:`~scoring.models.Prediction` first;
nothing is stored for a request that fails validation or cannot be scored.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from dataclasses import dataclass
from operator import attrgetter

from django.db import IntegrityError, connection, transaction
from django.utils.translation import gettext

from applicants.attributes import ATTRIBUTE_FIELDS
from applicants.models import Applicant
from applicants.validation import validate_applicant_attributes
from scoring.engine import engine
from scoring.models import Prediction
from training.models import ModelVersion

API_APPLICANT_SOURCE = "api"


class ApplicantDataError(Exception):
    """Invalid applicant data; ``errors`` maps item index → field → messages (index 0 for one item)."""

    def __init__(self, errors: dict[int, dict[str, list[str]]]):
        self.errors = errors
        count = len(errors)
        super().__init__(f"{count} applicant(s) have invalid data: {errors}")


@dataclass
class ScoreResult:
    """A stored prediction and the model version that made it."""

    prediction: Prediction
    version: ModelVersion

    @property
    def npl_probability(self) -> float:
        return self.prediction.npl_probability

    @property
    def not_npl_percent(self) -> float:
        """100 × the probability of *not* becoming NPL, 2 decimals (the original "Kualitas Nasabah")."""
        return round(100.0 * (1.0 - self.prediction.npl_probability), 2)


def score_applicants(
    attributes_list: Sequence[dict],
    *,
    user=None,
    channel: str,
    applicants: Sequence[Applicant | None] | None = None,
) -> list[ScoreResult]:
    """Score applicants given as dicts of the nine attributes (amounts and counts as numbers), store a
    Prediction for each, return them.

    ``applicants`` (same length, entries may be ``None``) links each prediction to a stored applicant.
    Each item is checked by the shared rule (:func:`applicants.validation.validate_applicant_attributes`).
    Raises :class:`ApplicantDataError` (nothing stored) when any item is invalid, and
    :class:`scoring.engine.ScoringUnavailableError` when there is no usable active model.
    """
    cleaned, errors = [], {}
    for index, item in enumerate(attributes_list):
        item_errors = validate_applicant_attributes(item)
        if item_errors:
            errors[index] = item_errors
        cleaned.append({name: item[name] for name in ATTRIBUTE_FIELDS} if not item_errors else {})
    if errors:
        raise ApplicantDataError(errors)
    return score_valid_applicants(cleaned, user=user, channel=channel, applicants=applicants)


# Rows per INSERT statement of a large batch (SQLite limits the parameters of one statement).
PREDICTIONS_PER_INSERT = 500


def score_valid_applicants(
    cleaned: list[dict],
    *,
    user=None,
    channel: str,
    applicants: Sequence[Applicant | None] | None = None,
    batch_job=None,
    batch_rows: Sequence[int] | None = None,
) -> list[ScoreResult]:
    """:func:`score_applicants` for applicants a caller has already validated with
    :func:`applicants.validation.validate_applicant_attributes` (the nine attributes, amounts and
    counts as ``int``): batch scoring checks a whole file first and would otherwise validate every
    row twice. A batch job's predictions are stored with it and with their file lines (``batch_rows``)."""
    if channel not in Prediction.Channel.values:
        raise ValueError(f"Unknown channel {channel!r}; expected one of {', '.join(Prediction.Channel.values)}")
    if applicants is not None and len(applicants) != len(cleaned):
        raise ValueError("applicants must be as long as cleaned")
    if not cleaned:
        return []
    scores = engine.score({name: [attributes[name] for attributes in cleaned] for name in ATTRIBUTE_FIELDS})
    model_version = scores.model_version
    predictions = []
    for index, attributes in enumerate(cleaned):
        predictions.append(
            Prediction(
                applicant=applicants[index] if applicants is not None else None,
                input_attributes=attributes,
                model_version=model_version,
                user=user if user is not None and user.is_authenticated else None,
                channel=channel,
                batch_job=batch_job,
                batch_row=batch_rows[index] if batch_rows is not None else None,
                **scores.row(index),
            )
        )
    store_predictions(predictions)
    return [ScoreResult(prediction=prediction, version=model_version) for prediction in predictions]


def store_predictions(predictions: list[Prediction]) -> None:
    """Insert new predictions of one model version, each marked whether it is its applicant's first
    by that version (``first_of_version``: what monitoring counts as an application entering a
    period; a prediction without a stored applicant always is).

    The database holds one first prediction per applicant and version
    (``prediction_first_of_version_once``): when a concurrent request stored one since the lookup
    here, the insert is refused and the predictions are marked again and stored once more.
    """
    if not _mark_first_of_version(predictions):
        _insert(predictions)  # no stored applicant's first: nothing the flag's constraint could refuse
        return
    try:
        # Inside a transaction, a refused insert must not abort it: a savepoint around the attempt.
        with transaction.atomic() if connection.in_atomic_block else contextlib.nullcontext():
            _insert(predictions)
    except IntegrityError:
        _mark_first_of_version(predictions)
        _insert(predictions)  # refused again (a batch line stored twice, say): the error goes up


def _mark_first_of_version(predictions: list[Prediction]) -> bool:
    """Set ``first_of_version`` on each prediction; whether any stored applicant's first is among them."""
    linked = {prediction.applicant_id for prediction in predictions if prediction.applicant_id is not None}
    scored = set()
    if linked:
        scored = set(
            Prediction.objects.filter(
                model_version_id=predictions[0].model_version_id, applicant_id__in=linked, first_of_version=True
            ).values_list("applicant_id", flat=True)
        )
    for prediction in predictions:
        prediction.first_of_version = prediction.applicant_id is None or prediction.applicant_id not in scored
        scored.add(prediction.applicant_id)
    return any(prediction.first_of_version for prediction in predictions if prediction.applicant_id is not None)


def _insert(predictions: list[Prediction]) -> None:
    if len(predictions) == 1:
        # One INSERT in autocommit: bulk_create would wrap it in a transaction of its own (two more
        # statements, BEGIN and COMMIT, each a round trip to PostgreSQL) and prepare it for batches.
        predictions[0].save(force_insert=True)
    else:
        Prediction.objects.bulk_create(predictions, batch_size=PREDICTIONS_PER_INSERT)


def score_requests(requests: Sequence[tuple[dict, int | None]], *, user=None, channel: str) -> list[ScoreResult]:
    """Score validated request items, ``(attributes, app_id)``: the nine attributes (amounts and counts
    as ``int``), optionally with an ``app_id`` to link or save the applicant (``None``: no link).

    With an ``app_id`` that is already stored, the item's attributes must equal the stored ones and
    the prediction is linked to that applicant; an ``app_id`` not stored yet creates the applicant
    (source ``api``, no payment history) and links to it. All or nothing: any invalid item raises
    :class:`ApplicantDataError` with every item's errors and nothing is stored.
    """
    cleaned = [attributes for attributes, _ in requests]
    app_ids = [app_id for _, app_id in requests]
    errors = {}
    wanted = {app_id for app_id in app_ids if app_id is not None}
    stored = _stored_applicants(wanted) if wanted else {}
    first_sent: dict[int, dict] = {}
    for index, (attributes, app_id) in enumerate(zip(cleaned, app_ids, strict=True)):
        if app_id is None or index in errors:
            continue
        reference = stored.get(app_id)
        reference_attributes = _stored_attributes(reference) if reference else first_sent.setdefault(app_id, attributes)
        if message := _mismatch(app_id, reference_attributes, attributes, stored=reference is not None):
            errors[index] = {"app_id": [message]}
    if errors:
        raise ApplicantDataError(errors)
    if not cleaned:
        return []
    new = {
        app_id: Applicant(app_id=app_id, source=API_APPLICANT_SOURCE, **first_sent[app_id])
        for app_id in dict.fromkeys(app_ids)
        if app_id is not None and app_id not in stored
    }
    # New applicants and their predictions are stored together or not at all; without new
    # applicants there is nothing to hold a transaction open for while the model runs.
    with transaction.atomic() if new else contextlib.nullcontext():
        if new:
            # A concurrent request may have stored one of them since the lookup above: keep its row
            # (no duplicate, no error from the unique key) and hold this request's attributes to it.
            # In app_id order: two requests inserting the same new ids in opposite orders would
            # otherwise each wait for the other's row (a deadlock PostgreSQL resolves by failing one).
            Applicant.objects.bulk_create(sorted(new.values(), key=attrgetter("app_id")), ignore_conflicts=True)
            now_stored = _stored_applicants(new)
            raced = {}
            for index, (attributes, app_id) in enumerate(zip(cleaned, app_ids, strict=True)):
                if app_id not in new:
                    continue
                row = now_stored.get(app_id)
                if row is None:  # deleted meanwhile (or refused by the database): nothing to link to
                    message = gettext("Application %(app_id)s could not be stored; send the request again.") % {
                        "app_id": app_id
                    }
                else:
                    message = _mismatch(app_id, _stored_attributes(row), attributes, stored=True)
                if message:
                    raced[index] = {"app_id": [message]}
            if raced:
                raise ApplicantDataError(raced)  # rolls back this request's other new applicants
            stored.update(now_stored)
        linked = [stored.get(app_id) if app_id is not None else None for app_id in app_ids]
        return score_valid_applicants(cleaned, user=user, channel=channel, applicants=linked if wanted else None)


def _stored_applicants(app_ids) -> dict[int, Applicant]:
    return {applicant.app_id: applicant for applicant in Applicant.objects.filter(app_id__in=list(app_ids))}


def _stored_attributes(applicant: Applicant) -> dict:
    return {field: getattr(applicant, field) for field in ATTRIBUTE_FIELDS}


def _mismatch(app_id: int, reference: dict, attributes: dict, *, stored: bool) -> str | None:
    """The error for an ``app_id`` sent with attributes other than its stored (or first sent) ones."""
    differing = [field for field in ATTRIBUTE_FIELDS if reference[field] != attributes[field]]
    if not differing:
        return None
    where = gettext("is stored") if stored else gettext("appears earlier in this request")
    return gettext(
        "Application %(app_id)s %(where)s with different attributes (%(fields)s); send the same "
        "attributes, or leave out app_id to score without linking."
    ) % {"app_id": app_id, "where": where, "fields": ", ".join(differing)}


def create_applicant(attributes: dict, *, app_id: int, source: str = API_APPLICANT_SOURCE) -> Applicant:
    """Store one applicant: a new ``app_id`` and the nine validated attributes.

    The applicant has no payment history, so no labels. Raises :class:`ApplicantDataError`.
    """
    errors = {}
    if Applicant.objects.filter(app_id=app_id).exists():
        errors = {"app_id": [_exists_message(app_id)]}
    if errors:
        raise ApplicantDataError({0: errors})
    try:
        with transaction.atomic():
            return Applicant.objects.create(app_id=app_id, source=source, **attributes)
    except IntegrityError:  # created by a concurrent request since the check above
        raise ApplicantDataError({0: {"app_id": [_exists_message(app_id)]}}) from None


def _exists_message(app_id: int) -> str:
    return gettext("Application %(app_id)s already exists.") % {"app_id": app_id}


# The score form and "score now" on a stored applicant (the analyst pages).
WEB_APPLICANT_SOURCE = "web"


def score_form_applicant(attributes: dict, *, user, app_id: int | None = None) -> ScoreResult:
    """Score the nine attributes from the score form (channel ``web``) and return the stored result.

    With ``app_id`` the applicant is saved too: created (source ``web``, no payment history) when the
    id is new, or linked when it is stored with the same attributes. Raises
    :class:`scoring.services.ApplicantDataError` (nothing stored) when the id is stored with other
    attributes, and :class:`scoring.engine.ScoringUnavailableError` when no model can score.
    """
    if app_id is None:
        return score_applicants([attributes], user=user, channel=Prediction.Channel.WEB)[0]
    with transaction.atomic():
        if not Applicant.objects.filter(app_id=app_id).exists():
            create_applicant(attributes, app_id=app_id, source=WEB_APPLICANT_SOURCE)
        return score_requests([(attributes, app_id)], user=user, channel=Prediction.Channel.WEB)[0]


def score_stored_applicant(applicant: Applicant, *, user) -> ScoreResult:
    """Score a stored applicant's attributes with the active model, linked to the applicant."""
    attributes = {name: getattr(applicant, name) for name in ATTRIBUTE_FIELDS}
    return score_applicants([attributes], user=user, channel=Prediction.Channel.WEB, applicants=[applicant])[0]
