"""Fixtures for the monitoring tests: a version trained on a generated book, later books scored by it.

:func:`monitored_model` imports a generated book and trains one small model through the public
training service inside a transaction that is rolled back (as ``tests/web/conftest.py`` does): the
artifact stays in the session's folder, and the version's fields and the reference distribution the
training stored are kept, so each test re-creates the version row with :func:`monitored_version`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path

import pandas as pd
import pytest
from django.db import connection, transaction
from django.db.models import Min
from django.utils import timezone

from applicants.attributes import ATTRIBUTE_FIELDS
from applicants.generator import parse_shift, write_loan_book
from applicants.models import Applicant, Installment
from applicants.services import import_loan_file
from credit.model_search import narrowed_profile
from monitoring.models import ReferenceDistribution
from scoring.models import Prediction
from scoring.services import score_applicants
from tests.support import VERSION_FIELDS
from training.models import ModelVersion, TrainingRun
from training.services import activate_model_version, train_model_version

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
def monitored_model(django_db_setup, django_db_blocker, session_artifact_dir, tmp_path_factory) -> MonitoredModel:
    folder = tmp_path_factory.mktemp("monitoring-training-book")
    book = folder / "book.csv"
    write_loan_book(book, folder / "truth.csv", TRAINING_APPLICANTS, seed=11, as_of=TRAINING_AS_OF)
    with django_db_blocker.unblock(), transaction.atomic():
        assert "test" in str(connection.settings_dict["NAME"]), connection.settings_dict["NAME"]
        import_loan_file(book, as_of=TRAINING_AS_OF)
        run = TrainingRun.objects.create(parameters={"profile": "quick", "source": "monitoring tests"})
        profile = narrowed_profile("quick", algorithms=("LogisticRegression",), balancings=("class_weight",))
        version = train_model_version(run, profile=profile, as_of=TRAINING_AS_OF, seed=7)
        stored = ReferenceDistribution.objects.get(model_version=version)  # written by the training service
        model = MonitoredModel(
            fields={field: getattr(version, field) for field in VERSION_FIELDS},
            reference={
                "applicants": stored.applicants,
                "attributes": stored.attributes,
                "score": stored.score,
                "source": stored.source,
            },
        )
        transaction.set_rollback(True)
    return model


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
    book, truth = folder / f"{name}.csv", folder / f"{name}_truth.csv"
    shift = arguments.pop("shift", None)
    write_loan_book(book, truth, shift=parse_shift(shift) if shift else None, **arguments)
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


def date_predictions_at_application() -> None:
    """Each prediction dated when its loan was applied for (a month before the first installment),
    as if it had been scored then: the book is generated after the fact."""
    first_due = dict(
        Installment.objects.values("applicant_id").annotate(first=Min("due_date")).values_list("applicant_id", "first")
    )
    predictions = list(Prediction.objects.filter(applicant__isnull=False))
    for prediction in predictions:
        applied = first_due[prediction.applicant_id] - timedelta(days=30)
        prediction.created_at = timezone.make_aware(datetime.combine(applied, time(10)))
    Prediction.objects.bulk_update(predictions, ["created_at"], batch_size=1000)
