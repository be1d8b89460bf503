"""The generator's later books for monitoring: applicants shifted in known ways, and the later payment
histories of an earlier book (docs/dataset-generator.md, "Later books")."""

import re
from datetime import date

import numpy as np
import pandas as pd
import pytest
from django.core.management import CommandError, call_command

from applicants.generator import (
    AttributeShift,
    generate_loan_book,
    parse_shift,
    simulate_loan_book,
    true_npl_probability,
)
from credit.labelling import label_installments

AS_OF = date(2024, 6, 30)
LATER = date(2025, 6, 30)


def applicants_of(installments: pd.DataFrame) -> pd.DataFrame:
    first = installments.sort_values(["app_id", "due_date"]).groupby("app_id", as_index=False).first()
    for column in ("housing_type", "status_pernikahan", "pekerjaan"):
        first[column] = first[column].astype(str)
    return first.set_index("app_id")


def test_parse_shift_reads_numbers_and_category_shares():
    assert parse_shift("income=-0.2,otr=+0.3,pekerjaan=Buruh:+0.1") == AttributeShift(
        numbers=(("monthly_income", -0.2), ("otr", 0.3)), categories=(("pekerjaan", "Buruh", 0.1),)
    )
    assert parse_shift("") == AttributeShift() and not parse_shift(" , ")
    assert parse_shift("housing_type=kos:-0.05").attributes == ("housing_type",)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("income", "shift 'income' is not ATTRIBUTE=CHANGE"),
        ("income=lots", "shift 'income=lots': 'lots' is not a number"),
        ("income=nan", "shift 'income=nan': 'nan' is not a finite number"),
        ("income=-1", "a relative change must be above -1"),
        ("tenor=+0.1", "cannot shift 'tenor'; shiftable attributes: income, monthly_income, otr"),
        ("pekerjaan=Pilot:+0.1", "expected pekerjaan=CATEGORY:SHARE with CATEGORY one of Karyawan Swasta"),
        ("pekerjaan=Buruh", "expected pekerjaan=CATEGORY:SHARE"),
        ("pekerjaan=Buruh:1.5", "the share must be between -1 and 1"),
        ("income=-0.1,monthly_income=0.2", "shift names monthly_income twice"),
    ],
)
def test_parse_shift_names_what_is_wrong(text, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        parse_shift(text)


def test_a_shift_moves_the_named_attributes_and_leaves_the_others_as_drawn():
    plain, _ = simulate_loan_book(3000, seed=4, as_of=AS_OF)
    shifted, truth = simulate_loan_book(
        3000, seed=4, as_of=AS_OF, shift=parse_shift("income=-0.2,pekerjaan=Buruh:+0.2")
    )
    before, after = applicants_of(plain), applicants_of(shifted)

    ratio = after["monthly_income"] / before["monthly_income"]
    assert ratio.between(0.79, 0.81).all()
    assert (after["pekerjaan"] == "Buruh").mean() == pytest.approx(
        (before["pekerjaan"] == "Buruh").mean() + 0.2, abs=0.03
    )
    assert set(before.index[before["pekerjaan"] == "Buruh"]) <= set(after.index[after["pekerjaan"] == "Buruh"])
    for column in ("otr", "dp", "tenor", "lama_bekerja", "num_of_dependent", "housing_type", "status_pernikahan"):
        assert (after[column] == before[column]).all(), column
    # The truth follows the shifted attributes, and the histories label exactly as drawn.
    truth = truth.set_index("app_id")
    np.testing.assert_allclose(truth["true_npl_probability"], true_npl_probability(after), atol=1e-6)
    labels = label_installments(shifted, AS_OF).set_index("app_id")["is_npl"]
    assert (labels.reindex(truth.index) == truth["true_npl"].astype(bool)).all()
    assert truth["true_npl"].mean() > 0.15  # lower incomes, more labourers: riskier


def test_a_negative_category_share_and_a_lower_otr_keep_the_book_valid():
    plain, _ = simulate_loan_book(2000, seed=6, as_of=AS_OF)
    shifted, _ = simulate_loan_book(2000, seed=6, as_of=AS_OF, shift=parse_shift("otr=-0.5,housing_type=kontrak:-0.15"))
    before, applicants = applicants_of(plain), applicants_of(shifted)
    assert (applicants["dp"] <= 0.6 * applicants["otr"] + 1).all()
    kontrak_before = (before["housing_type"] == "kontrak").mean()
    assert (applicants["housing_type"] == "kontrak").mean() == pytest.approx(kontrak_before - 0.15, abs=0.02)
    assert (applicants["otr"] % 100_000 == 0).all()


def test_later_histories_of_an_earlier_book_keep_its_applicants_loans_and_outcomes():
    early, early_truth = simulate_loan_book(1500, seed=9, as_of=AS_OF)
    later, later_truth = simulate_loan_book(1500, seed=9, as_of=LATER, book_as_of=AS_OF)

    pd.testing.assert_frame_equal(early_truth, later_truth)
    before, after = applicants_of(early), applicants_of(later)
    pd.testing.assert_frame_equal(
        before.drop(columns=["due_date", "paid_date", "due_amount", "paid_amount"]),
        after.drop(columns=["due_date", "paid_date", "due_amount", "paid_amount"]),
    )
    # The same loans (the first installment on the same day), a year more of history.
    assert (before["due_date"] == after["due_date"]).all()
    assert len(later) > len(early)
    assert later["due_date"].max() <= pd.Timestamp(LATER) and later["paid_date"].max() <= pd.Timestamp(LATER)
    labels = label_installments(later, LATER).set_index("app_id")["is_npl"]
    assert (labels.reindex(later_truth["app_id"]).to_numpy() == later_truth["true_npl"].astype(bool)).all()


def test_no_shift_and_no_book_date_give_the_same_files_as_before():
    loans, truth = generate_loan_book(300, seed=2, as_of=AS_OF)
    same_loans, same_truth = generate_loan_book(300, seed=2, as_of=AS_OF, shift=parse_shift(""), book_as_of=AS_OF)
    pd.testing.assert_frame_equal(loans, same_loans)
    pd.testing.assert_frame_equal(truth, same_truth)


def test_the_book_date_may_not_follow_the_as_of_date():
    with pytest.raises(ValueError, match="the book's as-of date 2025-06-30 is after the as-of date 2024-06-30"):
        simulate_loan_book(10, seed=1, as_of=AS_OF, book_as_of=LATER)


def test_the_command_writes_a_shifted_later_book(tmp_path):
    out = tmp_path / "later.csv"
    call_command(
        "generate_loans",
        "--applicants=50",
        "--seed=3",
        "--as-of=2025-06-30",
        "--book-as-of=2024-06-30",
        "--shift=income=-0.2,otr=+0.3,pekerjaan=Buruh:+0.1",
        f"--out={out}",
    )
    expected, _ = generate_loan_book(
        50, seed=3, as_of=LATER, shift=parse_shift("income=-0.2,otr=+0.3,pekerjaan=Buruh:+0.1"), book_as_of=AS_OF
    )
    assert len(pd.read_csv(out, dtype=str)) == len(expected)


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--shift=salary=+0.1"], "--shift: shift 'salary=+0.1': cannot shift 'salary'"),
        (["--book-as-of=30/06/2024"], "--book-as-of must be a date written YYYY-MM-DD, got '30/06/2024'"),
        (["--book-as-of=2024-01-01", "--as-of=2023-12-31"], "the book's as-of date 2024-01-01 is after the as-of date"),
    ],
)
def test_the_command_rejects_bad_later_book_arguments(tmp_path, arguments, message):
    with pytest.raises(CommandError, match=re.escape(message)):
        call_command("generate_loans", "--applicants=5", f"--out={tmp_path / 'x.csv'}", *arguments)
    assert not (tmp_path / "x.csv").exists()
