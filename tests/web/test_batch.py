"""Batch scoring from the web page: upload, inline or worker scoring, results, row errors, downloads."""

import csv
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from scoring.models import Prediction
from tests.conftest import make_user, wait_until
from tests.web.pagecheck import checked_page, text_of

HEADER = "app_id,monthly_income,housing_type,num_of_dependent,lama_bekerja,otr,status_pernikahan,pekerjaan,tenor,dp"
ROWS = [
    "2001,Rp9295094.0,milik sendiri,3 orang,2 tahun,Rp800000000.0,Belum Nikah,Karyawan Swasta,60,Rp80000000.0",
    "2002,Rp 4.250.000,kontrak,1,0,Rp 200.000.000,Nikah,Wiraswasta,12,Rp 20.000.000",
    "2003,Rp-500000.0,rumah dinas,4 orang,2 tahun,Rp300000000.0,Cerai,Profesional,48,Rp60000000.0",
    "2004,Rp11000000.0,milik sendiri,banyak,2 tahun,Rp300000000.0,Nikah,Profesional,48,Rp400000000.0",
    "2002,Rp 4.250.000,kontrak,1,0,Rp 200.000.000,Nikah,Wiraswasta,12,Rp 20.000.000",
]


def loan_file(rows=ROWS, name="loans.csv") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, ("\n".join([HEADER, *rows]) + "\n").encode(), content_type="text/csv")


def upload(client, file):
    return client.post("/batch/", {"file": file})


@pytest.mark.django_db
def test_small_file_is_scored_at_once_with_row_errors_listed_and_results_downloadable(
    analyst_client, analyst, active_version, upload_dir
):
    response = upload(analyst_client, loan_file())

    assert response.status_code == 302
    job_url = response["Location"]
    page_response = analyst_client.get(job_url)
    checked_page(page_response)
    text = text_of(page_response)
    assert "Applications scored 2" in text and "from 5 rows" in text
    assert "Rows with errors 2" in text and "2 applications not scored" in text
    # Each bad line with its line number (the header is line 1) and reasons.
    assert "4 2003 Monthly income Rp-500000.0" in text
    assert "4 2003 Housing rumah dinas" in text
    assert "5 2004 Number of dependants banyak" in text
    assert "5 2004 Down payment Rp400000000.0" in text
    predictions = Prediction.objects.filter(channel="batch", user=analyst)
    assert predictions.count() == 2
    for prediction in predictions:
        assert f"{prediction.npl_probability * 100:.1f} %" in text

    download = analyst_client.get(job_url + "scored.csv")
    assert download.status_code == 200
    assert download["Content-Type"] == "text/csv"
    assert download["Content-Disposition"] == 'attachment; filename="loans-scored.csv"'
    rows = list(csv.DictReader(io.StringIO(b"".join(download.streaming_content).decode())))
    assert [row["app_id"] for row in rows] == ["2001", "2002"]
    assert {row["risk_grade"] for row in rows} <= set("ABCDE")

    errors = analyst_client.get(job_url + "errors.csv")
    report = list(csv.DictReader(io.StringIO(b"".join(errors.streaming_content).decode())))
    assert {row["line"] for row in report} == {"4", "5"}
    assert {row["column"] for row in report if row["line"] == "4"} == {
        "monthly_income",
        "housing_type",
        "status_pernikahan",
    }

    status = analyst_client.get(job_url + "status.json").json()
    assert status["status"] == "succeeded" and status["finished"] is True
    assert status["summary"]["applications_scored"] == 2

    listing = text_of(analyst_client.get("/batch/"))
    assert "Your recent files" in listing and "loans.csv" in listing


