"""Trained models for the scoring tests, made once per test session through the public training service.

:func:`trained_versions` imports a small generated loan book and trains one model version per
algorithm (``train_model_version`` on a narrowed quick profile) inside a transaction that is then
rolled back: the artifact files stay (in a session-private artifact folder), the database is left
empty for every other test. Tests get a real ``ModelVersion`` row for one of those artifacts from
:func:`make_version` and activate it through ``training.services.activate_model_version``.
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

BOOK_APPLICANTS = 1500
BOOK_AS_OF = date(2024, 6, 30)
TRAINED_ALGORITHMS = (
    "LogisticRegression",
    "XGBClassifier",
    "DecisionTreeClassifier",
    "RandomForestClassifier",
    "KNeighborsClassifier",
    "CreditScorecard",
)

RISKY_APPLICANT = {
    "monthly_income": 4_000_000,
    "housing_type": "kos",
    "num_of_dependent": 5,
    "lama_bekerja": 0,
    "otr": 400_000_000,
    "status_pernikahan": "Belum Nikah",
    "pekerjaan": "Buruh",
    "tenor": 60,
    "dp": 10_000_000,
}


@dataclass(frozen=True)
class TrainedArtifact:
    algorithm: str
    fields: dict


@pytest.fixture(scope="session")
def artifact_folder(session_artifact_dir):
    return session_artifact_dir


@pytest.fixture(scope="session")
def trained_versions(django_db_setup, django_db_blocker, artifact_folder, tmp_path_factory) -> dict[str, dict]:
    """algorithm → the fields of a ModelVersion trained with it (its artifact is in ``artifact_folder``)."""
    folder = tmp_path_factory.mktemp("scoring-book")
    book = folder / "book.csv"
    write_loan_book(book, folder / "truth.csv", BOOK_APPLICANTS, seed=5, as_of=BOOK_AS_OF)
    trained = {}
    with django_db_blocker.unblock(), transaction.atomic():
        # Only ever on the test database (a test session sets it up only for tests that use `db`).
        assert "test" in str(connection.settings_dict["NAME"]), connection.settings_dict["NAME"]
        import_loan_file(book, as_of=BOOK_AS_OF)
        for algorithm in TRAINED_ALGORITHMS:
            run = TrainingRun.objects.create(parameters={"profile": "quick", "source": "scoring tests"})
            profile = narrowed_profile("quick", algorithms=(algorithm,), balancings=("class_weight",))
            version = train_model_version(run, profile=profile, as_of=BOOK_AS_OF, seed=7)
            trained[algorithm] = {field: getattr(version, field) for field in VERSION_FIELDS}
        transaction.set_rollback(True)
    return trained


@pytest.fixture
def make_version(db, trained_versions):
    """``make_version(algorithm="LogisticRegression", activate=True)`` → a stored ModelVersion row."""

    def make(algorithm: str = "LogisticRegression", *, activate: bool = True, **changes) -> ModelVersion:
        fields = {**trained_versions[algorithm], **changes}
        version = ModelVersion.objects.create(status=ModelVersion.Status.CANDIDATE, **fields)
        return activate_model_version(version) if activate else version

    return make


@pytest.fixture
def active_version(make_version):
    return make_version("LogisticRegression")
