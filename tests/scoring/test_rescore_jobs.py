"""A re-score of the stored applications (issue 25): a batch job of its own kind that reads the
applicants table in ``app_id`` order, a page at a time, into the same chunks an uploaded file makes,
scored by the same chunk tasks; a Model admin's only, from the batch page or ``manage.py
rescore_applications``.

The chunk tests run the steps a worker runs (the split task, then each chunk task) in this process, as
tests/scoring/test_batch_chunks.py does; one test has a real ``celery worker`` process take the chunks.
"""

import csv
import io
import re
from itertools import cycle

import pytest
from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from applicants.attributes import ATTRIBUTE_FIELDS, HousingType, Pekerjaan, StatusPernikahan
from applicants.models import Applicant
from nplsite.roles import AUDITOR
from scoring.batch_jobs import (
    RescoreError,
    results_file,
    retry_batch_job,
    run_batch_job,
    score_chunk,
    submit_batch_file,
    submit_rescore,
)
from scoring.models import BatchChunk, BatchFilePart, BatchScoringJob, Prediction
from scoring.services import score_stored_applicant
from tests.conftest import chunk_tasks_scored, make_user, start_celery_worker, stop_celery_worker, wait_until
from tests.support import VALID_APPLICANT
from tests.web.pagecheck import checked_page, text_of

CHUNK = 2  # applications per chunk: five stored applications make three chunks (2, 2, 1)
APP_IDS = [7003, 7001, 7010, 7002, 7005]  # stored out of order: the job reads them in app_id order
IN_ORDER = sorted(APP_IDS)


def store_applicants(app_ids=APP_IDS) -> list[Applicant]:
    """Stored applicants with attributes of their own (each a different applicant to the model)."""
    housing, occupations, statuses = cycle(HousingType.values), cycle(Pekerjaan.values), cycle(StatusPernikahan.values)
    applicants = []
    for index, app_id in enumerate(app_ids):
        attributes = {
            **VALID_APPLICANT,
            "monthly_income": 4_000_000 + 1_500_000 * index,
            "housing_type": next(housing),
            "pekerjaan": next(occupations),
            "status_pernikahan": next(statuses),
            "num_of_dependent": index % 4,
            "tenor": (12, 24, 36, 48, 60)[index % 5],
        }
        applicants.append(Applicant.objects.create(app_id=app_id, source="book.csv", **attributes))
    return applicants


def rows_of(path, drop=("prediction_id",)) -> list[dict]:
    with open(path, newline="", encoding="utf-8") as handle:
        return [{key: value for key, value in row.items() if key not in drop} for row in csv.DictReader(handle)]


def as_upload(applicants) -> SimpleUploadedFile:
    """The applicants as a loan file of their own (app_id and the nine columns), as an analyst would upload it."""
    lines = [",".join(["app_id", *ATTRIBUTE_FIELDS])]
    lines += [
        ",".join(str(value) for value in [a.app_id, *(getattr(a, n) for n in ATTRIBUTE_FIELDS)]) for a in applicants
    ]
    return SimpleUploadedFile("book.csv", ("\n".join(lines) + "\n").encode(), content_type="text/csv")


def job_of(job_id) -> BatchScoringJob:
    return BatchScoringJob.objects.get(pk=job_id)


@pytest.fixture
def upload_dir(settings, tmp_path):
    settings.BATCH_UPLOAD_DIR = tmp_path / "uploads"


@pytest.fixture
def chunked(settings, upload_dir):
    settings.BATCH_CHUNK_APPLICATIONS = CHUNK
    settings.BATCH_INLINE_MAX_ROWS = 2  # five stored applications go to the workers


@pytest.fixture
def auditor(db):
    return make_user("aud", AUDITOR)


# ---------------------------------------------------------------------------------------------
# The service.