@pytest.mark.django_db
def test_the_upload_is_kept_in_the_database_where_every_worker_reads_it(analyst_client, active_version, upload_dir):
    from scoring.models import BatchFilePart

    file = loan_file(name="../../evil.csv")
    job_url = upload(analyst_client, file)["Location"]
    job_id = job_url.rstrip("/").rsplit("/", 1)[1]

    parts = BatchFilePart.objects.filter(job_id=job_id, kind="input").order_by("number")
    assert b"".join(bytes(part.data) for part in parts) == ("\n".join([HEADER, *ROWS]) + "\n").encode()
    on_disk = [path.name for path in upload_dir.parent.rglob("*") if path.is_file()]
    assert "input.csv" not in on_disk and "evil.csv" not in on_disk
    assert "evil.csv" in text_of(analyst_client.get(job_url))
    # The web server's cache of the results is private to it.
    assert (upload_dir / job_id / "scored.csv").is_file() and (upload_dir / job_id).stat().st_mode & 0o777 == 0o700


@pytest.mark.django_db
def test_another_users_job_is_not_found(client, analyst_client, active_version, upload_dir):
    job_url = upload(analyst_client, loan_file())["Location"]
    client.force_login(make_user("budi", "Analyst"))
    for suffix in ("", "status.json", "scored.csv", "errors.csv"):
        assert client.get(job_url + suffix).status_code == 404
    assert client.get("/batch/not-a-job/").status_code == 404


@pytest.mark.django_db
def test_a_file_over_the_size_limit_is_refused(analyst_client, active_version, upload_dir, settings):
    settings.BATCH_UPLOAD_MAX_BYTES = 200

    response = upload(analyst_client, loan_file())

    assert response.status_code == 413
    assert "The file is larger than the limit of 200" in text_of(response)
    assert not upload_dir.exists() or not any(upload_dir.iterdir())


@pytest.mark.django_db
def test_only_csv_files_are_taken(analyst_client, active_version, upload_dir):
    response = upload(analyst_client, SimpleUploadedFile("loans.xlsx", b"PK\x03\x04"))
    assert response.status_code == 400
    assert "Upload a CSV file (.csv or .txt); loans.xlsx is not one." in text_of(response)
    response = analyst_client.post("/batch/", {})
    assert response.status_code == 400 and "This field is required." in text_of(response)


@pytest.mark.django_db
def test_an_unusable_file_fails_with_a_message_naming_the_problem(analyst_client, active_version, upload_dir):
    job_url = upload(analyst_client, SimpleUploadedFile("x.csv", b"app_id,monthly_income\n1,5\n"))["Location"]
    text = text_of(analyst_client.get(job_url))
    assert "The file could not be scored." in text and "missing column(s) housing_type" in text
    assert analyst_client.get(job_url + "scored.csv").status_code == 404


@pytest.mark.django_db
def test_without_an_active_model_the_job_fails_and_says_why(analyst_client, upload_dir):
    job_url = upload(analyst_client, loan_file())["Location"]
    assert "No model version is active" in text_of(analyst_client.get(job_url))
    assert Prediction.objects.count() == 0


@pytest.mark.django_db
def test_a_large_file_waits_for_the_worker_with_a_progress_bar(analyst_client, active_version, upload_dir, settings):
    settings.BATCH_INLINE_MAX_ROWS = 2

    job_url = upload(analyst_client, loan_file())["Location"]

    page = checked_page(analyst_client.get(job_url))
    assert [attrs for attrs in page.all("section") if attrs.get("data-poll-url") == job_url + "status.json"]
    assert page.all("progress")
    assert {"src": "/static/js/progress-poll.js", "defer": None} in page.all("script")
    assert 'http-equiv="refresh"' in analyst_client.get(job_url).content.decode()  # without JavaScript
    status = analyst_client.get(job_url + "status.json").json()
    assert status == {**status, "status": "queued", "finished": False, "rows": 5}
    assert Prediction.objects.count() == 0


def test_the_worker_scores_a_large_file(client, analyst, make_version, settings, celery_worker_process):
    make_version()
    settings.BATCH_INLINE_MAX_ROWS = 2
    client.force_login(analyst)
    client.post("/i18n/setlang/", {"language": "id", "next": "/"})  # an Indonesian analyst starts the job

    job_url = upload(client, loan_file())["Location"]

    status = wait_until(lambda: (s := client.get(job_url + "status.json").json())["finished"] and s, timeout=120)
    assert status and status["status"] == "succeeded", status
    assert status["summary"]["applications_scored"] == 2 and status["summary"]["rejected_rows"] == 2
    assert Prediction.objects.filter(channel="batch", user=analyst).count() == 2
    assert "Aplikasi diskor 2" in text_of(client.get(job_url))
    # The worker wrote the results file in the language of the analyst who started the job (issue 22, item 9).
    download = client.get(job_url + "scored.csv")
    rows = list(csv.DictReader(io.StringIO(b"".join(download.streaming_content).decode())))
    reasons = [row["reason_1"] for row in rows if row["reason_1"]]
    assert reasons and all("; biasanya " in reason for reason in reasons), reasons


