"""manage.py score_csv: one scored row per application, a report for bad rows, every score stored."""

from datetime import date
from io import StringIO

import pandas as pd
import pytest
from django.core.management import CommandError, call_command

from applicants.generator import write_loan_book
from applicants.models import Applicant
from scoring.batch import OUTPUT_COLUMNS, score_loan_file
from scoring.models import DecisionPolicy, Prediction
from tests.support import VALID_APPLICANT

HEADER = (
    "app_id,due_date,paid_date,due_amount,paid_amount,monthly_income,housing_type,num_of_dependent,lama_bekerja,"
    "otr,status_pernikahan,pekerjaan,tenor,dp"
)
# The format sample of docs/data-format.md (1007 and 1008 are bad), plus two more bad cases.
LOAN_FILE = f"""{HEADER}
1001,2018-02-07,2018-02-07,Rp0.0,Rp12200000.0,Rp9295094.0,milik sendiri,3 orang,2 tahun,Rp800000000.0,Belum Nikah,Karyawan Swasta,60,Rp80000000.0
1001,2018-03-07,2018-03-06,Rp0.0,Rp12000000.0,Rp9295094.0,milik sendiri,3 orang,2 tahun,Rp800000000.0,Belum Nikah,Karyawan Swasta,60,Rp80000000.0
1002,2018-09-01,,Rp8140000.0,Rp0.0,Rp4250000.0,milik sendiri,3 orang,0 tahun,Rp200000000.0,Nikah,Wiraswasta,12,Rp20000000.0
1003,2018-06-15,2018-10-01,Rp0.0,Rp5500000.0,Rp7300000.0,kontrak,2 orang,1 tahun,Rp150000000.0,Nikah,Buruh,36,Rp15000000.0
1004,2018-11-20,2018-11-20,Rp0.0,"Rp 3.250.000",Rp 15.000.000,milik orang tua,0 orang,5 tahun,"Rp 350.000.000","Belum Nikah",PNS,24,"Rp 105.000.000"
1005,2019-01-10,2019-01-12,"Rp1.200.000,00","Rp2.000.000,00","Rp6.500.000,00",kos,1 orang,3 tahun,"Rp120.000.000,00",Belum Nikah,Ibu Rumah Tangga/Pensiunan/Mahasiswa/Lainnya,48,"Rp12.000.000,00"
1006,2018-08-05,2018-08-05,Rp0.0,Rp4100000.0,Rp11000000.0,milik pasangan,4 orang,12 tahun,Rp300000000.0,Nikah,Profesional,48,Rp60000000.0
1007,2018-08-05,2018-08-05,Rp0.0,Rp4100000.0,Rp-500000.0,rumah dinas,4 orang,2 tahun,Rp300000000.0,Cerai,Profesional,48,Rp60000000.0
1008,not-a-date,2018-08-05,Rp0.0,Rp4100000.0,Rp11000000.0,milik sendiri,banyak,2 tahun,Rp300000000.0,Nikah,Profesional,48,Rp400000000.0
1006,2018-09-05,2018-09-04,Rp0.0,Rp4100000.0,Rp11000000.0,milik pasangan,4 orang,12 tahun,Rp300000000.0,Nikah,Profesional,48,Rp60000000.0
1009,2018-09-05,,Rp0.0,Rp0.0,Rp11000000.0,kontrak,1,2,Rp300000000.0,Nikah,PNS,48,Rp60000000.0
1009,2018-10-05,,Rp0.0,Rp0.0,Rp11000000.0,kontrak,1,2,Rp300000000.0,Nikah,PNS,36,Rp60000000.0
x1,2018-10-05,,Rp0.0,Rp0.0,Rp11000000.0,kontrak,1,2,Rp300000000.0,Nikah,PNS,36,Rp60000000.0
1010,2018-10-05,,Rp0.0,Rp0.0,Rp11000000.0,kontrak,1,2,Rp300000000.0,Nikah,PNS,36,Rp60000000.0
1010,2018-11-05,,Rp0.0,Rp0.0,Rp11000000.0,kontrak,1,2,Rp300000000.0,Nikah,PNS,36,Rp600000000.0
"""  # noqa: E501
SCORED = [1001, 1002, 1003, 1004, 1005, 1006]


@pytest.fixture
def loan_file(tmp_path):
    path = tmp_path / "loans.csv"
    path.write_text(LOAN_FILE, encoding="utf-8")
    return path


def run(*args) -> str:
    out = StringIO()
    call_command("score_csv", *[str(a) for a in args], stdout=out)
    return out.getvalue()