@pytest.mark.django_db
def test_a_small_book_is_rescored_at_once_one_linked_prediction_per_applicant(upload_dir, active_version, model_admin):
    applicants = {a.app_id: a for a in store_applicants()}

    job = submit_rescore(model_admin)

    assert job.status == "succeeded", job.error
    assert (job.source, job.in_worker, job.chunks, job.rows) == ("stored", False, 1, len(APP_IDS))
    assert job.display_name == "Stored applications (re-score)" and not job.has_report
    assert job.summary["applications_read"] == job.summary["applications_scored"] == len(APP_IDS)
    assert job.summary["rejected_rows"] == 0 and job.summary["model_version"].endswith(f"#{active_version.pk}")
    assert not BatchFilePart.objects.filter(job=job).exists()  # no upload, no rejection report
    # One prediction per stored applicant, linked to it, stored with the job and its position in app_id order.
    stored = Prediction.objects.filter(batch_job=job)
    assert sorted(stored.values_list("applicant__app_id", "batch_row")) == [
        (app_id, line) for line, app_id in enumerate(IN_ORDER, start=1)
    ]
    assert set(stored.values_list("channel", "user", "model_version")) == {("batch", model_admin.pk, active_version.pk)}
    for prediction in stored:
        applicant = applicants[prediction.applicant.app_id]
        assert prediction.input_attributes == {name: getattr(applicant, name) for name in ATTRIBUTE_FIELDS}

    # The results file: one row per applicant in app_id order, each naming its prediction…
    results = rows_of(results_file(job), drop=())
    assert [int(row["app_id"]) for row in results] == IN_ORDER
    by_app = {p.applicant.app_id: p for p in stored}
    assert [int(row["prediction_id"]) for row in results] == [by_app[app_id].pk for app_id in IN_ORDER]
    # …and the very rows the same applications give when uploaded as a file (the same records, the same chunks).
    upload = submit_batch_file(as_upload(applicants.values()), user=model_admin)
    assert upload.status == "succeeded", upload.error
    assert rows_of(results_file(job)) == rows_of(results_file(upload))


@pytest.mark.django_db
def test_a_large_book_is_read_a_page_at_a_time_into_chunks_that_the_chunk_tasks_score(
    chunked, active_version, model_admin
):
    applicants = {a.app_id: a for a in store_applicants()}
    job = submit_rescore(model_admin)  # more than BATCH_INLINE_MAX_ROWS: queued for the workers
    assert (job.status, job.in_worker, job.chunks) == ("queued", True, None)

    # The split task, as a worker runs it: the chunks are sent to the workers as a group.
    with CaptureQueriesContext(connection) as queries:
        assert run_batch_job(job.pk) == {"job_id": job.pk, "status": "split", "chunks": 3, "sent": 3}
    # Keyset pagination: a page of CHUNK applicants per query, each after the last app_id read, never the table.
    reads = [q["sql"] for q in queries.captured_queries if 'FROM "applicants_applicant"' in q["sql"]]
    assert len(reads) == 4  # three pages, then an empty one
    assert all(re.search(rf'ORDER BY (1|"applicants_applicant"\."app_id") ASC LIMIT {CHUNK}$', sql) for sql in reads)
    last_read = [IN_ORDER[1], IN_ORDER[3], IN_ORDER[4]]  # each page starts after the last app_id of the one before
    assert [f'"app_id" > {app_id}' in sql for sql, app_id in zip(reads[1:], last_read, strict=True)] == [True] * 3

    # The chunks hold the records an uploaded file's chunks hold: [line, app_id, the nine attributes].
    chunks = list(BatchChunk.objects.filter(job=job).order_by("number"))
    assert [(c.number, c.first_line, c.last_line, c.status) for c in chunks] == [
        (1, 1, 2, "pending"),
        (2, 3, 4, "pending"),
        (3, 5, 5, "pending"),
    ]
    records = [record for chunk in chunks for record in chunk.rows]
    assert records == [
        [line, app_id, *(getattr(applicants[app_id], name) for name in ATTRIBUTE_FIELDS)]
        for line, app_id in enumerate(IN_ORDER, start=1)
    ]
    assert job_of(job.pk).summary == {"applications_read": 5, "rejected_rows": 0, "rejected_applications": 0}

    # Each chunk task, as the workers run them.
    for number in (3, 1, 2):
        assert score_chunk(job.pk, number)["status"] == "scored"
    job = job_of(job.pk)
    assert job.status == "succeeded" and job.progress == 100, job.error
    assert job.summary["applications_scored"] == len(APP_IDS)
    assert [int(row["app_id"]) for row in rows_of(results_file(job))] == IN_ORDER
    assert Prediction.objects.filter(batch_job=job, applicant__isnull=False).count() == len(APP_IDS)


