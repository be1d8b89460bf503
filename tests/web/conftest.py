"""Fixtures for the page tests: a trained model version, a small imported loan book, a sample file.

:func:`trained_model` imports a generated loan book and trains one small model through the public
training service inside a transaction that is rolled back, through the session-wide model cache
(tests/model_cache.py): the artifact file is copied into the session's artifact folder and the
database is left empty for the tests, which each re-create the version row they need with
:func:`active_version`.
"""

from dataclasses import dataclass
from datetime import date

import pytest

from applicants.services import import_loan_file
from tests.model_cache import cached_loan_book, copy_artifacts, trained_models, training_spec
from training.models import ModelVersion, TrainingRun, VersionValidation
from training.services import activate_model_version

AS_OF = date(2024, 6, 30)
TRAINING_APPLICANTS = 800
PAGE_BOOK_APPLICANTS = 60

VALID_FORM = {
    "monthly_income": "12.000.000",
    "housing_type": "milik sendiri",
    "num_of_dependent": "1",
    "lama_bekerja": "8",
    "otr": "150000000",
    "status_pernikahan": "Nikah",
    "pekerjaan": "PNS",
    "tenor": "24",
    "dp": "Rp 60.000.000",
}


@dataclass(frozen=True)
class TrainedModel:
    fields: dict
    leaderboard: list
    validation: dict


@pytest.fixture(scope="session")
def trained_model(django_db_setup, django_db_blocker, session_artifact_dir) -> TrainedModel:
    book = {"applicants": TRAINING_APPLICANTS, "seed": 5, "as_of": AS_OF}
    spec = training_spec(
        "web",
        book=book,
        profile="quick",
        algorithms=("LogisticRegression", "DecisionTreeClassifier"),
        source="web tests",
    )
    [entry] = trained_models(django_db_blocker, [spec], book)
    copy_artifacts(entry, session_artifact_dir)
    return TrainedModel(
        fields=entry.data["fields"], leaderboard=entry.data["leaderboard"], validation=entry.data["validation"]
    )


@pytest.fixture
def make_version(db, trained_model):
    """``make_version(activate=True, validation=True, **changes)`` → a stored ModelVersion with the trained
    artifact, the training run (with its leaderboard) that produced it and (unless ``validation`` is off,
    as for a version trained before validation records) its validation record."""

    def make(*, activate: bool = True, validation: bool = True, **changes) -> ModelVersion:
        version = ModelVersion.objects.create(
            status=ModelVersion.Status.CANDIDATE, **{**trained_model.fields, **changes}
        )
        if validation:
            VersionValidation.objects.create(model_version=version, **trained_model.validation)
        TrainingRun.objects.create(
            parameters={"profile": "quick"},
            status=TrainingRun.Status.SUCCEEDED,
            progress=100,
            leaderboard=trained_model.leaderboard,
            model_version=version,
        )
        return activate_model_version(version) if activate else version

    return make


@pytest.fixture
def active_version(make_version):
    return make_version()


@pytest.fixture(scope="session")
def page_book_file():
    return cached_loan_book(PAGE_BOOK_APPLICANTS, seed=21, as_of=AS_OF)[0]


@pytest.fixture
def page_book(db, page_book_file):
    """A small loan book imported and labelled as of AS_OF."""
    return import_loan_file(page_book_file, as_of=AS_OF)


@pytest.fixture
def upload_dir(settings, tmp_path):
    settings.BATCH_UPLOAD_DIR = tmp_path / "uploads"
    return settings.BATCH_UPLOAD_DIR
