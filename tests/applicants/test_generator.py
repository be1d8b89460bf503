"""The synthetic loan book: calibrated outcomes, histories that label as the truth, raw spellings."""

import io
import re
from datetime import date

import numpy as np
import pandas as pd
import pytest
from django.core.management import CommandError, call_command
from sklearn.metrics import roc_auc_score

from applicants import generator
from applicants.attributes import ATTRIBUTE_FIELDS
from applicants.generator import generate_applicants, generate_loan_book, simulate_loan_book, write_loan_book
from applicants.parsing import parse_count, parse_date, parse_optional_date, parse_rupiah, parse_years
from applicants.validation import validate_applicant_attributes
from credit.labelling import label_installments

AS_OF = date(2024, 6, 30)
N = 3000
LOAN_HEADER = (
    "app_id,due_date,paid_date,due_amount,paid_amount,monthly_income,housing_type,num_of_dependent,"
    "lama_bekerja,otr,status_pernikahan,pekerjaan,tenor,dp"
)
HOUSING_TYPES = {"milik sendiri", "milik orang tua", "milik pasangan", "kontrak", "kos"}
STATUS_PERNIKAHAN = {"Nikah", "Belum Nikah"}
PEKERJAAN = {
    "Wiraswasta",
    "Profesional",
    "Karyawan Swasta",
    "PNS",
    "Buruh",
    "Ibu Rumah Tangga/Pensiunan/Mahasiswa/Lainnya",
}


@pytest.fixture(scope="module")
def book():
    """(parsed installments, truth, raw loans, raw truth) for seed 11."""
    installments, truth = simulate_loan_book(N, seed=11, as_of=AS_OF)
    loans, raw_truth = generate_loan_book(N, seed=11, as_of=AS_OF)
    return installments, truth, loans, raw_truth


def _parse(column: pd.Series, parser) -> pd.Series:
    """Parse every distinct raw text once with the import's scalar parser."""
    return column.map({text: parser(text) for text in column.unique()})


def _parse_raw(loans: pd.DataFrame) -> pd.DataFrame:
    parsed = pd.DataFrame({"app_id": loans["app_id"].astype(np.int64)})
    parsed["due_date"] = pd.to_datetime(_parse(loans["due_date"], parse_date))
    parsed["paid_date"] = pd.to_datetime(_parse(loans["paid_date"], parse_optional_date))
    for column in ("due_amount", "paid_amount", "monthly_income", "otr", "dp"):
        parsed[column] = _parse(loans[column], parse_rupiah).astype(np.int64)
    parsed["num_of_dependent"] = _parse(loans["num_of_dependent"], parse_count).astype(np.int64)
    parsed["lama_bekerja"] = _parse(loans["lama_bekerja"], parse_years).astype(np.int64)
    parsed["tenor"] = loans["tenor"].astype(np.int64)
    for column in ("housing_type", "status_pernikahan", "pekerjaan"):
        parsed[column] = loans[column]
    return parsed


@pytest.mark.parametrize("seed", [1, 7, 42])
def test_npl_base_rate_and_oracle_auc_are_in_the_calibrated_ranges(seed):
    _, truth = generate_loan_book(4000, seed=seed, as_of=AS_OF)

    assert 0.10 <= truth["true_npl"].mean() <= 0.15
    assert 0.80 <= roc_auc_score(truth["true_npl"], truth["true_npl_probability"]) <= 0.92


def test_true_probability_is_recomputed_exactly_from_the_exported_attributes_alone(book):
    _, _, loans, raw_truth = book
    parsed = _parse_raw(loans)
    parsed["installment"] = parsed["paid_amount"] + parsed["due_amount"]
    applicants = parsed.groupby("app_id").first().loc[raw_truth["app_id"]]

    # The installment the file shows is the rate card's, recomputable from otr, dp and tenor ...
    rate_card = generator.installment_amount(applicants["otr"], applicants["dp"], applicants["tenor"])
    assert (rate_card == applicants["installment"].to_numpy()).all()
    # ... so the truth is the documented model of the attributes in the file: nothing hidden.
    logit = generator.true_npl_logit(
        debt_service_ratio=applicants["installment"].to_numpy() / applicants["monthly_income"].to_numpy(),
        dp_ratio=applicants["dp"].to_numpy() / applicants["otr"].to_numpy(),
        lama_bekerja=applicants["lama_bekerja"].to_numpy(),
        num_of_dependent=applicants["num_of_dependent"].to_numpy(),
        tenor=applicants["tenor"].to_numpy(),
        pekerjaan_code=applicants["pekerjaan"].map(generator.PEKERJAAN.index).to_numpy(),
        housing_code=applicants["housing_type"].map(generator.HOUSING_TYPES.index).to_numpy(),
    )
    expected = np.round(1 / (1 + np.exp(-logit)), 6)
    np.testing.assert_allclose(raw_truth["true_npl_probability"], expected, rtol=0, atol=1e-9)
    np.testing.assert_allclose(
        raw_truth["true_npl_probability"], np.round(generator.true_npl_probability(applicants), 6), rtol=0, atol=1e-9
    )