@pytest.mark.process  # starts a Celery worker process of its own
@pytest.mark.django_db(transaction=True)
def test_a_worker_process_takes_the_chunk_tasks_of_a_rescore(chunked, active_version, model_admin):
    store_applicants()
    worker = start_celery_worker(BATCH_CHUNK_APPLICATIONS=str(CHUNK), BATCH_CHUNK_RETRIES="0")
    try:
        job = submit_rescore(model_admin)
        assert job.in_worker and job.status == "queued"
        assert wait_until(lambda: job_of(job.pk).finished, 180), job_of(job.pk)
        log = worker.log_path.read_text(errors="replace")
    finally:
        stop_celery_worker(worker)
    job = job_of(job.pk)
    assert job.status == "succeeded", job.error
    assert chunk_tasks_scored(log, job.pk) == 3, log  # each chunk a task of its own
    assert sorted(Prediction.objects.filter(batch_job=job).values_list("applicant__app_id", flat=True)) == IN_ORDER
    assert [int(row["app_id"]) for row in rows_of(results_file(job))] == IN_ORDER


@pytest.mark.django_db
def test_a_rescore_is_marked_first_of_version_only_where_the_version_had_not_scored_the_applicant(
    upload_dir, make_version, model_admin
):
    make_version("LogisticRegression")
    applicants = store_applicants()
    score_stored_applicant(applicants[0], user=model_admin)  # the analyst's "score now", before any re-score

    def first_flags(job):
        flags = dict(Prediction.objects.filter(batch_job=job).values_list("applicant__app_id", "first_of_version"))
        assert len(flags) == len(APP_IDS)
        return flags

    # The version scored one applicant before: that prediction is a re-score, the others are firsts.
    first = submit_rescore(model_admin)
    assert first_flags(first) == {app_id: app_id != applicants[0].app_id for app_id in APP_IDS}
    # The same version again: every prediction is a re-score.
    again = submit_rescore(model_admin)
    assert set(first_flags(again).values()) == {False}
    # After a new version is activated, its re-score is every applicant's first by that version.
    new_version = make_version("LogisticRegression", name="LogisticRegression (retrained)")
    after = submit_rescore(model_admin)
    assert set(Prediction.objects.filter(batch_job=after).values_list("model_version", flat=True)) == {new_version.pk}
    assert set(first_flags(after).values()) == {True}


@pytest.mark.django_db
def test_a_chunk_task_delivered_twice_stores_nothing_twice(upload_dir, active_version, model_admin, settings):
    settings.BATCH_CHUNK_APPLICATIONS = CHUNK  # three chunks, scored in this process (a small book)
    store_applicants()
    job = submit_rescore(model_admin)
    assert job.status == "succeeded" and job.chunks == 3, job.error
    before = sorted(Prediction.objects.values_list("pk", "batch_row"))
    assert len(before) == len(APP_IDS)

    assert run_batch_job(job.pk)["status"] == "skipped"
    for number in (1, 2, 3):
        assert score_chunk(job.pk, number)["reason"] == "already scored"
    assert sorted(Prediction.objects.values_list("pk", "batch_row")) == before
    assert job_of(job.pk).summary == job.summary


