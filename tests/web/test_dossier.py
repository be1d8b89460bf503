"""The model's dossier: the model page's validation sections, the PDF and the XLSX, and the figures
re-computed from the stored test predictions by formulas of their own.

PDF text is read with pypdfium2 (PDFium's text extraction, a development dependency), not poppler's
``pdftotext``, which is not on every machine.
"""

import io
import math
from pathlib import Path

import numpy as np
import openpyxl
import pypdfium2
import pytest
from django.core.management import CommandError, call_command
from django.utils import translation
from sklearn.metrics import roc_curve

from applicants.services import import_loan_file
from credit.scorecard import ScorecardParameters, credit_score
from nplsite.numbers import decimal_text
from tests.model_cache import cached_loan_book
from tests.support import FIRST_POLICY_TRAINING
from tests.web.conftest import AS_OF, TRAINING_APPLICANTS
from tests.web.pagecheck import checked_page, text_of
from training.models import TrainingRun
from training.validation import version_validation

pytestmark = pytest.mark.django_db


def pdf_text(content: bytes) -> str:
    document = pypdfium2.PdfDocument(content)
    try:
        return " ".join(" ".join(page.get_textpage().get_text_range() for page in document).split())
    finally:
        document.close()


def in_indonesian(client):
    assert client.post("/i18n/setlang/", {"language": "id", "next": "/"}).status_code == 302


# --------------------------------------------------------------------------------------------
# The figures, re-computed from the stored test predictions
# --------------------------------------------------------------------------------------------


@pytest.fixture
def stored(trained_model):
    """The validation record training stored (test predictions and figures), as JSON."""
    return trained_model.validation


def test_ks_recomputed_by_brute_force_and_by_the_roc_curve(stored):
    outcomes = stored["test_predictions"]["is_npl"]
    probabilities = stored["test_predictions"]["probability"]
    npl, good = sum(outcomes), len(outcomes) - sum(outcomes)
    best, best_threshold = -1.0, None
    for threshold in sorted(set(probabilities)):
        caught = sum(1 for y, p in zip(outcomes, probabilities, strict=True) if y and p >= threshold) / npl
        passed = sum(1 for y, p in zip(outcomes, probabilities, strict=True) if not y and p >= threshold) / good
        if caught - passed > best:
            best, best_threshold = caught - passed, threshold
    fpr, tpr, _ = roc_curve(outcomes, probabilities)

    ks = stored["figures"]["ks"]
    assert ks["ks"] == pytest.approx(best, abs=1e-12) == pytest.approx(float(np.max(tpr - fpr)), abs=1e-12)
    assert ks["probability"] == pytest.approx(best_threshold)
    assert 0.1 < ks["ks"] < 1