def test_true_probability_rejects_an_unknown_category_naming_it():
    applicant = {
        "monthly_income": [9_000_000],
        "otr": [150_000_000],
        "dp": [30_000_000],
        "tenor": [36],
        "num_of_dependent": [2],
        "lama_bekerja": [3],
        "pekerjaan": ["Petani"],
        "housing_type": ["kontrak"],
    }

    with pytest.raises(ValueError, match="pekerjaan 'Petani' is not one of Karyawan Swasta"):
        generator.true_npl_probability(applicant)


def test_labelling_the_generated_histories_gives_exactly_the_true_outcomes(book):
    installments, truth, _, _ = book

    labels = label_installments(installments, AS_OF).set_index("app_id").loc[truth["app_id"]]

    assert len(labels) == N
    assert (labels["is_npl"].to_numpy() == truth["true_npl"].astype(bool).to_numpy()).all()
    assert (labels.loc[labels["is_npl"], "max_dpd"] >= 91).all()
    assert (labels.loc[~labels["is_npl"], "max_dpd"] <= 90).all()


def test_raw_strings_parse_back_to_the_simulated_values_and_the_same_labels(book):
    installments, truth, loans, raw_truth = book

    parsed = _parse_raw(loans)

    pd.testing.assert_frame_equal(raw_truth, truth)
    expected = installments.astype(dict.fromkeys(("housing_type", "status_pernikahan", "pekerjaan"), str))
    for column in generator.LOAN_COLUMNS:
        left, right = parsed[column].to_numpy(), expected[column].to_numpy()
        if column in ("due_date", "paid_date"):
            left, right = left.astype("datetime64[D]"), right.astype("datetime64[D]")
            assert (np.isnat(left) == np.isnat(right)).all(), column
            assert (left[~np.isnat(left)] == right[~np.isnat(right)]).all(), column
        else:
            assert (left == right).all(), column
    labels = label_installments(parsed, AS_OF).set_index("app_id").loc[truth["app_id"]]
    assert (labels["is_npl"].to_numpy() == truth["true_npl"].astype(bool).to_numpy()).all()


def test_performing_applicants_pay_mostly_on_time_with_some_late_and_npl_ones_reach_every_bad_level(book):
    installments, truth, _, _ = book
    labels = label_installments(installments, AS_OF)
    performing = labels.loc[~labels["is_npl"], "max_dpd"]

    assert (performing == 0).mean() > 0.5  # most performing applicants never late
    assert ((performing >= 1) & (performing <= 30)).any()
    assert ((performing >= 31) & (performing <= 90)).any()
    assert set(labels.loc[labels["is_npl"], "kolektibilitas"]) == {3, 4, 5}
    paid = installments["paid_date"].notna()
    assert (installments.loc[paid, "paid_date"] <= installments.loc[paid, "due_date"]).mean() > 0.8
    # Partly paid installments exist (something paid, something still due) ...
    assert ((installments["paid_amount"] > 0) & (installments["due_amount"] > 0)).any()
    # ... and NPL applicants who paid more than 90 days late and settled (no amount owed at all).
    late_days = (installments["paid_date"] - installments["due_date"]).dt.days
    settled_very_late = installments.loc[(late_days > 90) & (installments["due_amount"] == 0), "app_id"]
    assert settled_very_late.nunique() > 0
    assert truth.set_index("app_id").loc[settled_very_late.unique(), "true_npl"].eq(1).all()