@pytest.mark.django_db
def test_a_failing_chunk_fails_the_rescore_and_start_again_scores_only_the_missing_chunks(
    chunked, active_version, model_admin, analyst
):
    store_applicants()
    job = submit_rescore(model_admin)
    assert run_batch_job(job.pk)["sent"] == 3
    second = BatchChunk.objects.get(job=job, number=2)
    good_rows = second.rows
    BatchChunk.objects.filter(pk=second.pk).update(rows=[row[:5] for row in good_rows])  # cannot be scored

    # The workers: chunk 1 is scored, chunk 2 fails on its last attempt, chunk 3 finds the job failed.
    assert score_chunk(job.pk, 1)["status"] == "scored"
    with pytest.raises(ValueError):
        score_chunk(job.pk, 2, attempt=1, final=False)  # an attempt before the last: the task retries it
    assert score_chunk(job.pk, 2, attempt=2, final=True)["status"] == "failed"
    assert score_chunk(job.pk, 3)["reason"] == "job is failed"
    failed = job_of(job.pk)
    assert failed.status == "failed"
    assert failed.error.startswith(
        "Scoring stopped at part 2 of 3 (stored applications 3 to 4 in app_id order): it still failed after 2 "
        "attempts (ValueError: "
    ), failed.error
    assert failed.error.endswith(
        "The 1 parts already scored are kept; Start again scores only the parts that are missing."
    )
    kept = dict(Prediction.objects.filter(batch_job=job).values_list("batch_row", "pk"))
    assert sorted(kept) == [1, 2]

    # The fault is over; Start again: a new job of the same kind takes over the chunks and what they stored.
    BatchChunk.objects.filter(pk=second.pk).update(rows=good_rows)
    with pytest.raises(PermissionDenied):  # a re-score is a model admin's, started again too
        retry_batch_job(failed, user=analyst)
    again = retry_batch_job(failed, user=model_admin)
    assert again.pk != job.pk and again.retry_of_id == job.pk
    assert (again.source, again.status, again.chunks) == ("stored", "queued", 3)
    assert run_batch_job(again.pk) == {"job_id": again.pk, "status": "split", "chunks": 3, "sent": 2}
    for number in (2, 3):
        assert score_chunk(again.pk, number)["status"] == "scored"
    again = job_of(again.pk)
    assert again.status == "succeeded", again.error
    assert again.summary["applications_scored"] == again.summary["applications_read"] == len(APP_IDS)
    stored = dict(Prediction.objects.filter(batch_job=again).values_list("batch_row", "pk"))
    assert {row: stored[row] for row in kept} == kept  # the kept predictions, now the new job's
    assert len(stored) == len(APP_IDS) == Prediction.objects.count()  # nothing stored twice
    assert [int(row["app_id"]) for row in rows_of(results_file(again))] == IN_ORDER


# ---------------------------------------------------------------------------------------------
# What cannot start.


@pytest.mark.django_db
def test_with_no_stored_applications_nothing_starts_and_the_reason_is_given(upload_dir, active_version, model_admin):
    with pytest.raises(
        RescoreError, match=r"^There are no stored applications to re-score: import a loan file first\.$"
    ):
        submit_rescore(model_admin)
    assert not BatchScoringJob.objects.exists()


@pytest.mark.django_db
def test_with_no_active_model_nothing_starts_and_the_reason_is_given(upload_dir, model_admin):
    store_applicants()
    with pytest.raises(RescoreError, match=r"^No model version is active: a model admin must train a model"):
        submit_rescore(model_admin)
    assert not BatchScoringJob.objects.exists() and not Prediction.objects.exists()


@pytest.mark.django_db
def test_only_a_model_admin_may_rescore_through_the_service(upload_dir, active_version, analyst, auditor):
    store_applicants()
    for user in (analyst, auditor, None):
        with pytest.raises(PermissionDenied, match="Only a model admin may re-score the stored applications."):
            submit_rescore(user)
    assert not BatchScoringJob.objects.exists()


# ---------------------------------------------------------------------------------------------
# The batch page.


@pytest.mark.django_db
def test_a_model_admin_rescores_from_the_batch_page_and_follows_the_job_there(
    upload_dir, active_version, model_admin_client
):
    store_applicants()
    page = text_of(model_admin_client.get("/batch/"))
    assert "Re-score the stored applications" in page
    assert "every stored application, 5 in all, is scored again with the active model and policy" in page
    assert "Re-score all stored applications" in page

    response = model_admin_client.post("/batch/rescore/")
    job = BatchScoringJob.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/batch/{job.pk}/"
    job_page = checked_page(model_admin_client.get(response["Location"]))
    text = " ".join(" ".join(job_page.text).split())
    assert "Stored applications (re-score)" in text
    assert "Applications scored 5" in text and "of 5 stored applications read" in text
    assert "Rows with errors" not in text  # nothing is rejected: no such figure
    download = model_admin_client.get(f"/batch/{job.pk}/scored.csv")
    assert download["Content-Disposition"] == 'attachment; filename="stored-applications-scored.csv"'
    rows = list(csv.DictReader(io.StringIO(b"".join(download.streaming_content).decode())))
    assert [int(row["app_id"]) for row in rows] == IN_ORDER
    assert "Stored applications (re-score)" in text_of(model_admin_client.get("/batch/"))  # its recent jobs


