"""Fixtures for the reliability tests: one small trained model (its artifact kept for the session),
model versions made from it, API clients per role, and a loopback port where nothing listens."""

import shutil
import socket
from datetime import date

import pytest
from django.contrib.auth.models import Group
from rest_framework.test import APIClient

from nplsite.roles import ROLES
from nplsite.tokens import issue_api_token
from tests.model_cache import cached_loan_book, copy_artifacts, trained_models, training_spec
from training.models import ModelVersion
from training.services import activate_model_version

AS_OF = date(2024, 6, 30)
BOOK_APPLICANTS = 600


def closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def loan_book():
    return cached_loan_book(BOOK_APPLICANTS, seed=5, as_of=AS_OF)[0]


@pytest.fixture(scope="session")
def trained_model(django_db_setup, django_db_blocker, tmp_path_factory) -> dict:
    """A LogisticRegression trained through ``train_model_version`` (smoke search) on the generated book,
    in a transaction then rolled back (through the session-wide model cache, tests/model_cache.py):
    ``{"folder": artifact folder, "fields": ModelVersion fields}``."""
    folder = tmp_path_factory.mktemp("reliability-artifacts")
    book = {"applicants": BOOK_APPLICANTS, "seed": 5, "as_of": AS_OF}
    spec = training_spec(
        "reliability", book=book, profile="smoke", algorithms=("LogisticRegression",), source="reliability tests"
    )
    [entry] = trained_models(django_db_blocker, [spec], book)
    copy_artifacts(entry, folder)
    return {"folder": folder, "fields": dict(entry.data["fields"])}


@pytest.fixture
def artifact_folder(settings, trained_model):
    """This test's MODEL_ARTIFACT_DIR: the session's artifact folder."""
    settings.MODEL_ARTIFACT_DIR = trained_model["folder"]
    return trained_model["folder"]


@pytest.fixture
def role_groups(db):
    """The role groups exist (a transactional test elsewhere may have flushed the migration's rows)."""
    for name in ROLES:
        Group.objects.get_or_create(name=name)


@pytest.fixture
def make_version(db, artifact_folder, trained_model):
    """``make_version(file_name, activate=True)``: a ModelVersion whose artifact is a copy of the trained
    one under ``file_name`` (so each version has a file of its own to delete or alter)."""

    def make(file_name: str, *, activate: bool = True) -> ModelVersion:
        fields = dict(trained_model["fields"])
        shutil.copyfile(artifact_folder / fields["artifact_path"], artifact_folder / file_name)
        fields["artifact_path"] = file_name
        version = ModelVersion.objects.create(status=ModelVersion.Status.CANDIDATE, **fields)
        return activate_model_version(version) if activate else version

    return make


@pytest.fixture
def analyst_api(role_groups, analyst):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {issue_api_token(analyst)[1]}")
    return client