def test_the_job_header_groups_its_row_count_in_either_language(analyst_client, analyst, upload_dir):
    """Issue 22, item 19: "7.848 baris", not "7848 baris"."""
    from scoring.models import BatchScoringJob

    job = BatchScoringJob.objects.create(original_name="loans.csv", rows=7848, size=2048, started_by=analyst)
    assert "7,848 rows" in analyst_client.get(f"/batch/{job.pk}/").content.decode()
    analyst_client.post("/i18n/setlang/", {"language": "id", "next": "/"})
    assert "7.848 baris" in analyst_client.get(f"/batch/{job.pk}/").content.decode()


@pytest.mark.django_db
def test_results_are_offered_to_indonesian_excel_and_link_to_their_applicants(
    analyst_client, analyst, active_version, upload_dir
):
    """Issue 22, items 9 and 19: the job page words each row's reason in its reader's language and
    links it to its applicant; the results come as a file Indonesian Excel opens in columns."""
    from applicants.models import Applicant
    from scoring.reason_wording import worded_reasons

    Applicant.objects.create(
        app_id=2001,
        monthly_income=9_295_094,
        housing_type="milik sendiri",
        num_of_dependent=3,
        lama_bekerja=2,
        otr=800_000_000,
        status_pernikahan="Belum Nikah",
        pekerjaan="Karyawan Swasta",
        tenor=60,
        dp=80_000_000,
    )
    job_url = upload(analyst_client, loan_file())["Location"]  # started in English
    linked = Prediction.objects.get(applicant__app_id=2001)
    unlinked = Prediction.objects.get(input_attributes__tenor=12)
    english = analyst_client.get(job_url).content.decode()
    assert '<a href="/applicants/2001/">2001</a>' in english and "/applicants/2002/" not in english
    first = worded_reasons(linked.reasons, linked.input_attributes, "en")[0]["text"]
    assert first in text_of(analyst_client.get(job_url))

    analyst_client.post("/i18n/setlang/", {"language": "id", "next": "/"})
    indonesian = text_of(analyst_client.get(job_url))
    assert worded_reasons(linked.reasons, linked.input_attributes, "id")[0]["text"] in indonesian
    assert worded_reasons(unlinked.reasons, unlinked.input_attributes, "id")[0]["text"] in indonesian
    assert first not in indonesian

    download = analyst_client.get(job_url + "scored-excel.csv")
    assert download.status_code == 200 and download["Content-Type"] == "text/csv; charset=utf-8"
    assert download["Content-Disposition"] == 'attachment; filename="loans-scored-excel.csv"'
    content = b"".join(download.streaming_content).decode("utf-8")
    assert content.startswith("\ufeffapp_id;npl_probability;is_npl;threshold;")
    rows = list(csv.DictReader(io.StringIO(content.lstrip("\ufeff")), delimiter=";"))
    assert [row["app_id"] for row in rows] == ["2001", "2002"]
    for row in rows:
        prediction = Prediction.objects.get(pk=int(row["prediction_id"]))
        assert float(row["npl_probability"].replace(",", ".")) == pytest.approx(prediction.npl_probability, abs=1e-6)
        assert "." not in row["npl_probability"] and "." not in row["threshold"]
        assert row["expected_loss"] == str(prediction.expected_loss)
        # The reasons stay whole (quoted) although they may contain semicolons.
        assert row["reason_1"] == worded_reasons(prediction.reasons, prediction.input_attributes, "en")[0]["text"]
    assert analyst_client.get("/batch/" + "0" * 32 + "/scored-excel.csv").status_code == 404
