"""A batch file split into chunk tasks (issue 25): any worker takes them, each chunk is stored once,
a chunk that keeps failing fails the job in words, and "Start again" scores only what is missing.

The worker tests start a real ``celery worker`` process (the configured broker: Redis or the embedded
transport) on the test database, with chunks of two applications.
"""

import csv

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import IntegrityError, transaction

from scoring.batch import score_loan_file
from scoring.batch_jobs import report_file, results_file, retry_batch_job, run_batch_job, score_chunk, submit_batch_file
from scoring.models import BatchChunk, BatchScoringJob, Prediction
from tests.conftest import chunk_tasks_scored, start_celery_worker, stop_celery_worker, wait_until
from tests.scoring.test_score_csv import LOAN_FILE, SCORED

CHUNK = 2  # applications per chunk: the six scored applications of LOAN_FILE make three chunks
WORKER_SETTINGS = {"BATCH_CHUNK_APPLICATIONS": str(CHUNK), "BATCH_CHUNK_RETRIES": "1", "BATCH_CHUNK_RETRY_SECONDS": "0"}


@pytest.fixture
def chunked(settings, tmp_path):
    settings.BATCH_UPLOAD_DIR = tmp_path / "uploads"
    settings.BATCH_CHUNK_APPLICATIONS = CHUNK
    settings.BATCH_INLINE_MAX_ROWS = 2  # LOAN_FILE goes to the workers


def upload() -> SimpleUploadedFile:
    return SimpleUploadedFile("loans.csv", LOAN_FILE.encode(), content_type="text/csv")


def rows_of(path, drop=("prediction_id",)) -> list[dict]:
    with open(path, newline="", encoding="utf-8") as handle:
        return [{key: value for key, value in row.items() if key not in drop} for row in csv.DictReader(handle)]


def job_of(job_id) -> BatchScoringJob:
    return BatchScoringJob.objects.get(pk=job_id)


def finished(job_id, timeout=180) -> BatchScoringJob:
    assert wait_until(lambda: job_of(job_id).finished, timeout), job_of(job_id)
    return job_of(job_id)


@pytest.mark.process  # starts a Celery worker process of its own
@pytest.mark.django_db(transaction=True)
def test_a_file_is_split_into_chunk_tasks_and_assembled_as_the_single_pass_scores_it(chunked, active_version, tmp_path):
    worker = start_celery_worker(**WORKER_SETTINGS)
    try:
        job = submit_batch_file(upload(), user=None)
        assert job.in_worker and job.status == "queued"
        job = finished(job.pk)
        log = worker.log_path.read_text(errors="replace")
    finally:
        stop_celery_worker(worker)
    assert job.status == "succeeded", job.error

    # Three chunks, each scored by a Celery task of its own and stored with its job and file line.
    assert job.chunks == 3
    chunks = list(BatchChunk.objects.filter(job=job))
    assert [(chunk.number, chunk.status, chunk.scored) for chunk in chunks] == [(n, "done", CHUNK) for n in (1, 2, 3)]
    assert log.count("Task scoring.score_batch_file[") >= 2  # received, succeeded
    assert chunk_tasks_scored(log, job.pk) == 3, log  # each chunk a task of its own
    stored = Prediction.objects.filter(batch_job=job)
    assert stored.count() == len(SCORED) and stored.values("batch_row").distinct().count() == len(SCORED)

    # The same file in one pass (manage.py score_csv): the assembled summary, results and report agree.
    (tmp_path / "loans.csv").write_text(LOAN_FILE, encoding="utf-8")
    single_path, single_report = tmp_path / "single.csv", tmp_path / "single-errors.csv"
    single = score_loan_file(tmp_path / "loans.csv", single_path, report_path=single_report)
    assert job.summary == {
        "statistics": single.statistics.as_dict(),
        "rows_read": single.rows_read,
        "applications_scored": single.applications_scored,
        "rejected_rows": single.rejected_rows,
        "rejected_applications": single.rejected_applications,
        "model_version": single.model_version,
    }
    assert rows_of(results_file(job)) == rows_of(single_path)
    assert [int(row["app_id"]) for row in rows_of(results_file(job))] == SCORED
    assert report_file(job).read_bytes() == single_report.read_bytes()
    # Each results row names the prediction stored for it.
    ids = [int(row["prediction_id"]) for row in rows_of(results_file(job), drop=())]
    assert sorted(ids) == sorted(stored.values_list("pk", flat=True))