def test_histories_are_consistent_loans_observed_up_to_as_of(book):
    installments, _, _, _ = book
    by_app = installments.groupby("app_id")
    as_of = pd.Timestamp(AS_OF)

    assert (installments["due_date"] <= as_of).all()
    assert (installments["paid_date"].dropna() <= as_of).all()
    assert (installments.loc[installments["paid_date"].isna(), "paid_amount"] == 0).all()
    assert (installments.loc[installments["paid_amount"] == 0, "paid_date"].isna()).all()
    # One installment amount per loan: paid + still due; at most tenor installments, monthly.
    installment_amount = installments["paid_amount"] + installments["due_amount"]
    assert (installment_amount.groupby(installments["app_id"]).nunique() == 1).all()
    assert (by_app.size() <= by_app["tenor"].first()).all()
    assert (by_app["due_date"].nunique() == by_app.size()).all()
    # Disbursed at least 4 months before as_of: the first installment is due 91+ days before it.
    assert ((as_of - by_app["due_date"].min()).dt.days >= 91).all()
    # Installment = (otr − dp) with a flat annual rate of 8–12 % spread over the tenor.
    first = by_app.first()
    amount = installment_amount.groupby(installments["app_id"]).first()
    flat_rate = (amount * first["tenor"] / (first["otr"] - first["dp"]) - 1) * 12 / first["tenor"]
    assert flat_rate.between(0.079, 0.121).all()


def test_applicant_attributes_are_within_the_documented_ranges(book):
    installments, _, _, _ = book
    applicants = installments.groupby("app_id").first()

    assert applicants["monthly_income"].between(2_500_000, 100_000_000).all()
    assert applicants["otr"].between(80_000_000, 1_500_000_000).all()
    assert (applicants["dp"] >= 0).all()
    assert (applicants["dp"] <= applicants["otr"]).all()
    assert (applicants["dp"] <= 0.6 * applicants["otr"]).all()
    assert set(applicants["tenor"]) == {12, 24, 36, 48, 60}
    assert applicants["num_of_dependent"].between(0, 20).all()
    assert applicants["num_of_dependent"].max() <= generator.DEPENDANTS_MAX
    assert applicants["lama_bekerja"].between(0, 60).all()
    assert applicants["lama_bekerja"].max() <= generator.LAMA_BEKERJA_MAX
    assert set(applicants["housing_type"].astype(str)) == HOUSING_TYPES
    assert set(applicants["status_pernikahan"].astype(str)) == STATUS_PERNIKAHAN
    assert set(applicants["pekerjaan"].astype(str)) == PEKERJAAN
    # Attributes agree on every row of an application.
    attributes = ["monthly_income", "housing_type", "num_of_dependent", "lama_bekerja", "otr", "tenor", "dp"]
    assert (installments.groupby("app_id")[attributes].nunique() == 1).all().all()


def test_raw_export_mixes_the_three_rupiah_spellings_units_and_row_order(book):
    _, _, loans, _ = book

    assert list(loans.columns) == LOAN_HEADER.split(",")
    incomes = loans["monthly_income"]
    assert incomes.str.fullmatch(r"Rp\d+\.0").any()
    assert incomes.str.fullmatch(r"Rp \d{1,3}(\.\d{3})+").any()
    assert incomes.str.fullmatch(r"Rp\d{1,3}(\.\d{3})+,00").any()
    spelled = re.compile(r"Rp\d+\.0|Rp \d{1,3}(\.\d{3})*|Rp\d{1,3}(\.\d{3})*,00")
    for column in ("due_amount", "paid_amount", "monthly_income", "otr", "dp"):
        assert loans[column].str.fullmatch(spelled).all(), column
    assert loans["num_of_dependent"].str.fullmatch(r"\d+ orang").any()
    assert loans["num_of_dependent"].str.fullmatch(r"\d+").any()
    assert loans["lama_bekerja"].str.fullmatch(r"\d+ tahun").any()
    assert loans["lama_bekerja"].str.fullmatch(r"\d+").any()
    assert (loans["paid_date"] == "").any()
    assert loans["due_date"].str.fullmatch(r"\d{4}-\d{2}-\d{2}").all()
    # Some applications' rows are not next to each other.
    app_ids = loans["app_id"].to_numpy()
    runs = pd.Series(app_ids[np.r_[True, app_ids[1:] != app_ids[:-1]]])
    assert runs.duplicated().any()


def test_same_seed_writes_byte_identical_files_and_another_seed_does_not(tmp_path):
    paths = {name: (tmp_path / f"{name}.csv", tmp_path / f"{name}_truth.csv") for name in ("a", "b", "c")}
    write_loan_book(*paths["a"], n_applicants=500, seed=3, as_of=AS_OF)
    write_loan_book(*paths["b"], n_applicants=500, seed=3, as_of=AS_OF)
    write_loan_book(*paths["c"], n_applicants=500, seed=4, as_of=AS_OF)

    assert paths["a"][0].read_bytes() == paths["b"][0].read_bytes()
    assert paths["a"][1].read_bytes() == paths["b"][1].read_bytes()
    assert paths["a"][0].read_bytes() != paths["c"][0].read_bytes()


