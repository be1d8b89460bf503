"""Fixtures for the page tests: a trained model version, a small imported loan book, a sample file.

:func:`trained_model` imports a generated loan book and trains one small model through the public
training service inside a transaction that is rolled back: the artifact file stays (in a
session-private folder) and the database is left empty for the tests, which each re-create the
version row they need with :func:`active_version`.
"""

from dataclasses import dataclass
from datetime import date

import pytest
from django.db import connection, transaction

from applicants.generator import write_loan_book
from applicants.services import import_loan_file
from credit.model_search import narrowed_profile
from tests.support import VERSION_FIELDS
from training.models import ModelVersion, TrainingRun
from training.services import activate_model_version, train_model_version

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


@pytest.fixture(scope="session")
def trained_model(django_db_setup, django_db_blocker, session_artifact_dir, tmp_path_factory) -> TrainedModel:
    folder = tmp_path_factory.mktemp("web-book")
    book = folder / "book.csv"
    write_loan_book(book, folder / "truth.csv", TRAINING_APPLICANTS, seed=5, as_of=AS_OF)
    with django_db_blocker.unblock(), transaction.atomic():
        assert "test" in str(connection.settings_dict["NAME"]), connection.settings_dict["NAME"]
        import_loan_file(book, as_of=AS_OF)
        run = TrainingRun.objects.create(parameters={"profile": "quick", "source": "web tests"})
        profile = narrowed_profile(
            "quick", algorithms=("LogisticRegression", "DecisionTreeClassifier"), balancings=("class_weight",)
        )
        version = train_model_version(run, profile=profile, as_of=AS_OF, seed=7)
        run.refresh_from_db()
        trained = TrainedModel(
            fields={field: getattr(version, field) for field in VERSION_FIELDS}, leaderboard=run.leaderboard
        )
        transaction.set_rollback(True)
    return trained


@pytest.fixture
def make_version(db, trained_model):
    """``make_version(activate=True, **changes)`` → a stored ModelVersion with the trained artifact and
    the training run (with its leaderboard) that produced it."""

    def make(*, activate: bool = True, **changes) -> ModelVersion:
        version = ModelVersion.objects.create(
            status=ModelVersion.Status.CANDIDATE, **{**trained_model.fields, **changes}
        )
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
def page_book_file(tmp_path_factory):
    folder = tmp_path_factory.mktemp("page-book")
    book = folder / "book.csv"
    write_loan_book(book, folder / "truth.csv", PAGE_BOOK_APPLICANTS, seed=21, as_of=AS_OF)
    return book


@pytest.fixture
def page_book(db, page_book_file):
    """A small loan book imported and labelled as of AS_OF."""
    return import_loan_file(page_book_file, as_of=AS_OF)


@pytest.fixture
def upload_dir(settings, tmp_path):
    settings.BATCH_UPLOAD_DIR = tmp_path / "uploads"
    return settings.BATCH_UPLOAD_DIR