@pytest.mark.django_db
def test_a_chunk_delivered_twice_stores_each_prediction_once(chunked, active_version, settings):
    settings.BATCH_INLINE_MAX_ROWS = 1000
    job = submit_batch_file(upload(), user=None)  # small: split and scored in this process, by the same steps
    assert job.status == "succeeded" and job.chunks == 3, job.error
    before = sorted(Prediction.objects.filter(batch_job=job).values_list("pk", "batch_row"))
    assert len(before) == len(SCORED)

    # The split task and every chunk task delivered again: nothing more is stored.
    assert run_batch_job(job.pk)["status"] == "skipped"
    for number in (1, 2, 3):
        assert score_chunk(job.pk, number) == {
            "job_id": job.pk,
            "chunk": number,
            "status": "skipped",
            "reason": "already scored",
        }
    assert sorted(Prediction.objects.filter(batch_job=job).values_list("pk", "batch_row")) == before
    assert job_of(job.pk).summary == job.summary

    # The database itself refuses a second prediction of the same job and file line.
    first = Prediction.objects.filter(batch_job=job).first()
    first.pk = None
    with pytest.raises(IntegrityError), transaction.atomic():
        first.save(force_insert=True)
    # Predictions of no job (the web form, the API) are not concerned.
    first.batch_job, first.batch_row = None, None
    first.save(force_insert=True)
    first.pk = None
    first.save(force_insert=True)


@pytest.mark.django_db(transaction=True)
def test_a_chunk_failing_after_its_retries_fails_the_job_and_start_again_scores_only_what_is_missing(
    chunked, active_version
):
    job = submit_batch_file(upload(), user=None)  # queued for the workers, none running yet
    # Split here (the task a worker would run first), then chunk 2's stored rows are spoiled: every
    # attempt at it fails, whichever worker takes it.
    assert run_batch_job(job.pk)["sent"] == 3
    second = BatchChunk.objects.get(job=job, number=2)
    good_rows = second.rows
    BatchChunk.objects.filter(pk=second.pk).update(rows=[row[:5] for row in good_rows])

    worker = start_celery_worker(**WORKER_SETTINGS)
    try:
        failed = finished(job.pk)
        assert failed.status == "failed"
        assert failed.error.startswith(
            f"Scoring stopped at part 2 of 3 (file lines {second.first_line} to {second.last_line}): "
            "it still failed after 2 attempts (ValueError: "
        ), failed.error
        assert "parts already scored are kept; Start again scores only the parts that are missing." in failed.error
        assert BatchChunk.objects.get(job=job, number=2).status == "failed"
        kept = dict(Prediction.objects.filter(batch_job=job).values_list("batch_row", "pk"))
        done = set(BatchChunk.objects.filter(job=job, status="done").values_list("number", flat=True))
        assert len(kept) == CHUNK * len(done) and 2 not in done

        # The fault is over; Start again: a new job takes over the file, the chunks and what they stored.
        BatchChunk.objects.filter(pk=second.pk).update(rows=good_rows)
        again = retry_batch_job(failed, user=None)
        assert again.pk != job.pk and again.retry_of_id == job.pk
        again = finished(again.pk)
    finally:
        stop_celery_worker(worker)
    assert again.status == "succeeded", again.error
    assert again.summary["applications_scored"] == len(SCORED)
    # Only the missing chunks were scored: the kept predictions are the same rows, now the new job's.
    stored = dict(Prediction.objects.filter(batch_job=again).values_list("batch_row", "pk"))
    assert {row: stored[row] for row in kept} == kept
    assert len(stored) == len(SCORED) == Prediction.objects.filter(channel="batch").count()
    assert [int(row["app_id"]) for row in rows_of(results_file(again))] == SCORED
    assert not Prediction.objects.filter(batch_job=job).exists() and not BatchChunk.objects.filter(job=job).exists()


@pytest.mark.django_db
def test_a_chunk_locks_its_own_row_not_the_jobs(chunked, active_version, settings):
    """Chunks of one job are scored side by side: a chunk's transaction locks its chunk's row only. (The
    chunk model's default order joins the job; a plain FOR UPDATE then locked the job's row for the
    whole chunk too, and the workers took turns: two were no faster than one.)"""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    if connection.vendor != "postgresql":
        pytest.skip("row locks are PostgreSQL's (SQLite locks the whole file)")
    settings.BATCH_INLINE_MAX_ROWS = 1000  # scored in this process, by the chunk tasks' own steps
    with CaptureQueriesContext(connection) as queries:
        job = submit_batch_file(upload(), user=None)
    assert job.status == "succeeded" and job.chunks == 3, job.error
    locks = [query["sql"] for query in queries.captured_queries if "FOR UPDATE" in query["sql"]]
    chunk_locks = [sql for sql in locks if "scoring_batchchunk" in sql]
    assert len(chunk_locks) == 3
    for sql in chunk_locks:
        assert 'FOR UPDATE OF "scoring_batchchunk"' in sql and "scoring_batchscoringjob" not in sql, sql