def test_the_gains_table_recomputed_row_by_row(stored):
    outcomes = stored["test_predictions"]["is_npl"]
    probabilities = stored["test_predictions"]["probability"]
    n = len(outcomes)
    order = sorted(range(n), key=lambda i: (-probabilities[i], i))  # riskiest first, ties as stored
    bands: dict[int, list[int]] = {}
    for position, i in enumerate(order):
        bands.setdefault(position * 10 // n + 1, []).append(i)
    npl_total = sum(outcomes)
    good_total = n - npl_total
    overall = npl_total / n
    rows = stored["figures"]["gains"]["bands"]
    assert [row["band"] for row in rows] == list(range(1, 11))
    seen = caught = passed = 0
    iv = 0.0
    for row in rows:
        members = bands[row["band"]]
        bad = sum(outcomes[i] for i in members)
        seen, caught, passed = seen + len(members), caught + bad, passed + len(members) - bad
        assert (row["applicants"], row["npl"]) == (len(members), bad)
        assert row["npl_rate"] == pytest.approx(bad / len(members))
        assert row["max_probability"] == pytest.approx(max(probabilities[i] for i in members))
        assert row["cumulative_npl_share"] == pytest.approx(caught / npl_total)
        assert row["cumulative_non_npl_share"] == pytest.approx(passed / good_total)
        assert row["ks"] == pytest.approx(caught / npl_total - passed / good_total)
        assert row["lift"] == pytest.approx((bad / len(members)) / overall)
        assert row["cumulative_lift"] == pytest.approx((caught / seen) / overall)
        good = len(members) - bad
        if bad and good:
            woe = math.log((good / good_total) / (bad / npl_total))
            assert row["woe"] == pytest.approx(woe)
            iv += (good / good_total - bad / npl_total) * woe
    assert stored["figures"]["gains"]["iv"] == pytest.approx(iv)
    assert max(row["ks"] for row in rows) <= stored["figures"]["ks"]["ks"] + 1e-12
    assert rows[0]["npl_rate"] > rows[-1]["npl_rate"]  # the model ranks


def test_every_characteristics_iv_recomputed_from_its_bins(stored):
    characteristics = stored["figures"]["characteristics"]
    assert {item["name"] for item in characteristics} >= {
        "monthly_income",
        "housing_type",
        "num_of_dependent",
        "lama_bekerja",
        "otr",
        "status_pernikahan",
        "pekerjaan",
        "tenor",
        "dp",
        "dp_ratio",
        "installment_to_income",
        "loan_to_income",
    }
    for item in characteristics:
        bad_total = sum(row["npl"] for row in item["bins"])
        good_total = sum(row["non_npl"] for row in item["bins"])
        iv = sum(
            (row["non_npl"] / good_total - row["npl"] / bad_total)
            * math.log((row["non_npl"] / good_total) / (row["npl"] / bad_total))
            for row in item["bins"]
            if row["npl"] and row["non_npl"]
        )
        assert item["iv"] == pytest.approx(iv), item["name"]
    applicants = len(stored["test_predictions"]["app_id"])
    assert all(sum(row["test_count"] for row in item["bins"]) == applicants for item in characteristics)


# --------------------------------------------------------------------------------------------
# The model page
# --------------------------------------------------------------------------------------------


def test_the_model_page_shows_ks_gains_calibration_characteristics_and_the_scorecard(model_admin_client, make_version):
    version = make_version()
    validation = version_validation(version)
    page = checked_page(model_admin_client.get(f"/models/{version.pk}/"))
    ids = {attrs.get("id") for _, attrs in page.tags}
    assert {"discrimination", "gains", "calibration-by-grade", "characteristics", "scorecard-points"} <= ids
    assert {"gains-table", "calibration-grade-table", "characteristics-table", "scorecard-comparison"} <= ids
    text = " ".join(page.text)
    ks = validation.figures["ks"]
    score = int(credit_score(np.array([ks["probability"]]), ScorecardParameters())[0])
    assert f"reached at {score}" in text and decimal_text(ks["ks"], 3) in text
    assert "Gini" in text and "Information value" in text and "Weight of evidence" in text
    # The scorecard beside a logistic regression: its points table is kept for every version.
    assert validation.scorecard["source"] == "default" and "Buruh" in text
    assert f'href="/models/{version.pk}/dossier.pdf"' in response_html(model_admin_client, version)


def response_html(client, version) -> str:
    return client.get(f"/models/{version.pk}/").content.decode()


def test_a_version_trained_before_validation_records_says_so_and_still_renders(model_admin_client, make_version):
    version = make_version(validation=False)  # no applicants stored: its test applicants cannot be rebuilt
    page = checked_page(model_admin_client.get(f"/models/{version.pk}/"))
    assert "validation-unavailable" in {attrs.get("id") for _, attrs in page.tags}
    assert "Not recorded for this version" in text_of(model_admin_client.get(f"/models/{version.pk}/"))
    response = model_admin_client.get(f"/models/{version.pk}/dossier.pdf")
    assert response.status_code == 200
    assert "Not recorded for this version" in pdf_text(response.content)
    assert model_admin_client.get(f"/models/{version.pk}/dossier.xlsx").status_code == 200


def test_an_older_version_is_rebuilt_exactly_when_its_test_applicants_are_still_stored(
    model_admin_client, make_version
):
    loans, _ = cached_loan_book(TRAINING_APPLICANTS, seed=5, as_of=AS_OF)
    import_loan_file(loans, as_of=AS_OF)  # the book the cached model was trained on
    recorded = make_version()
    older = make_version(activate=False, validation=False)

    rebuilt, kept = version_validation(older), version_validation(recorded)

    assert rebuilt.status == "rebuilt"
    assert rebuilt.figures["ks"]["ks"] == pytest.approx(kept.figures["ks"]["ks"])
    assert [row["npl"] for row in rebuilt.figures["gains"]["bands"]] == [
        row["npl"] for row in kept.figures["gains"]["bands"]
    ]
    assert [item["iv"] for item in rebuilt.figures["characteristics"]] == pytest.approx(
        [item["iv"] for item in kept.figures["characteristics"]]
    )
    assert "validation-rebuilt" in {attrs.get("id") for _, attrs in checked_page(
        model_admin_client.get(f"/models/{older.pk}/")
    ).tags}  # fmt: skip


# --------------------------------------------------------------------------------------------
# The PDF and the XLSX
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("language", "title", "gini"),
    [("en", "Model dossier", "Gini"), ("id", "Dosir model", "Gini")],
)
def test_the_dossier_pdf_carries_the_headline_figures_in_the_readers_language(
    model_admin_client, make_version, language, title, gini
):
    version = make_version()
    metrics = version.metrics
    validation = version_validation(version)
    if language == "id":
        in_indonesian(model_admin_client)

    response = model_admin_client.get(f"/models/{version.pk}/dossier.pdf")

    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith(f'attachment; filename="model-{version.pk}-dossier-')
    assert response["Content-Disposition"].endswith(f'-{language}.pdf"')
    text = pdf_text(response.content)
    with translation.override(language):
        auc, ks = decimal_text(metrics["roc_auc"], 3), decimal_text(validation.figures["ks"]["ks"], 3)
        gini_value = decimal_text(2 * metrics["roc_auc"] - 1, 3)
        low = decimal_text(metrics["intervals"]["roc_auc"][0], 3)
    assert f"{title}: {version.name} #{version.pk}" in text
    assert auc in text and ks in text and gini in text and gini_value in text and low in text
    for characteristic in ("Monthly income" if language == "en" else "Penghasilan bulanan",):
        assert characteristic in text
    if language == "id":
        assert "Tabel gain" in text and "Analisis karakteristik" in text and "0." + auc[2:] not in text


