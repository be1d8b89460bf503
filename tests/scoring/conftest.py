"""Trained models for the scoring tests, made once per test session through the public training service.

:func:`trained_versions` imports a small generated loan book and trains one model version per
algorithm (``train_model_version`` on a narrowed quick profile) inside a transaction that is then
rolled back, through the session-wide model cache (tests/model_cache.py): the artifact files are
copied into the session's artifact folder, the database is left empty for every other test. Tests
get a real ``ModelVersion`` row for one of those artifacts from :func:`make_version` and activate it
through ``training.services.activate_model_version``.
"""

from dataclasses import dataclass
from datetime import date

import pytest

from tests.model_cache import copy_artifacts, trained_models, training_spec
from training.models import ModelVersion
from training.services import activate_model_version

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
def trained_versions(django_db_setup, django_db_blocker, artifact_folder) -> dict[str, dict]:
    """algorithm → the fields of a ModelVersion trained with it (its artifact is in ``artifact_folder``).

    From the session-wide model cache (tests/model_cache.py): trained once per code change, each
    algorithm as the only version on the book, by whichever xdist worker gets to it first."""
    book = {"applicants": BOOK_APPLICANTS, "seed": 5, "as_of": BOOK_AS_OF}
    specs = [
        training_spec(
            f"scoring-{algorithm}", book=book, profile="quick", algorithms=(algorithm,), source="scoring tests"
        )
        for algorithm in TRAINED_ALGORITHMS
    ]
    trained = {}
    for algorithm, entry in zip(TRAINED_ALGORITHMS, trained_models(django_db_blocker, specs, book), strict=True):
        copy_artifacts(entry, artifact_folder)
        trained[algorithm] = entry.data["fields"]
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
