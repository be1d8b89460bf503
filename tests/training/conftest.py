"""Fixtures for the training tests: small generated loan books, imported or as frames, and artifacts."""

from datetime import date

import pandas as pd
import pytest
from django.contrib.auth.models import Group

from applicants.generator import simulate_loan_book
from applicants.services import import_loan_file
from credit.encoder import APPLICANT_ATTRIBUTES
from credit.labelling import label_installments
from credit.model_search import search_best_model
from nplsite.roles import ROLES
from tests.model_cache import cached_loan_book
from training.models import ModelVersion

AS_OF = date(2024, 6, 30)
# Small enough for seconds, large enough for ≥ 30 NPL and SMOTE's neighbours in every CV fold.
FRAME_APPLICANTS = 800
BOOK_APPLICANTS = 700


def labelled_frame_from_simulation(n_applicants: int, seed: int, as_of: date = AS_OF) -> pd.DataFrame:
    """A generated book as the frame ``labelled_applicants_frame`` gives, without the database.

    For the pipeline tests, which need no database; the service tests import the book for real.
    """
    installments, _ = simulate_loan_book(n_applicants, seed, as_of)
    first = installments.sort_values(["app_id", "due_date"]).groupby("app_id", as_index=False).first()
    frame = first[["app_id", *APPLICANT_ATTRIBUTES]].copy()
    for column in ("housing_type", "status_pernikahan", "pekerjaan"):
        frame[column] = frame[column].astype(str).astype(object)
    frame["disbursement_date"] = first["due_date"]
    return frame.merge(label_installments(installments, as_of), on="app_id")


@pytest.fixture(scope="session")
def small_frame() -> pd.DataFrame:
    return labelled_frame_from_simulation(FRAME_APPLICANTS, seed=3)


@pytest.fixture(scope="session")
def smoke_search(small_frame):
    """One search with the smoke profile, shared by the tests that only read its result."""
    return search_best_model(small_frame, profile="smoke", seed=1)


@pytest.fixture(autouse=True)
def artifact_dir(settings, tmp_path):
    """Every test writes its artifacts in a folder of its own (a worker started by it uses the same)."""
    settings.MODEL_ARTIFACT_DIR = tmp_path / "artifacts"
    return settings.MODEL_ARTIFACT_DIR


@pytest.fixture(scope="session")
def loan_book_file():
    """A generated loan file (raw export format) of BOOK_APPLICANTS applicants, as of AS_OF (from the
    session-wide cache of generated books: read-only)."""
    return cached_loan_book(BOOK_APPLICANTS, seed=5, as_of=AS_OF)[0]


@pytest.fixture
def imported_book(db, loan_book_file):
    """The generated loan file imported into the test database; returns the import summary."""
    summary = import_loan_file(loan_book_file, as_of=AS_OF)
    assert summary.applications_imported == BOOK_APPLICANTS
    return summary


@pytest.fixture
def register_version(db, smoke_search):
    """Make a ModelVersion whose artifact is a real trained model saved in this test's folder."""
    from training.artifacts import save_artifact

    def make(name: str = "LogisticRegression-class_weight", **fields) -> ModelVersion:
        stored = save_artifact(smoke_search.model, name)
        values = {
            "name": name,
            "algorithm": smoke_search.model.algorithm,
            "balancing": smoke_search.model.balancing,
            "hyperparameters": smoke_search.model.hyperparameters,
            "threshold": smoke_search.model.threshold,
            "metrics": dict(smoke_search.test_metrics),
            "training_data": smoke_search.training_data,
            "artifact_path": stored.path,
            "artifact_sha256": stored.sha256,
            "artifact_size": stored.size,
        }
        values.update(fields)
        return ModelVersion.objects.create(**values)

    return make


@pytest.fixture
def role_groups(db):
    """The role groups exist (a transactional test elsewhere may have flushed the migration's rows)."""
    for name in ROLES:
        Group.objects.get_or_create(name=name)


@pytest.fixture
def model_admin(role_groups, model_admin):
    return model_admin


@pytest.fixture
def analyst(role_groups, analyst):
    return analyst
