# ruff: noqa: E501 (SAMPLE_CSV is a verbatim copy of a loan file, long lines included)
"""The loan-file import: ``python manage.py import_loans`` and ``import_loan_file``."""

import csv
from datetime import date
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from applicants.loan_file import LOAN_FILE_COLUMNS
from applicants.models import Applicant, Installment
from applicants.services import import_loan_file

pytestmark = pytest.mark.django_db

# The worked example of docs/data-format.md (a copy of the customer's sample file).
SAMPLE_CSV = """\
app_id,due_date,paid_date,due_amount,paid_amount,monthly_income,housing_type,num_of_dependent,lama_bekerja,otr,status_pernikahan,pekerjaan,tenor,dp
1001,2018-02-07,2018-02-07,Rp0.0,Rp12200000.0,Rp9295094.0,milik sendiri,3 orang,2 tahun,Rp800000000.0,Belum Nikah,Karyawan Swasta,60,Rp80000000.0
1001,2018-03-07,2018-03-06,Rp0.0,Rp12000000.0,Rp9295094.0,milik sendiri,3 orang,2 tahun,Rp800000000.0,Belum Nikah,Karyawan Swasta,60,Rp80000000.0
1001,2018-04-07,2018-04-06,Rp0.0,Rp12000000.0,Rp9295094.0,milik sendiri,3 orang,2 tahun,Rp800000000.0,Belum Nikah,Karyawan Swasta,60,Rp80000000.0
1001,2018-05-07,2018-05-25,Rp0.0,Rp12000000.0,Rp9295094.0,milik sendiri,3 orang,2 tahun,Rp800000000.0,Belum Nikah,Karyawan Swasta,60,Rp80000000.0
1002,2018-09-01,,Rp8140000.0,Rp0.0,Rp4250000.0,milik sendiri,3 orang,0 tahun,Rp200000000.0,Nikah,Wiraswasta,12,Rp20000000.0
1002,2018-10-01,,Rp7640000.0,Rp0.0,Rp4250000.0,milik sendiri,3 orang,0 tahun,Rp200000000.0,Nikah,Wiraswasta,12,Rp20000000.0
1002,2018-11-01,,Rp6880000.0,Rp0.0,Rp4250000.0,milik sendiri,3 orang,0 tahun,Rp200000000.0,Nikah,Wiraswasta,12,Rp20000000.0
1003,2018-06-15,2018-10-01,Rp0.0,Rp5500000.0,Rp7300000.0,kontrak,2 orang,1 tahun,Rp150000000.0,Nikah,Buruh,36,Rp15000000.0
1003,2018-07-15,2018-10-01,Rp0.0,Rp5500000.0,Rp7300000.0,kontrak,2 orang,1 tahun,Rp150000000.0,Nikah,Buruh,36,Rp15000000.0
1004,2018-11-20,2018-11-20,Rp0.0,"Rp 3.250.000",Rp 15.000.000,milik orang tua,0 orang,5 tahun,"Rp 350.000.000","Belum Nikah",PNS,24,"Rp 105.000.000"
1004,2018-12-20,2018-12-19,Rp0.0,"Rp 3.250.000",Rp 15.000.000,milik orang tua,0 orang,5 tahun,"Rp 350.000.000","Belum Nikah",PNS,24,"Rp 105.000.000"
1005,2019-01-10,2019-01-12,"Rp1.200.000,00","Rp2.000.000,00","Rp6.500.000,00",kos,1 orang,3 tahun,"Rp120.000.000,00",Belum Nikah,Ibu Rumah Tangga/Pensiunan/Mahasiswa/Lainnya,48,"Rp12.000.000,00"
1006,2018-08-05,2018-08-05,Rp0.0,Rp4100000.0,Rp11000000.0,milik pasangan,4 orang,12 tahun,Rp300000000.0,Nikah,Profesional,48,Rp60000000.0
1007,2018-08-05,2018-08-05,Rp0.0,Rp4100000.0,Rp-500000.0,rumah dinas,4 orang,2 tahun,Rp300000000.0,Cerai,Profesional,48,Rp60000000.0
1008,not-a-date,2018-08-05,Rp0.0,Rp4100000.0,Rp11000000.0,milik sendiri,banyak,2 tahun,Rp300000000.0,Nikah,Profesional,48,Rp400000000.0
1006,2018-09-05,2018-09-04,Rp0.0,Rp4100000.0,Rp11000000.0,milik pasangan,4 orang,12 tahun,Rp300000000.0,Nikah,Profesional,48,Rp60000000.0
"""
HEADER = SAMPLE_CSV.splitlines()[0]
AS_OF = "2019-06-30"

