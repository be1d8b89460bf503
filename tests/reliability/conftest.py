"""Fixtures for the reliability tests: one small trained model (its artifact kept for the session),
model versions made from it, API clients per role, and a loopback port where nothing listens."""

import shutil
import socket
from datetime import date

import pytest
from django.contrib.auth.models import Group
from django.db import connection, transaction
from django.test import override_settings
from rest_framework.test import APIClient

from applicants.generator import write_loan_book
from applicants.services import import_loan_file
from credit.model_search import narrowed_profile
from nplsite.roles import ROLES
from nplsite.tokens import issue_api_token
from tests.support import VERSION_FIELDS
from training.models import ModelVersion, TrainingRun
from training.services import activate_model_version, train_model_version

AS_OF = date(2024, 6, 30)
BOOK_APPLICANTS = 600


def closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def loan_book(tmp_path_factory):
    folder = tmp_path_factory.mktemp("reliability-book")
    book = folder / "loans.csv"
    write_loan_book(book, folder / "truth.csv", BOOK_APPLICANTS, seed=5, as_of=AS_OF)
    return book


@pytest.fixture(scope="session")
def trained_model(django_db_setup, django_db_blocker, tmp_path_factory, loan_book) -> dict:
    """A LogisticRegression trained through ``train_model_version`` (smoke search) on the generated book,
    in a transaction then rolled back: ``{"folder": artifact folder, "fields": ModelVersion fields}``."""
    folder = tmp_path_factory.mktemp("reliability-artifacts")
    with django_db_blocker.unblock(), override_settings(MODEL_ARTIFACT_DIR=folder), transaction.atomic():
        assert "test" in str(connection.settings_dict["NAME"]), connection.settings_dict["NAME"]
        import_loan_file(loan_book, as_of=AS_OF)
        run = TrainingRun.objects.create(parameters={"profile": "smoke", "source": "reliability tests"})
        profile = narrowed_profile("smoke", algorithms=("LogisticRegression",), balancings=("class_weight",))
        version = train_model_version(run, profile=profile, as_of=AS_OF, seed=7)
        fields = {name: getattr(version, name) for name in VERSION_FIELDS}
        transaction.set_rollback(True)
    return {"folder": folder, "fields": fields}


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