def test_the_xlsx_has_every_table_with_numbers_as_numbers(model_admin_client, make_version):
    version = make_version()
    validation = version_validation(version)
    response = model_admin_client.get(f"/models/{version.pk}/dossier.xlsx")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    workbook = openpyxl.load_workbook(io.BytesIO(response.content))
    assert {
        "Summary",
        "Gains table",
        "Calibration by grade",
        "Calibration by band",
        "Characteristics",
        "Bins",
        "Test predictions",
        "Leaderboard",
        "Scorecard points",
    } <= set(workbook.sheetnames)
    gains = list(workbook["Gains table"].iter_rows(min_row=2, values_only=True))
    assert [row[4] for row in gains] == [row["npl"] for row in validation.figures["gains"]["bands"]]
    assert all(isinstance(value, int | float) for row in gains for value in row[:13])
    assert workbook["Gains table"]["F2"].number_format == "0.0%"
    predictions = list(workbook["Test predictions"].iter_rows(min_row=2, values_only=True))
    assert [row[0] for row in predictions] == validation.test["app_id"].tolist()
    assert all(isinstance(row[2], float) and 300 <= row[3] <= 850 for row in predictions)


def test_analysts_get_the_active_versions_dossier_only(analyst_client, make_version):
    active = make_version()
    candidate = make_version(activate=False)
    assert analyst_client.get(f"/models/{active.pk}/dossier.pdf").status_code == 200
    assert analyst_client.get(f"/models/{candidate.pk}/dossier.pdf").status_code == 403
    assert analyst_client.get(f"/models/{candidate.pk}/dossier.xlsx").status_code == 403


def test_the_model_dossier_command_writes_the_pdf_and_the_tables(make_version, tmp_path):
    version = make_version()
    out = tmp_path / "dossier.pdf"
    printed = io.StringIO()

    call_command("model_dossier", str(version.pk), "--language", "id", "--out", str(out), "--xlsx", stdout=printed)

    assert "Dosir model" in pdf_text(out.read_bytes())
    assert openpyxl.load_workbook(tmp_path / "dossier.xlsx")["Tabel gain"].max_row == 11
    assert str(out) in printed.getvalue()
    with pytest.raises(CommandError, match=f"No model version #{version.pk + 100}"):
        call_command("model_dossier", str(version.pk + 100))
    with pytest.raises(CommandError, match="does not exist"):
        call_command("model_dossier", str(version.pk), "--out", str(Path(tmp_path) / "missing" / "x.pdf"))


def test_the_retrain_form_asks_for_the_scorecard_deliberately(model_admin_client, active_version):
    form = {"profile": "quick", "as_of": "30/06/2024", "seed": "3", "candidate": "scorecard"}
    response = model_admin_client.post("/models/retrain/", form)
    run = TrainingRun.objects.order_by("-pk").first()
    assert response.status_code == 302
    assert run.parameters == {
        "profile": "quick",
        "as_of": "2024-06-30",
        "seed": 3,
        **FIRST_POLICY_TRAINING,
        "candidate": "CreditScorecard",
    }
    assert model_admin_client.post("/models/retrain/", {**form, "candidate": "forest"}).status_code == 400