# The worked example: app_id → (installments, max DPD, kolektibilitas, NPL) as of 2019-06-30.
WORKED_EXAMPLE = {
    1001: (4, 18, 2, False),
    1002: (3, 302, 5, True),
    1003: (2, 108, 3, True),
    1004: (2, 0, 1, False),
    1005: (1, 171, 4, True),
    1006: (2, 0, 1, False),
}


def row(app_id, due_date="2018-01-05", paid_date="2018-01-05", due_amount="Rp0.0", paid_amount="Rp1000000.0", **attrs):
    """One raw loan-file line; attributes default to a valid applicant."""
    values = {
        "monthly_income": "Rp9295094.0",
        "housing_type": "kos",
        "num_of_dependent": "1 orang",
        "lama_bekerja": "2 tahun",
        "otr": "Rp200000000.0",
        "status_pernikahan": "Nikah",
        "pekerjaan": "PNS",
        "tenor": "12",
        "dp": "Rp20000000.0",
        **attrs,
    }
    cells = [str(app_id), due_date, paid_date, due_amount, paid_amount, *(values[c] for c in LOAN_FILE_COLUMNS[5:])]
    buffer = StringIO()
    csv.writer(buffer, lineterminator="").writerow(cells)
    return buffer.getvalue()


def write(tmp_path, text, name="loans.csv"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def run_import(path, *args):
    out = StringIO()
    call_command("import_loans", str(path), "--no-progress", *args, stdout=out)
    return out.getvalue()


def read_report(path):
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def stored_labels():
    return {
        a.app_id: (a.installments.count(), a.max_dpd, a.kolektibilitas, a.is_npl)
        for a in Applicant.objects.prefetch_related("installments")
    }


class TestWorkedExample:
    def test_sample_import_gives_the_worked_example(self, tmp_path):
        sample = write(tmp_path, SAMPLE_CSV)
        report = tmp_path / "rejected.csv"

        output = run_import(sample, "--as-of", AS_OF, "--report", str(report))

        assert stored_labels() == WORKED_EXAMPLE
        assert Installment.objects.count() == 14
        assert all(a.labelled_as_of == date(2019, 6, 30) for a in Applicant.objects.all())
        assert "6 imported (6 new, 0 updated, 0 unchanged)" in output
        assert "14 imported (14 new, 0 updated, 0 unchanged)" in output
        assert "rejected: 2 rows, 2 applications" in output
        assert "as of 2019-06-30" in output

        rejections = read_report(report)
        assert list(rejections[0]) == ["line", "app_id", "column", "value", "reason"]
        assert [(r["line"], r["app_id"], r["column"], r["value"]) for r in rejections] == [
            ("15", "1007", "monthly_income", "Rp-500000.0"),
            ("15", "1007", "housing_type", "rumah dinas"),
            ("15", "1007", "status_pernikahan", "Cerai"),
            ("16", "1008", "due_date", "not-a-date"),
            ("16", "1008", "num_of_dependent", "banyak"),
            ("16", "1008", "dp", "Rp400000000.0"),
        ]
        reasons = [r["reason"] for r in rejections]
        assert "negative" in reasons[0]
        assert "allowed values: milik sendiri" in reasons[1]
        assert "allowed values: Nikah, Belum Nikah" in reasons[2]
        assert "YYYY-MM-DD" in reasons[3]
        assert "Down payment of Rp 400,000,000 is larger than Vehicle price (OTR) of Rp 300,000,000" in reasons[5]

    def test_every_spelling_is_parsed_to_the_same_integers(self, tmp_path):
        run_import(write(tmp_path, SAMPLE_CSV), "--as-of", AS_OF)
        a1001 = Applicant.objects.get(app_id=1001)
        assert (a1001.monthly_income, a1001.otr, a1001.dp) == (9_295_094, 800_000_000, 80_000_000)
        assert (a1001.num_of_dependent, a1001.lama_bekerja, a1001.tenor) == (3, 2, 60)
        a1004 = Applicant.objects.get(app_id=1004)
        assert (a1004.monthly_income, a1004.otr, a1004.dp) == (15_000_000, 350_000_000, 105_000_000)
        assert a1004.installments.first().paid_amount == 3_250_000
        a1005 = Applicant.objects.get(app_id=1005)
        assert (a1005.monthly_income, a1005.otr, a1005.dp) == (6_500_000, 120_000_000, 12_000_000)
        assert a1005.installments.get().due_amount == 1_200_000
        assert a1005.pekerjaan == "Ibu Rumah Tangga/Pensiunan/Mahasiswa/Lainnya"

    def test_summary_lists_rejections_without_a_report_file(self, tmp_path):
        output = run_import(write(tmp_path, SAMPLE_CSV), "--as-of", AS_OF)
        assert "line 15, app 1007, housing_type = 'rumah dinas'" in output
        assert "line 16, app 1008, num_of_dependent = 'banyak'" in output
        assert "--report PATH" in output
        assert list(tmp_path.iterdir()) == [tmp_path / "loans.csv"]

    def test_default_as_of_is_the_latest_date_in_the_file(self, tmp_path):
        output = run_import(write(tmp_path, SAMPLE_CSV))
        assert "as of 2019-01-12" in output  # 1005's payment, the latest date among the valid rows
        assert set(Applicant.objects.values_list("labelled_as_of", flat=True)) == {date(2019, 1, 12)}

    def test_small_chunks_and_many_partitions_give_the_same_result(self, tmp_path):
        sample = write(tmp_path, SAMPLE_CSV)
        report = tmp_path / "rejected.csv"
        summary = import_loan_file(
            sample, as_of=date(2019, 6, 30), report_path=report, chunk_rows=3, partition_bytes=400, progress=False
        )
        assert stored_labels() == WORKED_EXAMPLE
        assert (summary.applications_created, summary.installments_created) == (6, 14)
        assert (summary.rejected_rows, summary.rejected_applications) == (2, 2)
        assert [r["line"] for r in read_report(report)] == ["15", "15", "15", "16", "16", "16"]


class TestReimport:
    def test_importing_again_changes_nothing(self, tmp_path):
        sample = write(tmp_path, SAMPLE_CSV)
        run_import(sample, "--as-of", AS_OF)
        before = list(Applicant.objects.values_list("pk", "app_id", "updated_at", "created_at").order_by("pk"))
        installments_before = list(Installment.objects.values_list("pk", "applicant_id", "due_date").order_by("pk"))

        output = run_import(sample, "--as-of", AS_OF)

        assert "6 imported (0 new, 0 updated, 6 unchanged)" in output
        assert "14 imported (0 new, 0 updated, 14 unchanged)" in output
        assert "rejected: 2 rows, 2 applications" in output
        assert list(Applicant.objects.values_list("pk", "app_id", "updated_at", "created_at").order_by("pk")) == before
        assert list(Installment.objects.values_list("pk", "applicant_id", "due_date").order_by("pk")) == (
            installments_before
        )
        assert stored_labels() == WORKED_EXAMPLE

    def test_changed_rows_are_updated_and_relabelled(self, tmp_path):
        run_import(write(tmp_path, SAMPLE_CSV), "--as-of", AS_OF)
        created_at = Applicant.objects.get(app_id=1001).created_at
        changed = (
            SAMPLE_CSV.replace("Rp9295094.0", "Rp9500000.0")  # 1001's income, on all its rows
            # 1002's first installment now paid in full, two days late
            .replace("1002,2018-09-01,,Rp8140000.0,Rp0.0", "1002,2018-09-01,2018-09-03,Rp0.0,Rp8140000.0")
        )
        changed += row(1006, due_date="2018-10-05", paid_date="2018-10-05", **_attrs_of_1006()) + "\n"

        summary = import_loan_file(write(tmp_path, changed, "loans-2.csv"), as_of=date(2019, 6, 30), progress=False)

        assert (summary.applications_created, summary.applications_updated) == (0, 1)  # 1001's income
        assert (summary.installments_created, summary.installments_updated, summary.installments_unchanged) == (
            1,
            1,
            13,
        )
        assert Applicant.objects.count() == 6 and Installment.objects.count() == 15
        a1001 = Applicant.objects.get(app_id=1001)
        assert a1001.monthly_income == 9_500_000
        assert a1001.created_at == created_at and a1001.updated_at > created_at
        assert a1001.source == "loans-2.csv"
        assert Applicant.objects.get(app_id=1003).source == "loans.csv"  # unchanged, untouched
        first = Installment.objects.get(applicant__app_id=1002, due_date=date(2018, 9, 1))
        assert (first.paid_date, first.due_amount, first.paid_amount) == (date(2018, 9, 3), 0, 8_140_000)
        a1002 = Applicant.objects.get(app_id=1002)
        assert a1002.max_dpd == 272  # now from the 2018-10-01 installment, still owed on 2019-06-30
        assert Applicant.objects.get(app_id=1006).installments.count() == 3

    def test_stored_installments_missing_from_the_file_stay_and_count_for_the_labels(self, tmp_path):
        run_import(write(tmp_path, SAMPLE_CSV), "--as-of", AS_OF)
        # An export listing only 1002's first installment, now paid two days late: its other two
        # installments (still owed since 2018-10-01 and 2018-11-01) are not in this file.
        update = "\n".join(
            [HEADER, SAMPLE_CSV.splitlines()[5].replace(",,Rp8140000.0,Rp0.0", ",2018-09-03,Rp0.0,Rp8140000.0")]
        )

        summary = import_loan_file(
            write(tmp_path, update + "\n", "recent.csv"), as_of=date(2019, 6, 30), progress=False
        )

        assert (summary.installments_created, summary.installments_updated, summary.installments_unchanged) == (0, 1, 0)
        assert (summary.applications_updated, summary.applications_unchanged) == (0, 1)
        a1002 = Applicant.objects.get(app_id=1002)
        assert a1002.installments.count() == 3
        # From the file's row alone: 2 days past due (kol 2); with the stored rows: 272 (kol 5).
        assert (a1002.max_dpd, a1002.kolektibilitas, a1002.is_npl) == (272, 5, True)
        assert (summary.labelling.labelled, summary.labelling.npl) == (1, 1)
        assert {app_id: labels for app_id, labels in stored_labels().items() if app_id != 1002} == {
            app_id: labels for app_id, labels in WORKED_EXAMPLE.items() if app_id != 1002
        }


def _attrs_of_1006():
    return {
        "monthly_income": "Rp11000000.0",
        "housing_type": "milik pasangan",
        "num_of_dependent": "4 orang",
        "lama_bekerja": "12 tahun",
        "otr": "Rp300000000.0",
        "status_pernikahan": "Nikah",
        "pekerjaan": "Profesional",
        "tenor": "48",
        "dp": "Rp60000000.0",
    }


class TestRejections:
    def test_disagreeing_attributes_reject_the_application_and_keep_the_others(self, tmp_path):
        lines = [
            HEADER,
            row(2001, due_date="2018-01-05"),  # line 2
            row(2002, due_date="2018-01-05"),  # line 3
            row(2001, due_date="2018-02-05", monthly_income="Rp9500000.0", tenor="24"),  # line 4: disagrees
            row(2001, due_date="2018-03-05", monthly_income="Rp 9.295.094"),  # line 5: same income, other spelling
            row(2002, due_date="2018-02-05", monthly_income="Rp9.295.094,00"),  # line 6
        ]
        report = tmp_path / "rejected.csv"
        summary = import_loan_file(write(tmp_path, "\n".join(lines) + "\n"), report_path=report, progress=False)

        assert list(Applicant.objects.values_list("app_id", flat=True)) == [2002]
        assert Installment.objects.count() == 2
        # One report line per disagreeing cell; the application's other rows are not repeated.
        assert (summary.rejected_rows, summary.rejected_applications) == (1, 1)
        rejections = read_report(report)
        assert [(r["line"], r["column"]) for r in rejections] == [("4", "monthly_income"), ("4", "tenor")]
        assert rejections[0]["value"] == "9500000"
        assert rejections[0]["reason"] == "Monthly income differs from line 2 of application 2001, which has 9295094"

    def test_an_invalid_row_rejects_its_whole_application(self, tmp_path):
        lines = [
            HEADER,
            row(3001, due_date="2018-01-05"),  # line 2
            row(3002, due_date="2018-01-05"),  # line 3
            row(3001, due_date="2018-02-05", due_amount="Rp12,5,0", pekerjaan="Petani"),  # line 4: invalid
            "",  # line 5: blank lines are skipped but keep their line number
            row(3001, due_date="2018-03-05"),  # line 6
            row("abc", due_date="2018-03-05"),  # line 7: no usable app_id
        ]
        report = tmp_path / "rejected.csv"
        summary = import_loan_file(write(tmp_path, "\n".join(lines) + "\n"), report_path=report, progress=False)

        assert list(Applicant.objects.values_list("app_id", flat=True)) == [3002]
        assert (summary.rejected_rows, summary.rejected_applications) == (2, 1)
        rejections = read_report(report)
        # One line per bad cell: the valid rows 2 and 6 of application 3001 are not listed again.
        assert [(r["line"], r["app_id"], r["column"]) for r in rejections] == [
            ("4", "3001", "due_amount"),
            ("4", "3001", "pekerjaan"),
            ("7", "abc", "app_id"),
        ]
        assert rejections[0]["reason"].startswith("Amount due: ")
        assert rejections[1]["reason"].startswith("Occupation: unknown value “Petani”")
        assert "comma" in rejections[0]["reason"]

    def test_two_installments_due_on_the_same_day_reject_the_application(self, tmp_path):
        lines = [HEADER, row(4001, due_date="2018-01-05"), row(4001, due_date="2018-01-05"), row(4002)]
        report = tmp_path / "rejected.csv"
        import_loan_file(write(tmp_path, "\n".join(lines)), report_path=report, progress=False)
        assert list(Applicant.objects.values_list("app_id", flat=True)) == [4002]
        rejections = read_report(report)
        assert [(r["line"], r["column"]) for r in rejections] == [("2", "due_date"), ("3", "due_date")]
        assert "lines 2, 3" in rejections[0]["reason"]

    def test_a_clean_file_writes_an_empty_report(self, tmp_path):
        report = tmp_path / "rejected.csv"
        output = run_import(write(tmp_path, f"{HEADER}\n{row(5001)}\n"), "--report", str(report))
        assert "rejected: 0 rows, 0 applications" in output
        assert read_report(report) == []
        assert report.read_text().strip() == "line,app_id,column,value,reason"


OPENED_QUOTE_ROW = row(2).replace(",Rp", ',"Rp', 1)
UNREADABLE = {
    "tabs": (HEADER.replace(",", "\t") + "\n", "separated by tabs"),
    "missing column": (HEADER.replace(",tenor", "") + "\n", "missing column(s) tenor"),
    "duplicated column": (HEADER + ",dp\n" + row(1) + ",Rp1.0\n", "dp appear more than once"),
    "empty": ("", "the file is empty"),
    "only blank lines": ("\n\n  \n", "the file is empty"),
    "header only": (HEADER + "\n", "no loan rows"),
    "header of 140,000 characters": (HEADER + "," + "x" * 140_000 + "\n" + row(1) + "\n", "header (line 1) is longer"),
    "twenty extra values": (f"{HEADER}\n{row(1)}\n{row(2)}{',x' * 20}\n", "line 3 has 34 values but the header has 14"),
    "no header": (f"{row(1)}\n{row(2)}\n", "missing column(s) app_id"),
    # Issue 22, item 4: one message in words naming the line where the quote opened.
    "a quote left open to the end": (
        f"{HEADER}\n{row(1)}\n{OPENED_QUOTE_ROW}\n{row(3)}\n{row(4)}\n",
        "the quoted value that opens on line 3 is never closed",
    ),
}
UNREADABLE_BYTES = {
    "binary junk": (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00", "binary file"),
    "spreadsheet": (b"PK\x03\x04\x14\x00\x06\x00\x08\x00\x00\x00!\x00", "binary file"),
    "non-UTF-8 text": (
        f"{HEADER}\n{row(1)}\n".encode() + f"{row(2, housing_type='kos é')}\n{row(3)}\n".encode("latin-1"),
        "line 3 is not UTF-8 text (byte 0xE9)",
    ),
}


class TestUnreadableFiles:
    @pytest.mark.parametrize(("content", "message"), list(UNREADABLE.values()), ids=list(UNREADABLE))
    def test_unreadable_text_stops_with_one_message_and_writes_nothing(self, tmp_path, content, message):
        self._assert_rejected(write(tmp_path, content), message, tmp_path)

    @pytest.mark.parametrize(("content", "message"), list(UNREADABLE_BYTES.values()), ids=list(UNREADABLE_BYTES))
    def test_unreadable_bytes_stop_with_one_message_and_write_nothing(self, tmp_path, content, message):
        path = tmp_path / "loans.csv"
        path.write_bytes(content)
        self._assert_rejected(path, message, tmp_path)

    def test_missing_file(self, tmp_path):
        with pytest.raises(CommandError, match="no such file"):
            run_import(tmp_path / "nowhere.csv")

    def test_report_folder_must_exist(self, tmp_path):
        with pytest.raises(CommandError, match="cannot write the rejection report"):
            run_import(write(tmp_path, SAMPLE_CSV), "--report", str(tmp_path / "missing" / "r.csv"))
        assert Applicant.objects.count() == 0

    def test_bad_as_of(self, tmp_path):
        with pytest.raises(CommandError, match="--as-of must be a date"):
            run_import(write(tmp_path, SAMPLE_CSV), "--as-of", "30/06/2019")

    @staticmethod
    def _assert_rejected(path, message, tmp_path):
        run_import(write(tmp_path, SAMPLE_CSV, "sample.csv"), "--as-of", AS_OF)  # data already there stays as is
        before = stored_labels()
        report = tmp_path / "rejected.csv"
        with pytest.raises(CommandError) as caught:
            run_import(path, "--report", str(report))
        assert message in str(caught.value)
        assert "\n" not in str(caught.value)
        assert stored_labels() == before
        assert Installment.objects.count() == 14
        assert not report.exists()


def test_installments_expected_new_that_another_import_stored_meanwhile_are_updated_not_refused(tmp_path):
    """On PostgreSQL the rows of applicants an import has just inserted are copied straight into the
    table; when another import stored some of them in between, the copy's unique violation is rolled
    back to a savepoint and the rows are upserted instead (SQLite always upserts)."""
    from django.db import transaction

    from applicants.services import upsert

    header = ",".join(LOAN_FILE_COLUMNS)
    run_import(write(tmp_path, f"{header}\n{row(7001, due_date='2018-01-05', paid_amount='Rp1000000.0')}\n"))
    applicant = Applicant.objects.get(app_id=7001)
    fields = ["applicant", "due_date", "paid_date", "due_amount", "paid_amount"]

    with transaction.atomic():
        upsert(
            Installment,
            fields,
            [(applicant.pk, "2018-01-05", "2018-01-09", 0, 1_500_000), (applicant.pk, "2018-02-05", None, 800_000, 0)],
            unique=["applicant", "due_date"],
            update=["paid_date", "due_amount", "paid_amount"],
            expect_new=True,
        )

    stored = list(applicant.installments.order_by("due_date").values_list("due_date", "paid_date", "paid_amount"))
    assert stored == [
        (date(2018, 1, 5), date(2018, 1, 9), 1_500_000),
        (date(2018, 2, 5), None, 0),
    ]
