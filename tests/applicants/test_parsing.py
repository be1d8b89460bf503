"""Every raw spelling of the loan file, and the one set of attribute rules."""

from datetime import date

import numpy as np
import pytest
from django.core.exceptions import ValidationError

from applicants.attributes import MAX_MONTHLY_INCOME, MAX_OTR
from applicants.models import Applicant
from applicants.parsing import (
    parse_column,
    parse_count,
    parse_date,
    parse_integer,
    parse_optional_date,
    parse_rupiah,
    parse_years,
)
from applicants.validation import (
    validate_applicant_attributes,
    validate_installment_values,
)


class TestParseRupiah:
    @pytest.mark.parametrize(
        "text",
        [
            "Rp9295094.0",  # decimal point with one decimal
            "Rp9295094.00",  # ... or two
            "Rp 9.295.094",  # dots between groups of three digits: thousands separators
            "Rp9.295.094",
            "Rp9.295.094,00",  # Indonesian: dot thousands, comma decimals
            "Rp 9.295.094,0",
            "9295094",  # Rp optional
            "9.295.094",
            "9295094,00",
            "  Rp 9295094  ",  # spaces optional
            "rp9295094",
            "RP 9.295.094",
        ],
    )
    def test_every_spelling_gives_the_same_integer(self, text):
        assert parse_rupiah(text) == 9_295_094

    def test_regression_original_projects_ten_times_bug(self):
        # The original project stripped every dot and read this as 92,950,940.
        assert parse_rupiah("Rp9295094.0") == 9_295_094
        assert parse_rupiah("Rp9295094.0") != 92_950_940
        assert parse_rupiah("Rp80000000.0") == 80_000_000

    @pytest.mark.parametrize(
        ("text", "expected"),
        [
            ("Rp0.0", 0),
            ("Rp1.200", 1_200),  # three digits after the dot: a thousands separator
            ("Rp1.20", 1),  # one or two digits after a final dot: decimals
            ("Rp9295094.49", 9_295_094),  # decimals round to the nearest rupiah
            ("Rp9295094.5", 9_295_095),
            ("Rp9.295.094,50", 9_295_095),
            ("Rp 800.000.000", 800_000_000),
            ("Rp1.000.000.000.000", 1_000_000_000_000),
        ],
    )
    def test_values(self, text, expected):
        assert parse_rupiah(text) == expected

    def test_negative_is_an_error_unless_allowed(self):
        with pytest.raises(ValueError, match="negative amount"):
            parse_rupiah("Rp-500000.0")
        assert parse_rupiah("Rp-500000.0", allow_negative=True) == -500_000
        assert parse_rupiah("-Rp 500.000", allow_negative=True) == -500_000
        assert parse_rupiah("Rp-0.0") == 0

    @pytest.mark.parametrize(
        ("text", "reason"),
        [
            ("", "empty"),
            ("Rp", "no digits"),
            ("Rp 12 juta", "letters"),
            ("Rp9295094.0x", "letters"),
            ("USD 100", "letters"),
            ("Rp9.295.094.00", "two decimal separators"),  # thousands dots plus a decimal dot
            ("Rp9,295,094", "more than one comma"),  # English grouping
            ("Rp9,29.5", "two decimal separators"),
            ("Rp92.95.094", "malformed digit grouping"),
            ("Rp9295.094", "malformed digit grouping"),
            ("Rp9.2950.94", "malformed digit grouping"),
            ("Rp9295094.000", "malformed digit grouping"),
            ("Rp9 295 094", "spaces inside the digits"),
            ("--5", "more than one minus sign"),
            ("Rp1234567890123456", "more than 15 digits"),
        ],
    )
    def test_anything_else_is_an_error_with_a_reason(self, text, reason):
        with pytest.raises(ValueError, match=reason):
            parse_rupiah(text)


class TestCountsYearsIntegersDates:
    @pytest.mark.parametrize(("text", "expected"), [("3 orang", 3), ("3", 3), ("0 orang", 0), (" 12orang ", 12)])
    def test_count(self, text, expected):
        assert parse_count(text) == expected

    @pytest.mark.parametrize("text", ["banyak", "", "3.5", "-1", "3 tahun", "tiga orang"])
    def test_count_errors(self, text):
        with pytest.raises(ValueError):
            parse_count(text)

    @pytest.mark.parametrize(("text", "expected"), [("2 tahun", 2), ("2", 2), ("0 tahun", 0), ("12 Tahun", 12)])
    def test_years(self, text, expected):
        assert parse_years(text) == expected

    @pytest.mark.parametrize("text", ["lama", "", "2.5 tahun", "-2", "2 orang"])
    def test_years_errors(self, text):
        with pytest.raises(ValueError):
            parse_years(text)

    def test_integer(self):
        assert parse_integer("60") == 60
        assert parse_integer(" 1001 ") == 1001
        for text in ("60 bulan", "6.0", "-1", "", "x"):
            with pytest.raises(ValueError):
                parse_integer(text)

    def test_date(self):
        assert parse_date("2018-04-07") == date(2018, 4, 7)
        assert parse_optional_date("") is None
        assert parse_optional_date("2018-04-06") == date(2018, 4, 6)

    @pytest.mark.parametrize(
        ("text", "reason"),
        [
            ("not-a-date", "expected YYYY-MM-DD"),
            ("07/04/2018", "expected YYYY-MM-DD"),
            ("2018-4-7", "expected YYYY-MM-DD"),
            ("2018-02-30", "not a valid calendar date"),
            ("", "empty"),
        ],
    )
    def test_date_errors(self, text, reason):
        with pytest.raises(ValueError, match=reason):
            parse_date(text)

    def test_parse_column_parses_each_distinct_text_once(self):
        seen = []

        def counting_parser(text):
            seen.append(text)
            return parse_count(text)

        parsed = parse_column(
            np.array(["3 orang", "3 orang", "2", "x", "3 orang"], dtype=object), counting_parser, kind="int"
        )
        assert sorted(seen) == ["2", "3 orang", "x"]
        assert parsed.values.tolist() == [3, 3, 2, 0, 3]
        assert parsed.invalid.tolist() == [False, False, False, True, False]


