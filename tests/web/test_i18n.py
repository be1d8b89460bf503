"""Indonesian pages, and numbers, rupiah and dates written the way each language writes them."""

import ast
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from django.template import Context, Template
from django.utils import translation

from applicants.models import Applicant
from tests.web.conftest import VALID_FORM
from tests.web.pagecheck import catalogue_entries, checked_page, text_of
from training.models import TrainingRun
from web.forms.training import RetrainForm

pytestmark = pytest.mark.django_db


def in_indonesian(client):
    assert client.post("/i18n/setlang/", {"language": "id", "next": "/"}).status_code == 302


def render(template: str, language: str, **context) -> str:
    with translation.override(language):
        return Template("{% load npl_format %}" + template).render(Context(context))


@pytest.mark.parametrize(
    ("language", "expected"),
    [("en", "Rp 12,000,000 · 12.3 % · 1,234 · 0.812"), ("id", "Rp 12.000.000 · 12,3 % · 1.234 · 0,812")],
)
def test_numbers_follow_the_language(language, expected):
    rendered = render(
        "{{ amount|rupiah }} · {{ share|percent }} · {{ count|grouped }} · {{ auc|decimal }}",
        language,
        amount=12_000_000,
        share=0.1234,
        count=1234,
        auc=0.8123,
    )
    assert rendered == expected


def test_rupiah_of_nothing_and_negative_amounts():
    assert render("{{ none|rupiah }}|{{ loss|rupiah }}", "id", none=None, loss=-2500) == "—|−Rp 2.500"


@pytest.mark.parametrize(
    ("language", "day", "moment"),
    [("en", "6 Dec 2026", "6 Dec 2026 06:42"), ("id", "6 Des 2026", "6 Des 2026 06.42")],
)
def test_dates_are_day_month_year_in_both_languages(language, day, moment):
    """One unambiguous format (nplsite/formats): never 12/06/2026, which reads as June to some readers."""
    when = datetime(2026, 12, 6, 6, 42, tzinfo=ZoneInfo("Asia/Jakarta"))
    rendered = render(
        '{{ day|date }}|{{ when|date:"SHORT_DATETIME_FORMAT" }}|{{ when|date:"DATETIME_FORMAT" }}|{{ when }}',
        language,
        day=date(2026, 12, 6),
        when=when,
    )
    assert rendered == f"{day}|{moment}|{moment}|{moment}"


@pytest.mark.parametrize("language", ["en", "id"])
def test_date_inputs_are_day_first(language):
    with translation.override(language):
        form = RetrainForm({"profile": "quick", "as_of": "06/12/2026", "seed": "7"})
        assert form.is_valid(), form.errors
        assert form.cleaned_data["as_of"] == date(2026, 12, 6)
        assert RetrainForm({"profile": "quick", "as_of": "2026-12-06", "seed": "7"}).is_valid()  # ISO too
        assert not RetrainForm({"profile": "quick", "as_of": "12/31/2026", "seed": "7"}).is_valid()  # month first
        widget = str(RetrainForm(initial={"as_of": date(2026, 12, 6)})["as_of"])
    assert 'value="06/12/2026"' in widget and 'type="text"' in widget


def test_dashboard_and_navigation_in_indonesian(analyst_client, active_version, page_book):
    in_indonesian(analyst_client)

    response = analyst_client.get("/")

    checked_page(response)
    text = text_of(response)
    for phrase in ("Dasbor", "Pemohon", "Skor", "Massal", "Model", "Rasio NPL", "Prediksi hari ini", "Model aktif"):
        assert phrase in text, phrase
    assert "Kualitas pinjaman (kolektibilitas)" in text
    assert "Predictions today" not in text


def test_applicant_pages_in_indonesian_write_rupiah_and_dates_the_indonesian_way(analyst_client, page_book):
    applicant = Applicant.objects.filter(labelled_as_of__isnull=False).order_by("app_id").first()
    in_indonesian(analyst_client)

    listing = text_of(analyst_client.get("/applicants/"))
    detail = text_of(analyst_client.get(f"/applicants/{applicant.app_id}/"))

    assert f"Rp {applicant.monthly_income:,}".replace(",", ".") in listing
    assert "Urutkan menurut" in listing and "Terapkan" in listing
    assert f"dilabeli per {applicant.labelled_as_of.day} Jun 2024" in detail
    assert "Riwayat pembayaran" in detail and "Hari tunggakan" in detail and "Skor sekarang" in detail