def test_written_files_hold_exactly_the_generated_frames_across_blocks(tmp_path, monkeypatch):
    monkeypatch.setattr(generator, "BLOCK_APPLICANTS", 400)  # 1000 applicants → three blocks
    loans_path, truth_path = tmp_path / "loans.csv", tmp_path / "truth.csv"

    summary = write_loan_book(loans_path, truth_path, n_applicants=1000, seed=5, as_of=AS_OF, first_app_id=1001)
    loans, truth = generate_loan_book(1000, seed=5, as_of=AS_OF, first_app_id=1001)

    written = pd.read_csv(loans_path, dtype=str, keep_default_na=False)
    pd.testing.assert_frame_equal(written, loans.astype(str))
    written_truth = pd.read_csv(truth_path)
    assert list(written_truth.columns) == ["app_id", "true_npl_probability", "true_npl"]
    assert written_truth["app_id"].tolist() == list(range(1001, 2001))
    np.testing.assert_allclose(written_truth["true_npl_probability"], truth["true_npl_probability"], atol=5e-7)
    assert (written_truth["true_npl"] == truth["true_npl"]).all()
    assert summary.applicants == 1000
    assert summary.installments == len(loans)
    assert summary.npl_applicants == truth["true_npl"].sum()
    labels = label_installments(_parse_raw(written), AS_OF).set_index("app_id").loc[truth["app_id"]]
    assert (labels["is_npl"].to_numpy() == truth["true_npl"].astype(bool).to_numpy()).all()


def test_generate_loans_command_writes_both_files_with_the_exact_headers(tmp_path):
    loans_path, truth_path = tmp_path / "loans.csv", tmp_path / "truth.csv"
    stdout = io.StringIO()

    call_command(
        "generate_loans",
        "--applicants=200",
        "--seed=9",
        "--as-of=2023-12-31",
        f"--out={loans_path}",
        f"--truth={truth_path}",
        stdout=stdout,
    )

    loans_lines = loans_path.read_text(encoding="utf-8").splitlines()
    truth_lines = truth_path.read_text(encoding="utf-8").splitlines()
    assert loans_lines[0] == LOAN_HEADER
    assert truth_lines[0] == "app_id,true_npl_probability,true_npl"
    assert len(truth_lines) == 201
    assert f"{len(loans_lines) - 1:,} installments of 200 applications" in stdout.getvalue()
    assert "as of 2023-12-31" in stdout.getvalue()
    due_dates = pd.read_csv(loans_path, usecols=["due_date"])["due_date"]
    assert due_dates.max() <= "2023-12-31"


def test_generate_loans_command_defaults_the_truth_file_next_to_the_loan_book(tmp_path):
    call_command("generate_loans", "--applicants=20", "--as-of=2023-12-31", f"--out={tmp_path / 'book.csv'}")

    assert (tmp_path / "book_truth.csv").read_text(encoding="utf-8").startswith("app_id,true_npl_probability")


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--applicants=0"], "number of applicants must be a whole number of at least 1, got 0"),
        (["--seed=-1"], "seed must be a whole number of at least 0, got -1"),
        (["--as-of=31-12-2023"], "--as-of must be a date written YYYY-MM-DD, got '31-12-2023'"),
    ],
)
def test_generate_loans_command_rejects_unusable_arguments_with_a_specific_message(tmp_path, arguments, message):
    loans_path = tmp_path / "loans.csv"

    with pytest.raises(CommandError, match=re.escape(message)):
        call_command("generate_loans", f"--out={loans_path}", "--as-of=2023-12-31", *arguments)

    assert not loans_path.exists()


def test_generated_applicants_are_valid_varied_and_reproducible():
    applicants = generate_applicants(3000, seed=4)
    assert list(applicants) == list(ATTRIBUTE_FIELDS)
    rows = pd.DataFrame(applicants).to_dict("records")
    assert [validate_applicant_attributes(row) for row in rows] == [{}] * 3000
    for category in ("housing_type", "status_pernikahan", "pekerjaan"):
        assert len(set(applicants[category])) >= 2
    assert len(set(applicants["otr"])) > 100
    again = generate_applicants(3000, seed=4)
    assert all(np.array_equal(again[name], applicants[name]) for name in ATTRIBUTE_FIELDS)
