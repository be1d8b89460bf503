"""Indonesian pages, and numbers, rupiah and dates written the way each language writes them."""

import ast
from datetime import date
from pathlib import Path

import pytest
from django.template import Context, Template
from django.utils import translation

from applicants.models import Applicant

from .conftest import VALID_FORM
from .pagecheck import checked_page, text_of

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


def test_dates_follow_the_language():
    day = date(2024, 6, 30)
    assert render("{{ day|date }}", "id", day=day) == "30 Juni 2024"
    assert render("{{ day|date }}", "en", day=day) == "June 30, 2024"


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
    assert f"dilabeli per {applicant.labelled_as_of.day} Juni 2024" in detail
    assert "Riwayat pembayaran" in detail and "Hari tunggakan" in detail and "Skor sekarang" in detail


def test_score_form_and_result_in_indonesian(analyst_client, active_version):
    in_indonesian(analyst_client)

    form_page = text_of(analyst_client.get("/score/"))
    result = analyst_client.post("/score/", VALID_FORM)

    assert "Penghasilan bulanan (Rp)" in form_page and "Uang muka (Rp)" in form_page
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


def _catalogue_entries(path: Path) -> list[dict]:
    """The entries of a .po file: flags, msgid and every msgstr, strings joined across lines."""
    entries = []
    for block in path.read_text(encoding="utf-8").split("\n\n"):
        entry, key = {"flags": "", "msgid": None, "msgstr": []}, None
        for line in block.splitlines():
            if line.startswith("#,"):
                entry["flags"] += line
            elif line.startswith("#") or not line.strip():
                continue
            elif line.startswith(("msgid ", "msgid_plural ", "msgstr")):
                key, _, text = line.partition(" ")
                value = ast.literal_eval(text)
                if key == "msgid":
                    entry["msgid"] = value
                elif key.startswith("msgstr"):
                    entry["msgstr"].append(value)
            elif line.startswith('"') and key:
                value = ast.literal_eval(line)
                if key == "msgid":
                    entry["msgid"] += value
                elif key.startswith("msgstr"):
                    entry["msgstr"][-1] += value
        if entry["msgid"]:
            entries.append(entry)
    return entries


def test_the_indonesian_catalogue_is_complete_and_compiled():
    po = Path(__file__).resolve().parents[2] / "locale" / "id" / "LC_MESSAGES" / "django.po"
    entries = _catalogue_entries(po)
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
    catalogue = {entry["msgid"] for entry in _catalogue_entries(repo / "locale" / "id" / "LC_MESSAGES" / "django.po")}
    missing = []
    for app in ("nplsite", "applicants", "scoring", "training"):
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
