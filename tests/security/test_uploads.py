"""Batch-scoring uploads: size-limited, stored in the database (where nothing serves or runs them), names harmless.

Uploads go through the real page (``POST /batch/``) as an Analyst with an active model.
"""

import stat
import uuid
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile

from scoring.batch_jobs import JOB_ID
from scoring.models import BatchFilePart
from tests.security.conftest import BATCH_HEADER, BATCH_ROWS

pytestmark = pytest.mark.django_db

LIMIT = 2_000


@pytest.fixture
def uploads(settings, tmp_path):
    settings.BATCH_UPLOAD_DIR = tmp_path / "uploads"
    settings.BATCH_UPLOAD_MAX_BYTES = LIMIT
    return settings.BATCH_UPLOAD_DIR


@pytest.fixture
def scoring_ready(analyst_client, make_version, uploads):
    make_version()
    return analyst_client


def csv_of_size(size: int) -> bytes:
    """A valid loan file of exactly ``size`` bytes: repeated rows, then spaces."""
    body = ("\n".join([BATCH_HEADER, *BATCH_ROWS]) + "\n").encode()
    filler = BATCH_ROWS[0].encode() + b"\n"
    while len(body) + len(filler) <= size:
        body += filler
    return body + b" " * (size - len(body))


def stored_upload(job_id: str) -> bytes:
    parts = BatchFilePart.objects.filter(job_id=job_id, kind=BatchFilePart.Kind.INPUT).order_by("number")
    return b"".join(bytes(part.data) for part in parts)


def stored_files(root: Path) -> list[Path]:
    return sorted(path for path in root.rglob("*") if path.is_file()) if root.exists() else []


def multipart(filename: str, content: bytes) -> tuple[bytes, str]:
    """A multipart body with a file name exactly as given (the test client would clean it first)."""
    boundary = uuid.uuid4().hex
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{filename}"\r\n'
            f"Content-Type: text/csv\r\n\r\n"
        ).encode()
        + content
        + f"\r\n--{boundary}--\r\n".encode()
    )
    return body, f"multipart/form-data; boundary={boundary}"


def test_a_file_at_the_limit_is_accepted(scoring_ready, uploads):
    response = scoring_ready.post("/batch/", {"file": SimpleUploadedFile("book.csv", csv_of_size(LIMIT))})
    assert response.status_code == 302, response.content[:500]
    assert len(stored_upload(response["Location"].strip("/").split("/")[-1])) == LIMIT


@pytest.mark.parametrize("size", [LIMIT + 1, LIMIT + 200_000], ids=["one-byte-over", "far-over"])
def test_a_file_over_the_limit_is_refused_and_nothing_is_stored(scoring_ready, uploads, size):
    response = scoring_ready.post("/batch/", {"file": SimpleUploadedFile("book.csv", csv_of_size(size))})
    assert response.status_code == 413
    assert "larger than the limit" in response.content.decode()
    assert stored_files(uploads) == [] and not BatchFilePart.objects.exists()


def test_an_upload_is_stored_in_the_database_under_a_random_id_never_as_a_file(scoring_ready, uploads, tmp_path):
    content = csv_of_size(600)
    response = scoring_ready.post("/batch/", {"file": SimpleUploadedFile("book.csv", content)})
    assert response.status_code == 302
    job_id = response["Location"].strip("/").split("/")[-1]
    assert JOB_ID.match(job_id)  # 32 random hex digits, chosen by the server
    assert stored_upload(job_id) == content
    assert scoring_ready.get(response["Location"]).status_code == 200  # the page caches the results file
    # Only the results the web server serves are cached on its disk, in a private folder named by the job.
    assert {path.name for path in stored_files(tmp_path)} <= {"scored.csv", "scored-errors.csv"}
    for path in stored_files(tmp_path):
        assert path.resolve().is_relative_to((uploads / job_id).resolve())
        assert not stat.S_IMODE(path.stat().st_mode) & 0o111
    assert stat.S_IMODE((uploads / job_id).stat().st_mode) == 0o700
    # The upload itself is never served: only the results have URLs.
    assert scoring_ready.get(f"/batch/{job_id}/input.csv").status_code == 404


def test_the_default_upload_folder_is_outside_every_static_folder():
    upload_dir = Path(settings.BATCH_UPLOAD_DIR).resolve()
    for static_folder in [settings.STATIC_ROOT, *settings.STATICFILES_DIRS]:
        folder = Path(static_folder).resolve()
        assert not upload_dir.is_relative_to(folder) and not folder.is_relative_to(upload_dir)


@pytest.mark.parametrize("filename", ["../../x.csv", "..\\..\\x.csv", "/etc/cron.d/x.csv", "../../../tmp/x.csv"])
def test_a_file_name_with_a_path_is_harmless(scoring_ready, uploads, tmp_path, filename):
    body, content_type = multipart(filename, csv_of_size(600))
    response = scoring_ready.post("/batch/", body, content_type=content_type)
    assert response.status_code == 302, response.content[:500]
    page = scoring_ready.get(response["Location"])  # the page caches the results file
    files = stored_files(tmp_path)
    assert files and all(path.is_relative_to(uploads) for path in files), files
    assert {path.name for path in files} <= {"scored.csv", "scored-errors.csv"}
    assert not Path("/etc/cron.d/x.csv").exists() and not Path("/tmp/x.csv").exists()
    assert page.status_code == 200 and "x.csv" in page.content.decode()  # shown by its base name only


def test_a_script_uploaded_as_csv_is_only_read_as_csv(scoring_ready, uploads):
    script = b"#!/bin/sh\ntouch /tmp/npl-upload-was-executed\n"
    response = scoring_ready.post("/batch/", {"file": SimpleUploadedFile("run.csv", script)})
    assert response.status_code == 302
    page = scoring_ready.get(response["Location"]).content.decode()
    assert "The file could not be scored" in page and "missing column(s)" in page  # read as CSV, rejected
    assert not Path("/tmp/npl-upload-was-executed").exists()
    assert stored_upload(response["Location"].strip("/").split("/")[-1]) == script
    assert stored_files(uploads) == []  # a failed job has no results to cache; the script is in the database only