VALID_ATTRIBUTES = {
    "monthly_income": 9_295_094,
    "housing_type": "milik sendiri",
    "num_of_dependent": 3,
    "lama_bekerja": 2,
    "otr": 800_000_000,
    "status_pernikahan": "Belum Nikah",
    "pekerjaan": "Karyawan Swasta",
    "tenor": 60,
    "dp": 80_000_000,
}


class TestValidation:
    def test_valid_attributes_have_no_errors(self):
        assert validate_applicant_attributes(VALID_ATTRIBUTES) == {}
        assert validate_applicant_attributes({**VALID_ATTRIBUTES, "tenor": 60.0}) == {}

    @pytest.mark.parametrize(
        ("field", "value", "fragment"),
        [
            ("monthly_income", -500_000, "must not be negative"),
            ("monthly_income", MAX_MONTHLY_INCOME + 1, "implausibly large"),
            ("otr", MAX_OTR + 1, "implausibly large"),
            ("tenor", 0, "at least 1"),
            ("tenor", 121, "at most 120"),
            ("num_of_dependent", 21, "at most 20"),
            ("num_of_dependent", -1, "must not be negative"),
            ("lama_bekerja", 61, "at most 60"),
            ("tenor", 12.5, "whole number"),
            ("tenor", "12", "whole number"),
            ("tenor", True, "whole number"),
            ("tenor", None, "required"),
            ("housing_type", "", "required"),
        ],
    )
    def test_each_rule(self, field, value, fragment):
        errors = validate_applicant_attributes({**VALID_ATTRIBUTES, field: value})
        assert list(errors) == [field]
        assert fragment in errors[field][0]

    def test_unknown_category_lists_the_allowed_values(self):
        errors = validate_applicant_attributes(
            {**VALID_ATTRIBUTES, "housing_type": "rumah dinas", "status_pernikahan": "Cerai", "pekerjaan": "Petani"}
        )
        assert "milik sendiri, milik orang tua, milik pasangan, kontrak, kos" in errors["housing_type"][0]
        assert errors["housing_type"][0].startswith("Housing: unknown value “rumah dinas”")
        assert "Nikah, Belum Nikah" in errors["status_pernikahan"][0]
        assert "Ibu Rumah Tangga/Pensiunan/Mahasiswa/Lainnya" in errors["pekerjaan"][0]

    def test_dp_above_otr(self):
        errors = validate_applicant_attributes({**VALID_ATTRIBUTES, "otr": 300_000_000, "dp": 400_000_000})
        assert errors == {"dp": ["Down payment of Rp 400,000,000 is larger than Vehicle price (OTR) of Rp 300,000,000"]}
        # A down payment of the whole price finances nothing: no loan (issue 22, item 6).

    assert validate_applicant_attributes({**VALID_ATTRIBUTES, "otr": 300_000_000, "dp": 300_000_000}) == {
        "dp": [
            "Down payment of Rp 300,000,000 pays the whole Vehicle price (OTR) of Rp 300,000,000: nothing is "
            "financed, so there is no loan to score"
        ]
    }
    assert validate_applicant_attributes({**VALID_ATTRIBUTES, "otr": 300_000_000, "dp": 299_999_999}) == {}

    def test_every_broken_rule_is_reported(self):
        errors = validate_applicant_attributes({"monthly_income": -1, "housing_type": "x", "tenor": 0})
        assert set(errors) == set(VALID_ATTRIBUTES)

    def test_installment_values(self):
        valid = {"due_date": date(2018, 1, 1), "paid_date": None, "due_amount": 0, "paid_amount": 100}
        assert validate_installment_values(valid) == {}
        errors = validate_installment_values({**valid, "due_date": date(1900, 1, 1), "paid_amount": -5})
        assert set(errors) == {"due_date", "paid_amount"}
        assert "plausible range" in errors["due_date"][0]

    @pytest.mark.django_db
    def test_model_validation_uses_the_same_rules(self):
        applicant = Applicant(app_id=1, **{**VALID_ATTRIBUTES, "otr": 300_000_000, "dp": 400_000_000, "tenor": 0})
        with pytest.raises(ValidationError) as caught:
            applicant.full_clean()
        assert set(caught.value.message_dict) == {"dp", "tenor"}
        assert any("larger than Vehicle price" in message for message in caught.value.message_dict["dp"])
        Applicant(app_id=2, **VALID_ATTRIBUTES).full_clean()
