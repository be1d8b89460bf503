"""An analyst and a model admin use the product in a real browser (see conftest.py for the setup)."""

import csv
import re

import pytest
from playwright.sync_api import expect

from applicants.models import Applicant
from scoring.models import Prediction
from scoring.reason_wording import worded_reasons
from tests.conftest import make_user
from tests.e2e.conftest import SAMPLE_FILE, Browsing
from training.models import ModelVersion, TrainingRun

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


@pytest.fixture
def analyst_user(transactional_db):
    return make_user("ana", "Analyst")


@pytest.fixture
def model_admin_user(transactional_db):
    return make_user("mia", "Model admin", is_staff=True)


def fill_score_form(page, *, income: str = "4500000") -> None:
    # A click that navigates returns once the new page starts loading; the form's deferred
    # script (thousands separators) runs only when the whole document has loaded.
    page.wait_for_load_state()
    page.get_by_label("Monthly income").press_sequentially(income)
    page.get_by_label("Vehicle price (OTR)").press_sequentially("350000000")
    page.get_by_label("Down payment").press_sequentially("20000000")
    page.get_by_label("Tenor (months)").fill("60")
    page.get_by_label("Occupation").select_option("Buruh")
    page.get_by_label("Years in current job").fill("1")
    page.get_by_label("Housing").select_option("kos")
    page.get_by_label("Marital status").select_option("Belum Nikah")
    page.get_by_label("Number of dependants").fill("4")


def assert_stayed_on_the_live_server(browsing: Browsing) -> None:
    assert browsing.requests, "the page made no request at all"
    assert browsing.foreign_requests() == [], "requests left the live server"


def test_analyst_logs_in_and_scores_an_applicant(browsing, analyst_user, make_version):
    make_version()
    page = browsing.page

    browsing.log_in("ana")
    page.get_by_role("navigation", name="Main navigation").get_by_role("link", name="Score").click()
    fill_score_form(page)
    # The script shows thousands separators while typing.
    expect(page.get_by_label("Monthly income")).to_have_value("4,500,000")
    page.locator("form.score-form").get_by_role("button", name="Score").click()

    prediction = Prediction.objects.get()
    result = page.locator("#result")
    assert result.get_by_test_id("grade").inner_text() == prediction.risk_grade
    assert prediction.input_attributes["monthly_income"] == 4_500_000
    reasons = result.locator(".reason").all_inner_texts()
    assert len(reasons) == len(prediction.reasons) > 0
    assert worded_reasons(prediction.reasons, prediction.input_attributes, "en")[0]["text"] in reasons[0]
    assert f"Rp {prediction.expected_loss:,}" in result.inner_text()
    browsing.screenshot("score-result")
    assert_stayed_on_the_live_server(browsing)


def test_analyst_sees_inline_errors_on_an_invalid_form(browsing, analyst_user, make_version):
    make_version()
    page = browsing.page
    browsing.log_in("ana")
    page.goto(browsing.url("/score/"))
    fill_score_form(page)
    page.get_by_label("Down payment").fill("400000000")
    page.locator("form.score-form").get_by_role("button", name="Score").click()

    error = page.locator("#id_dp_error")
    assert "Down payment of Rp 400,000,000 is larger than Vehicle price (OTR) of Rp 350,000,000" in error.inner_text()
    assert page.get_by_label("Down payment").get_attribute("aria-invalid") == "true"
    assert Prediction.objects.count() == 0
    assert_stayed_on_the_live_server(browsing)