def test_valid_applications_are_scored_and_bad_rows_reported(active_version, loan_file, tmp_path):
    out_path, report_path = tmp_path / "scores.csv", tmp_path / "report.csv"
    printed = run(loan_file, out_path, "--report", report_path)

    scores = pd.read_csv(out_path)
    assert list(scores.columns) == OUTPUT_COLUMNS
    assert scores["app_id"].tolist() == SCORED
    assert scores["model_version_id"].eq(active_version.pk).all()
    assert scores["policy_id"].eq(DecisionPolicy.objects.get(is_active=True).pk).all()
    assert scores["credit_score"].between(300, 850).all() and scores["risk_grade"].isin(list("ABCDE")).all()
    assert scores["reason_1"].str.contains("risk").all()

    stored = Prediction.objects.filter(channel="batch")
    assert stored.count() == 6 and sorted(scores["prediction_id"]) == sorted(stored.values_list("pk", flat=True))
    by_id = {p.pk: p for p in stored}
    for row in scores.itertuples():
        assert row.npl_probability == pytest.approx(by_id[row.prediction_id].npl_probability, abs=1e-6)
    assert by_id[scores.loc[0, "prediction_id"]].input_attributes["monthly_income"] == 9_295_094  # Rp9295094.0
    assert by_id[scores.loc[3, "prediction_id"]].input_attributes["otr"] == 350_000_000  # Rp 350.000.000

    report = pd.read_csv(report_path, dtype=str, keep_default_na=False)
    reasons = {(int(r.line), r.column): r.reason for r in report.itertuples()}
    # 1007 on line 9: negative income, unknown housing type and marital status.
    assert "negative" in reasons[(9, "monthly_income")]
    assert "allowed values" in reasons[(9, "housing_type")] and "allowed values" in reasons[(9, "status_pernikahan")]
    # 1008 on line 10: unreadable dependants and dp above otr (its bad due date is an ignored installment column).
    assert (10, "num_of_dependent") in reasons and "larger than Vehicle price" in reasons[(10, "dp")]
    assert not [key for key in reasons if key[1] == "due_date"]
    # 1009 (lines 12, 13): line 13's tenor disagrees with line 12's; x1 (line 14): bad app_id; 1010: line 16 bad
    # (its valid line 15 is rejected with it, and not listed again: one report line per bad cell).
    assert reasons[(13, "tenor")].startswith("Tenor (months) differs from line 12 of application 1009")
    assert (14, "app_id") in reasons
    assert "larger than Vehicle price" in reasons[(16, "dp")]
    assert not [key for key in reasons if key[0] in (12, 15)]
    assert "Rejected 5 rows of 4 applications" in printed and "scored 6 applications" in printed


def test_default_report_beside_the_output(active_version, loan_file, tmp_path):
    run(loan_file, tmp_path / "scores.csv")
    assert (tmp_path / "scores-errors.csv").exists()


def test_prediction_linked_to_the_stored_applicant_with_the_same_attributes(active_version, loan_file, tmp_path):
    same = Applicant.objects.create(
        app_id=1006,
        monthly_income=11_000_000,
        housing_type="milik pasangan",
        num_of_dependent=4,
        lama_bekerja=12,
        otr=300_000_000,
        status_pernikahan="Nikah",
        pekerjaan="Profesional",
        tenor=48,
        dp=60_000_000,
    )
    attributes = {field: getattr(same, field) for field in VALID_APPLICANT}
    other = Applicant.objects.create(**{**attributes, "app_id": 1001, "tenor": 12})  # stored differently
    run(loan_file, tmp_path / "scores.csv")
    assert Prediction.objects.get(applicant=same).input_attributes["tenor"] == 48
    assert not Prediction.objects.filter(applicant=other).exists()


def test_a_generated_loan_book_is_scored_whole(active_version, tmp_path):
    book = tmp_path / "book.csv"
    write_loan_book(book, tmp_path / "truth.csv", 120, seed=9, as_of=date(2024, 6, 30))
    run(book, tmp_path / "scores.csv")
    scores = pd.read_csv(tmp_path / "scores.csv")
    assert scores["app_id"].tolist() == list(range(1, 121))
    assert Prediction.objects.filter(channel="batch").count() == 120
    assert not (tmp_path / "scores-errors.csv").exists()


def test_no_active_model_stores_and_writes_nothing(db, loan_file, tmp_path):
    with pytest.raises(CommandError, match="No model version is active"):
        run(loan_file, tmp_path / "scores.csv")
    assert not Prediction.objects.exists() and not (tmp_path / "scores.csv").exists()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("app_id,monthly_income\n1,Rp1\n", r"missing column\(s\) housing_type"),
        ("", "empty"),
        (HEADER + "\n", "no loan rows"),
        (HEADER + '\n1,"Rp1,kos\n2,Rp1,kos\n', "the quoted value that opens on line 2 is never closed"),
    ],
)
def test_unusable_files_are_refused_with_a_reason(active_version, tmp_path, content, message):
    path = tmp_path / "bad.csv"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(CommandError, match=message):
        run(path, tmp_path / "scores.csv")
    assert not Prediction.objects.exists()


def test_missing_file(active_version, tmp_path):
    with pytest.raises(CommandError, match="no such file"):
        run(tmp_path / "nope.csv", tmp_path / "scores.csv")


def test_progress_is_reported_after_each_chunk_of_applications(active_version, loan_file, tmp_path):
    calls = []
    summary = score_loan_file(
        loan_file,
        tmp_path / "scores.csv",
        chunk_applications=4,
        progress=lambda done, total: calls.append((done, total)),
    )
    assert summary.applications_scored == len(SCORED)
    # (rows dealt with, rows of the file): the rejected rows first, then the rows of each chunk of applications.
    assert [total for _, total in calls] == [summary.rows_read] * 2
    assert calls[0][0] < calls[1][0] <= summary.rows_read


def test_the_output_s_reasons_are_worded_in_the_language_asked_for(active_version, loan_file, tmp_path):
    run(loan_file, tmp_path / "en.csv", "--language", "en")
    run(loan_file, tmp_path / "id.csv", "--language", "id")
    english = pd.read_csv(tmp_path / "en.csv", keep_default_na=False)["reason_1"]
    indonesian = pd.read_csv(tmp_path / "id.csv", keep_default_na=False)["reason_1"]
    assert len(english) == len(SCORED) and all("; typical " in reason for reason in english if reason)
    assert any(indonesian) and all("; biasanya " in reason for reason in indonesian if reason)
    with pytest.raises(CommandError, match="invalid choice: 'fr'"):
        run(loan_file, tmp_path / "fr.csv", "--language", "fr")
