"""Load: a large batch in the background must not lock everyone else out of the database.

Background batch scoring commits one chunk of applications at a time, so on the SQLite default
(WAL, a busy timeout) scoring through the API and logging in keep answering while a worker scores
a large file; a database that is locked all the same answers 503 "busy", not "cannot be reached".
"""

import json
import sqlite3
import time

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client

from scoring.models import BatchScoringJob, Prediction
from tests.conftest import make_user, wait_until
from tests.support import VALID_APPLICANT

LARGE_BATCH_ROWS = 200_000
HEADER = "app_id,monthly_income,housing_type,num_of_dependent,lama_bekerja,otr,status_pernikahan,pekerjaan,tenor,dp"
ROW = ",9295094,milik sendiri,3,2,200000000,Nikah,Karyawan Swasta,48,40000000"
PASSWORD = "Correct-Horse-42"


def large_loan_file() -> SimpleUploadedFile:
    lines = [HEADER, *(f"{100_000 + index}{ROW}" for index in range(LARGE_BATCH_ROWS))]
    return SimpleUploadedFile("large.csv", ("\n".join(lines) + "\n").encode(), content_type="text/csv")


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_scoring_and_logging_in_keep_answering_while_a_large_batch_runs(
    settings, analyst, analyst_api, make_version, own_celery_worker
):
    make_version("reliability-busy.joblib")
    settings.BATCH_INLINE_MAX_ROWS = 10
    uploader = Client()
    uploader.force_login(make_user("uploader", "Analyst"))
    job_url = uploader.post("/batch/", {"file": large_loan_file()})["Location"]
    job = BatchScoringJob.objects.get(pk=job_url.rstrip("/").rsplit("/", 1)[1])

    def running_with_chunks_committed() -> bool:
        job.refresh_from_db()
        return job.finished or (job.status == "running" and job.progress > 10)

    assert wait_until(running_with_chunks_committed, 180) and not job.finished, job.error
    answers, logins = [], []
    while True:
        job.refresh_from_db()
        if job.finished:
            break
        if len(answers) >= 300:  # enough evidence; more would reach the API's rate limit (1,000 a minute)
            time.sleep(0.5)
            continue
        response = analyst_api.post("/api/v1/score", json.dumps(VALID_APPLICANT), content_type="application/json")
        answers.append((response.status_code, job.progress))
        login = Client().post("/accounts/login/", {"username": analyst.username, "password": PASSWORD})
        logins.append(login.status_code)

    assert job.status == "succeeded", job.error
    # While the batch wrote chunk after chunk, every score and every login was answered.
    assert len(answers) >= 5, answers
    assert {status for status, _ in answers} == {200}, answers
    assert set(logins) == {302}, logins
    assert Prediction.objects.filter(batch_job=job).count() == LARGE_BATCH_ROWS
    assert Prediction.objects.filter(channel="api").count() == len(answers)


@pytest.fixture
def short_busy_timeout():
    """This test's connection waits 0.3 s for a lock instead of the configured busy timeout."""
    if connection.vendor != "sqlite":
        pytest.skip("SQLite's file lock; PostgreSQL locks rows, and waits for them")
    options = connection.settings_dict["OPTIONS"]
    configured = options.get("timeout")
    connection.close()
    options["timeout"] = 0.3
    yield
    connection.close()
    options["timeout"] = configured


@pytest.mark.django_db(transaction=True)
def test_a_locked_database_is_reported_busy_not_down(short_busy_timeout, analyst_api, make_version):
    make_version("reliability-locked.joblib")
    writer = sqlite3.connect(connection.settings_dict["NAME"], timeout=5)
    try:
        writer.execute("BEGIN IMMEDIATE")  # another process holds the write lock (a long write)
        response = analyst_api.post("/api/v1/score", json.dumps(VALID_APPLICANT), content_type="application/json")
    finally:
        writer.rollback()
        writer.close()

    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    detail = response.json()["detail"]
    assert "busy" in detail and "locked" in detail and "cannot be reached" not in detail