def test_analyst_batch_scores_the_sample_file_and_downloads_the_results(browsing, analyst_user, make_version):
    make_version()
    page = browsing.page
    browsing.log_in("ana")
    page.get_by_role("navigation", name="Main navigation").get_by_role("link", name="Batch").click()

    page.get_by_label("Loan file (CSV)").set_input_files(str(SAMPLE_FILE))
    page.get_by_role("button", name="Upload and score").click()
    page.wait_for_url(re.compile(r".*/batch/[0-9a-f]{32}/$"))

    assert page.get_by_test_id("scored-count").inner_text() == "6"
    errors = page.locator("table", has=page.get_by_role("columnheader", name="Reason", exact=True))
    lines = {row.split("\t")[0] for row in errors.locator("tbody tr").all_inner_texts()}
    assert lines == {"15", "16"}
    assert "negative" in errors.inner_text() and "rumah dinas" in errors.inner_text()
    browsing.screenshot("batch-result")

    with page.expect_download() as download_info:
        page.get_by_role("link", name="Download scored CSV").click()
    with open(download_info.value.path(), newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert [row["app_id"] for row in rows] == ["1001", "1002", "1003", "1004", "1005", "1006"]
    assert Prediction.objects.filter(channel="batch").count() == 6
    assert_stayed_on_the_live_server(browsing)


def test_analyst_switches_to_indonesian(browsing, analyst_user, make_version, page_book):
    make_version()
    page = browsing.page
    browsing.log_in("ana")

    page.get_by_role("button", name="Bahasa Indonesia").click()

    assert page.locator("html").get_attribute("lang") == "id"
    expect(page.get_by_role("heading", level=1)).to_have_text("Dasbor")
    nav = page.get_by_role("navigation", name="Navigasi utama")
    nav.get_by_role("link", name="Pemohon").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Pemohon")
    assert re.search(r"Rp \d{1,3}(\.\d{3})+", page.locator("table").inner_text())  # dots group thousands
    nav.get_by_role("link", name="Skor").click()
    page.wait_for_load_state()  # the deferred separator script has run
    page.get_by_label("Penghasilan bulanan").press_sequentially("12000000")
    expect(page.get_by_label("Penghasilan bulanan")).to_have_value("12.000.000")
    browsing.screenshot("score-form-id")
    assert_stayed_on_the_live_server(browsing)


@pytest.mark.trains
def test_model_admin_retrains_and_watches_the_progress_bar_reach_done(
    browsing, model_admin_user, retrain_book, celery_worker_process
):
    page = browsing.page
    browsing.log_in("mia")
    page.get_by_role("navigation", name="Main navigation").get_by_role("link", name="Models").click()

    page.get_by_label("Search profile").select_option("quick")
    page.get_by_role("button", name="Retrain").click()
    page.wait_for_url(re.compile(r".*/models/runs/\d+/$"))
    progress = page.locator("#run-progress")
    assert progress.is_visible()
    seen = set()
    page.wait_for_function(
        "() => Number(document.querySelector('#run-progress').value) > 0", polling=200, timeout=600_000
    )
    seen.add(int(float(progress.get_attribute("value") or 0)))
    browsing.screenshot("training-run-progress")
    # The page follows the run and reloads itself when it has finished.
    page.wait_for_selector("[data-status=succeeded], [data-status=failed]", timeout=600_000)

    run = TrainingRun.objects.get()
    assert run.status == TrainingRun.Status.SUCCEEDED, run.error
    assert progress.get_attribute("value") == "100"
    assert "Done" in page.locator("#run-step").inner_text()
    assert max(seen) > 0
    version = ModelVersion.objects.get()
    assert version.is_active and run.model_version == version
    page.get_by_role("link", name="See the version").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"{version.name} #{version.pk}")
    browsing.screenshot("training-run-version")
    assert_stayed_on_the_live_server(browsing)


def test_analyst_has_no_retrain_button_and_gets_403_on_its_url(browsing, analyst_user, make_version):
    make_version()
    page = browsing.page
    browsing.log_in("ana")

    page.goto(browsing.url("/models/"))
    assert page.get_by_role("button", name="Retrain").count() == 0
    response = page.goto(browsing.url("/models/retrain/"))
    assert response.status == 403
    assert "Access denied" in page.content()
    assert TrainingRun.objects.count() == 1  # only the run that produced the version
    assert_stayed_on_the_live_server(browsing)


MONTHS = {
    "en": "Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec",
    "id": "Jan|Feb|Mar|Apr|Mei|Jun|Jul|Agu|Sep|Okt|Nov|Des",
}
TIME_SEPARATOR = {"en": ":", "id": "."}