def test_score_form_and_result_in_indonesian(analyst_client, active_version):
    in_indonesian(analyst_client)

    form_page = text_of(analyst_client.get("/score/"))
    result = analyst_client.post("/score/", VALID_FORM)

    assert "Penghasilan bulanan" in form_page and "Uang muka" in form_page and "dalam rupiah" in form_page
    text = text_of(result)
    assert "Hasil" in text and "Peringkat" in text and "Skor kredit" in text and "Mengapa" in text
    assert "menaikkan risiko" in text or "menurunkan risiko" in text  # the reasons, worded in Indonesian
    invalid = text_of(analyst_client.post("/score/", {**VALID_FORM, "tenor": ""}))
    assert "Perbaiki 1 isian yang ditandai di bawah." in invalid


def test_model_pages_in_indonesian(model_admin_client, active_version):
    in_indonesian(model_admin_client)
    listing = text_of(model_admin_client.get("/models/"))
    detail = text_of(model_admin_client.get(f"/models/{active_version.pk}/"))
    assert "Latih ulang" in listing and "Profil pencarian" in listing
    assert "Matriks konfusi" in detail and "Papan peringkat kandidat" in detail and "Kurva ROC" in detail


def test_the_indonesian_catalogue_is_complete_and_compiled():
    po = Path(__file__).resolve().parents[2] / "locale" / "id" / "LC_MESSAGES" / "django.po"
    entries = catalogue_entries(po)
    assert len(entries) > 500
    assert [e["msgid"] for e in entries if "fuzzy" in e["flags"]] == []
    assert [e["msgid"] for e in entries if not all(e["msgstr"])] == []
    # The compiled catalogue is the one Django reads; it must carry what the .po says.
    with translation.override("id"):
        for entry in entries[:: max(1, len(entries) // 40)]:
            if "%" not in entry["msgid"] and len(entry["msgstr"]) == 1:
                assert translation.gettext(entry["msgid"]) == entry["msgstr"][0], entry["msgid"]


TRANSLATION_CALLS = {"gettext", "gettext_lazy", "_", "ngettext", "ngettext_lazy", "gettext_noop"}


def test_every_translatable_string_in_the_python_sources_is_in_the_catalogue():
    """What makemessages would add (it needs GNU gettext, not on every machine), for the Python code."""
    repo = Path(__file__).resolve().parents[2]
    catalogue = {entry["msgid"] for entry in catalogue_entries(repo / "locale" / "id" / "LC_MESSAGES" / "django.po")}
    missing = []
    for app in ("credit", "nplsite", "jobs", "applicants", "training", "scoring", "monitoring", "reviews", "web"):
        for path in sorted((repo / app).rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if not isinstance(node, ast.Call) or not node.args:
                    continue
                function = node.func
                name = getattr(function, "id", None) or getattr(function, "attr", None)
                text = node.args[0]
                literal = isinstance(text, ast.Constant) and isinstance(text.value, str)
                if name in TRANSLATION_CALLS and literal and text.value not in catalogue:
                    missing.append(f"{path.relative_to(repo)}:{node.lineno}: {text.value!r}")
    assert missing == [], "run manage.py makemessages -l id and translate:\n" + "\n".join(missing)


def test_every_page_in_indonesian_passes_the_page_checker(model_admin_client, make_version, page_book):
    """Every page a Model admin (who sees all an Analyst sees) opens, in Indonesian: no raw field key, no
    English left (tests/web/pagecheck.py); a scored NPL applicant, a second version and its run included."""
    make_version()
    candidate = make_version(activate=False)
    run = TrainingRun.objects.get(model_version=candidate)
    in_indonesian(model_admin_client)
    scored_applicant = Applicant.objects.filter(is_npl=True).order_by("app_id").first()
    assert model_admin_client.post(f"/score/applicants/{scored_applicant.app_id}/").status_code == 302
    for url in (
        "/",
        "/applicants/",
        "/applicants/?sort=-latest_score",
        f"/applicants/{scored_applicant.app_id}/",
        "/score/",
        "/batch/",
        "/models/",
        f"/models/{candidate.pk}/",
        f"/models/{candidate.pk}/activate/",
        "/models/rollback/",
        "/models/retrain/",
        f"/models/runs/{run.pk}/",
        f"/score/predictions/{scored_applicant.predictions.get().pk}/",
        "/policies/",
        "/policies/new/",
    ):
        checked_page(model_admin_client.get(url))
    checked_page(model_admin_client.post("/score/", VALID_FORM))


def test_an_invalid_score_form_in_indonesian_passes_the_page_checker(analyst_client, active_version):
    in_indonesian(analyst_client)
    checked_page(analyst_client.post("/score/", {**VALID_FORM, "dp": "400000000", "lama_bekerja": "-2"}), 400)