@pytest.mark.django_db
def test_the_rescore_job_page_is_indonesian_in_indonesian(upload_dir, active_version, model_admin_client):
    store_applicants()
    assert model_admin_client.post("/i18n/setlang/", {"language": "id", "next": "/"}).status_code == 302
    checked_page(model_admin_client.get("/batch/"))  # the re-score form included: nothing left in English
    job_url = model_admin_client.post("/batch/rescore/")["Location"]
    text = " ".join(checked_page(model_admin_client.get(job_url)).text)
    assert "Aplikasi tersimpan (skor ulang)" in text


@pytest.mark.django_db
def test_the_page_says_why_a_rescore_cannot_start(upload_dir, model_admin_client, make_version):
    make_version("LogisticRegression")
    response = model_admin_client.post("/batch/rescore/", follow=True)
    assert response.redirect_chain == [("/batch/", 302)]
    assert "There are no stored applications to re-score: import a loan file first." in text_of(response)
    assert "There are no stored applications to re-score" in text_of(model_admin_client.get("/batch/"))
    assert not BatchScoringJob.objects.exists()


@pytest.mark.django_db
def test_without_an_active_model_the_page_refuses_the_rescore(upload_dir, model_admin_client):
    store_applicants()
    response = model_admin_client.post("/batch/rescore/", follow=True)
    assert "No model version is active: a model admin must train a model or activate a version." in text_of(response)
    assert not BatchScoringJob.objects.exists()


@pytest.mark.django_db
def test_analysts_and_auditors_may_not_rescore(upload_dir, active_version, analyst, auditor):
    store_applicants()
    browser = Client()
    browser.force_login(analyst)
    page = text_of(browser.get("/batch/"))
    assert "Upload a loan file" in page and "Re-score" not in page  # no form for an analyst
    assert browser.post("/batch/rescore/").status_code == 403
    browser.force_login(auditor)
    assert browser.post("/batch/rescore/").status_code == 403
    assert not BatchScoringJob.objects.exists() and not Prediction.objects.exists()
    assert Client().post("/batch/rescore/").status_code == 302  # anonymous: to the login page


# ---------------------------------------------------------------------------------------------
# manage.py rescore_applications.


@pytest.mark.django_db
def test_the_command_starts_a_rescore_and_prints_its_id(upload_dir, active_version, model_admin):
    store_applicants()
    out = io.StringIO()
    call_command("rescore_applications", "--user", model_admin.username, stdout=out)
    first, second = out.getvalue().splitlines()
    job = BatchScoringJob.objects.get()
    assert first == job.pk and job.source == "stored" and job.status == "succeeded"
    assert job.started_by == model_admin
    assert second == f"Re-scored 5 stored applications with {job.summary['model_version']}."


@pytest.mark.django_db
def test_the_command_queues_a_large_book_for_the_workers(chunked, active_version, model_admin):
    store_applicants()
    out = io.StringIO()
    call_command("rescore_applications", "--user", model_admin.username, stdout=out)
    job = BatchScoringJob.objects.get()
    assert out.getvalue().splitlines() == [job.pk, "Queued for the workers: 5 stored applications in parts of 2."]
    assert job.status == "queued" and job.in_worker


@pytest.mark.django_db
def test_the_command_refuses_who_is_not_a_model_admin_and_what_cannot_start(
    upload_dir, model_admin, analyst, auditor, make_version
):
    store_applicants()
    for user in (analyst, auditor):
        with pytest.raises(CommandError, match=rf"^User '{user.username}': Only a model admin may re-score"):
            call_command("rescore_applications", "--user", user.username)
    with pytest.raises(CommandError, match=r"^No user is named 'nobody'\.$"):
        call_command("rescore_applications", "--user", "nobody")
    with pytest.raises(CommandError, match=r"^No model version is active"):
        call_command("rescore_applications", "--user", model_admin.username)
    make_version("LogisticRegression")
    Applicant.objects.all().delete()
    with pytest.raises(CommandError, match=r"^There are no stored applications to re-score"):
        call_command("rescore_applications", "--user", model_admin.username)
    assert not BatchScoringJob.objects.exists()