@pytest.mark.parametrize("language", ["en", "id"])
def test_dates_read_day_month_year_in_both_languages(browsing, model_admin_user, make_version, page_book, language):
    """Issue 15: "12/06/2026 6:42 a.m." beside "June 30, 2026" and a mm/dd/yyyy picker. Every date on the
    pages is "6 Dec 2026" / "6 Des 2026" (with "06:42" / "06.42"), and the retrain date is typed day first."""
    version = make_version()
    applicant = Applicant.objects.filter(is_npl=True).order_by("app_id").first()
    page = browsing.page
    browsing.log_in("mia")
    if language == "id":
        page.get_by_role("button", name="Bahasa Indonesia").click()
        assert page.locator("html").get_attribute("lang") == "id"
    months = MONTHS[language]
    day = rf"\d{{1,2}} ({months}) \d{{4}}"
    moment = rf"{day} \d{{2}}{re.escape(TIME_SEPARATOR[language])}\d{{2}}"

    page.goto(browsing.url(f"/applicants/{applicant.app_id}/"))
    page.locator("form.page-actions button[type=submit]").click()  # score now: a prediction with a time
    page.wait_for_url(re.compile(r".*#predictions$"))
    history = page.locator("table", has=page.locator("td.nowrap")).first.locator("tbody tr")
    due_dates = [row.locator("td").nth(1).inner_text() for row in history.all()]
    assert due_dates and all(re.fullmatch(day, text) for text in due_dates), due_dates
    scored_at = page.locator("#predictions tbody tr td").first.inner_text()
    assert re.fullmatch(moment, scored_at), scored_at
    assert re.search(rf"\b{day}\b", page.locator("main .lead").inner_text())  # labelled as of …

    page.goto(browsing.url("/models/"))
    trained = page.locator("table tbody tr td.nowrap").first.inner_text()
    assert re.fullmatch(moment, trained), trained
    date_input = page.locator("#id_as_of")
    assert date_input.get_attribute("type") == "text"
    assert date_input.get_attribute("placeholder") == {"en": "dd/mm/yyyy", "id": "hh/bb/tttt"}[language]
    page.goto(browsing.url(f"/models/{version.pk}/"))
    assert re.search(rf"\b{day}\b", page.locator("main").inner_text())  # labelled as of (30 Jun 2024)
    assert not re.search(
        r"\b\d{1,2}/\d{1,2}/\d{4}\b|\b\d{4}-\d{2}-\d{2}\b|a\.m\.|p\.m\.", page.locator("main").inner_text()
    )

    page.goto(browsing.url(f"/admin/training/modelversion/{version.pk}/change/"))
    assert re.search(moment, page.locator("#content").inner_text())
    browsing.screenshot(f"dates-{language}")


def test_analyst_reads_the_batch_summary_and_pages_through_the_results(browsing, analyst_user, make_version, tmp_path):
    """The summary of a batch (counts by recommendation and grade, expected loss, the flag rate, the score
    chart) agrees with the stored predictions, and every scored row can be reached page by page."""
    make_version()
    header = "app_id;monthly_income;housing_type;num_of_dependent;lama_bekerja;otr;status_pernikahan;pekerjaan;tenor;dp"
    rows = [
        f"{5000 + number};Rp{4_000_000 + 250_000 * number};kos;{number % 4};{number % 9};Rp150.000.000;Nikah;Buruh;36;"
        f"Rp{5_000_000 * (number % 5)}"
        for number in range(60)
    ]
    upload = tmp_path / "semicolons.csv"
    upload.write_text("\n".join([header, *rows, "5999;Rp1;kos;1;1;Rp1;Cerai;Buruh;36;Rp0"]) + "\n", encoding="utf-8")
    page = browsing.page
    browsing.log_in("ana")
    page.goto(browsing.url("/batch/"))
    page.get_by_label("Loan file (CSV)").set_input_files(str(upload))
    page.get_by_role("button", name="Upload and score").click()
    page.wait_for_url(re.compile(r".*/batch/[0-9a-f]{32}/$"))

    predictions = list(Prediction.objects.filter(channel="batch"))
    assert len(predictions) == 60
    summary = page.get_by_test_id("batch-summary")
    expect(summary).to_be_visible()
    flagged = sum(p.is_npl for p in predictions)
    assert page.get_by_test_id("flag-rate").inner_text() == f"{100 * flagged / 60:.1f} %"
    assert (
        page.get_by_test_id("expected-loss-total").inner_text() == f"Rp {sum(p.expected_loss for p in predictions):,}"
    )
    by_grade = dict(row.split("\t") for row in page.get_by_test_id("by-grade").locator("tbody tr").all_inner_texts())
    assert {grade: int(count) for grade, count in by_grade.items()} == {
        grade: sum(p.risk_grade == grade for p in predictions) for grade in {p.risk_grade for p in predictions}
    }
    bars = summary.locator("svg rect.chart-bar")
    assert bars.count() == 11 and summary.locator("svg title").first.text_content() == "Credit scores of this batch"
    # The one bad row: one line per bad cell, named by the column's label, in the file's own name.
    errors = page.get_by_test_id("row-errors").locator("tbody tr").all_inner_texts()
    assert [line.split("\t")[:3] for line in errors] == [["62", "5999", "Marital status"]]
    expect(page.get_by_role("heading", level=1)).to_have_text("semicolons.csv")
    browsing.screenshot("batch-summary")

    shown = set(page.get_by_test_id("results").locator("tbody tr td:first-child").all_inner_texts())
    page.get_by_role("link", name="Next").click()
    shown |= set(page.get_by_test_id("results").locator("tbody tr td:first-child").all_inner_texts())
    assert shown == {str(5000 + number) for number in range(60)}  # 50 on the first page, 10 on the second
    assert_stayed_on_the_live_server(browsing)
