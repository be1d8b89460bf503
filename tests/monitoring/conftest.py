"""Fixtures for the monitoring tests: a version trained on a generated book, later books scored by it.

:func:`monitored_model` imports a generated book and trains one small model through the public
training service inside a transaction that is rolled back, through the session-wide model cache
(tests/model_cache.py, as ``tests/web/conftest.py`` does): the artifact is copied into the session's
folder, and the version's fields and the reference distribution the training stored are kept, so
each test re-creates the version row with :func:`monitored_version`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time
from pathlib import Path

import pandas as pd
import pytest
from django.db.models import Min
from django.utils import timezone

from applicants.attributes import ATTRIBUTE_FIELDS
from applicants.models import Applicant, Installment
from credit.backtest import add_months
from monitoring.models import ReferenceDistribution
from scoring.models import Prediction
from scoring.services import score_applicants
from tests.model_cache import cached_loan_book, copy_artifacts, trained_models, training_spec
from training.models import ModelVersion
from training.services import activate_model_version

TRAINING_AS_OF = date(2024, 6, 30)
LATER_AS_OF = date(2025, 6, 30)
TRAINING_APPLICANTS = 3000
PERIOD_APPLICANTS = 3000
# Large enough for a shift to stand out from sampling noise, as the generator makes it (see
# docs/dataset-generator.md, "Later books"): income −40 %, otr +30 %, 30 % more Buruh.
KNOWN_SHIFT = "income=-0.4,otr=+0.3,pekerjaan=Buruh:+0.3"
SHIFTED_ATTRIBUTES = ("monthly_income", "otr", "pekerjaan")


@dataclass(frozen=True)
class MonitoredModel:
    fields: dict
    reference: dict


@pytest.fixture(scope="session")
def monitored_model(django_db_setup, django_db_blocker, session_artifact_dir) -> MonitoredModel:
    book = {"applicants": TRAINING_APPLICANTS, "seed": 11, "as_of": TRAINING_AS_OF}
    spec = training_spec(
        "monitoring", book=book, profile="quick", algorithms=("LogisticRegression",), source="monitoring tests"
    )
    [entry] = trained_models(django_db_blocker, [spec], book)
    copy_artifacts(entry, session_artifact_dir)
    # The reference distribution is written by the training service.
    return MonitoredModel(fields=entry.data["fields"], reference=entry.data["reference"])


@pytest.fixture
def make_monitored_version(db, monitored_model):
    def make(*, activate: bool = True, reference: bool = True, **changes) -> ModelVersion:
        version = ModelVersion.objects.create(
            status=ModelVersion.Status.CANDIDATE, **{**monitored_model.fields, **changes}
        )
        if reference:
            ReferenceDistribution.objects.create(model_version=version, **monitored_model.reference)
        return activate_model_version(version) if activate else version

    return make


@pytest.fixture
def monitored_version(make_monitored_version):
    return make_monitored_version()


def write_book(folder: Path, name: str, **arguments) -> tuple[Path, pd.DataFrame]:
    """A generated book (``write_loan_book``'s arguments), from the session-wide cache of generated books
    (``folder`` and ``name`` are kept for the callers; the file is the cached one, read-only)."""
    applicants, seed, as_of = arguments.pop("n_applicants"), arguments.pop("seed"), arguments.pop("as_of")
    book, truth = cached_loan_book(applicants, seed, as_of, **arguments)
    return book, pd.read_csv(truth)


def score_stored_applicants(app_ids, channel: str = Prediction.Channel.BATCH) -> int:
    """Score stored applicants through the scoring service (the active version), 1,000 at a time."""
    applicants = list(Applicant.objects.filter(app_id__in=list(app_ids)).order_by("app_id"))
    for start in range(0, len(applicants), 1000):
        chunk = applicants[start : start + 1000]
        score_applicants(
            [{field: getattr(applicant, field) for field in ATTRIBUTE_FIELDS} for applicant in chunk],
            channel=channel,
            applicants=chunk,
        )
    return len(applicants)


def as_new_applications(app_ids) -> None:
    """The applicants ``app_ids`` as applications that have just arrived: their loans' payment histories
    are removed, so their back-test vintage is the month they are scored (nothing has an outcome yet)."""
    Installment.objects.filter(applicant__app_id__in=list(app_ids)).delete()


def date_predictions_at_application() -> None:
    """Each prediction dated when its loan was applied for (a calendar month before the first
    installment, as the generator draws them), as if it had been scored then: the book is generated
    after the fact."""
    first_due = dict(
        Installment.objects.values("applicant_id").annotate(first=Min("due_date")).values_list("applicant_id", "first")
    )
    predictions = list(Prediction.objects.filter(applicant__isnull=False))
    for prediction in predictions:
        applied = add_months(first_due[prediction.applicant_id], -1)
        prediction.created_at = timezone.make_aware(datetime.combine(applied, time(10)))
    Prediction.objects.bulk_update(predictions, ["created_at"], batch_size=1000)
