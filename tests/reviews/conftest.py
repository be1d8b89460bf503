"""Fixtures of the review desk's tests: stored predictions made directly (the desk reads predictions;
how they were scored is the scoring tests' business), applicants, users per role."""

from __future__ import annotations

import itertools
from datetime import datetime

import pytest
from django.utils import timezone

from applicants.models import Applicant
from nplsite.roles import ANALYST, MODEL_ADMIN
from scoring.models import Prediction
from tests.conftest import make_user
from training.models import ModelVersion

ATTRIBUTES = {
    "monthly_income": 9_500_000,
    "housing_type": "milik sendiri",
    "num_of_dependent": 1,
    "lama_bekerja": 6,
    "otr": 150_000_000,
    "status_pernikahan": "Nikah",
    "pekerjaan": "Karyawan Swasta",
    "tenor": 36,
    "dp": 45_000_000,
}
_app_ids = itertools.count(700_000)


@pytest.fixture
def version(db):
    return ModelVersion.objects.create(
        name="LogisticRegression-class_weight",
        algorithm="LogisticRegression",
        balancing="class_weight",
        threshold=0.1,
        artifact_path="unused.joblib",
        artifact_sha256="0" * 64,
        artifact_size=1,
        status=ModelVersion.Status.ACTIVE,
        is_active=True,
    )


def make_applicant(**changes) -> Applicant:
    return Applicant.objects.create(app_id=next(_app_ids), source="tests", **{**ATTRIBUTES, **changes})


def make_prediction(
    version,
    *,
    recommendation: str = "review",
    applicant: Applicant | None = None,
    grade: str = "C",
    score: int = 520,
    channel: str = "api",
    created_at: datetime | None = None,
    **attributes,
) -> Prediction:
    values = {**ATTRIBUTES, **attributes}
    if applicant is not None:
        values = {name: getattr(applicant, name) for name in ATTRIBUTES}
    prediction = Prediction.objects.create(
        applicant=applicant,
        input_attributes=values,
        model_version=version,
        npl_probability=0.12,
        is_npl=recommendation == "decline",
        threshold=0.1,
        credit_score=score,
        risk_grade=grade,
        expected_loss=int(0.12 * 0.45 * (values["otr"] - values["dp"])),
        recommendation=recommendation,
        channel=channel,
    )
    if created_at is not None:
        Prediction.objects.filter(pk=prediction.pk).update(created_at=created_at)
        prediction.refresh_from_db()
    return prediction


def local(year, month, day, hour=10) -> datetime:
    return timezone.make_aware(datetime(year, month, day, hour))


@pytest.fixture
def predict(version):
    def make(**options) -> Prediction:
        return make_prediction(version, **options)

    return make


@pytest.fixture
def second_analyst(db):
    return make_user("budi", ANALYST)


@pytest.fixture
def senior(db):
    return make_user("sari", MODEL_ADMIN, is_staff=True)
