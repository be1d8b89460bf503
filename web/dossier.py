"""The model's dossier as files a committee can file: a PDF (WeasyPrint, from HTML templates) and an
XLSX of the same tables (openpyxl, numbers as numbers), in the reader's language.

:func:`dossier_pdf` renders ``templates/training/dossier_document.html`` with the dossier of
:func:`web.page_selectors.dossier.version_dossier` and ``static/css/dossier.css``; the charts are the
pages' own SVG charts (``templates/charts/``), each carrying ``static/css/dossier-charts.css`` inside
it, since WeasyPrint draws an SVG with the SVG's own style sheet. :func:`dossier_xlsx` writes the
same figures, one sheet per table, plus the test predictions for a validator's own re-computation.
The page (``GET /models/<id>/dossier.pdf`` and ``.xlsx``) and ``manage.py model_dossier`` both call them.
"""

from __future__ import annotations

import io
from functools import cache
from pathlib import Path

from django.conf import settings
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.safestring import mark_safe
from django.utils.translation import gettext
from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from credit import scorecard as scoring_rules
from training.models import ModelVersion
from web.page_selectors.dossier import version_dossier

STATIC_CSS = Path(settings.BASE_DIR) / "static" / "css"
PERCENT = "0.0%"
DECIMAL = "0.000"
WHOLE = "#,##0"
LANGUAGES = ("en", "id")


class DossierLanguageError(ValueError):
    """A language the dossier is not written in."""


@cache
def _chart_style() -> str:
    return (STATIC_CSS / "dossier-charts.css").read_text(encoding="utf-8")


def _language(language: str | None) -> str:
    language = language or translation.get_language() or settings.LANGUAGE_CODE
    language = language.split("-")[0]
    if language not in LANGUAGES:
        raise DossierLanguageError(f"The dossier is written in {' or '.join(LANGUAGES)}, not {language!r}.")
    return language


def _low(figure: str) -> str:
    return gettext("%(figure)s, 95 %% interval, low end") % {"figure": figure}


def _high(figure: str) -> str:
    return gettext("%(figure)s, 95 %% interval, high end") % {"figure": figure}


def dossier_filename(version: ModelVersion, extension: str, language: str) -> str:
    """``model-12-dossier-2026-12-06-id.pdf``: the version, the day it was generated and the language."""
    return f"model-{version.pk}-dossier-{timezone.localdate().isoformat()}-{language}.{extension}"


def dossier_html(version: ModelVersion, language: str | None = None) -> str:
    with translation.override(_language(language)):
        return render_to_string(
            "training/dossier_document.html",
            {"version": version, "dossier": version_dossier(version), "svg_style": mark_safe(_chart_style())},  # noqa: S308 (our own file)
        )


def dossier_pdf(version: ModelVersion, language: str | None = None) -> bytes:
    """The dossier of ``version`` as a PDF, in ``language`` (default: the active one)."""
    from weasyprint import CSS, HTML

    html = dossier_html(version, language)
    stylesheet = CSS(filename=str(STATIC_CSS / "dossier.css"))
    return HTML(string=html, base_url=str(settings.BASE_DIR)).write_pdf(stylesheets=[stylesheet])


def _sheet(workbook: Workbook, title: str, headers: list[str], rows: list[list], formats: list[str | None]):
    sheet = workbook.create_sheet(title[:31])
    sheet.append(headers)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in rows:
        sheet.append(row)
    for column, number_format in enumerate(formats, start=1):
        width = max(len(str(headers[column - 1])), 10) + 2
        sheet.column_dimensions[get_column_letter(column)].width = min(width, 48)
        if number_format:
            for (cell,) in sheet.iter_rows(min_row=2, min_col=column, max_col=column):
                cell.number_format = number_format
    sheet.freeze_panes = "A2"
    return sheet


def dossier_xlsx(version: ModelVersion, language: str | None = None) -> bytes:
    """The dossier's tables as an XLSX workbook (numbers as numbers), in ``language``."""
    with translation.override(_language(language)):
        dossier = version_dossier(version)
        workbook = Workbook()
        summary = workbook.active
        summary.title = gettext("Summary")[:31]
        d = dossier["discrimination"]
        facts = [
            (gettext("Version"), f"{version.name} #{version.pk}", None),
            (
                gettext("Generated"),
                timezone.localtime(dossier["generated_at"]).replace(tzinfo=None),
                "dd/mm/yyyy hh:mm",
            ),
            (gettext("Decision policy"), dossier["policy_id"], None),
            (gettext("Labelled as of"), dossier["data"]["as_of"], "dd/mm/yyyy"),
            (gettext("Applicants"), dossier["data"]["applicants"], WHOLE),
            (gettext("NPL"), dossier["data"]["npl"], WHOLE),
            (gettext("NPL rate"), dossier["data"]["npl_rate"], PERCENT),
            (gettext("Decision threshold"), version.threshold, DECIMAL),
            (gettext("ROC AUC"), d["roc_auc"], DECIMAL),
            (_low("ROC AUC"), (d["roc_auc_interval"] or [None, None])[0], DECIMAL),
            (_high("ROC AUC"), (d["roc_auc_interval"] or [None, None])[1], DECIMAL),
            (gettext("Gini"), d["gini"], DECIMAL),
            (_low("Gini"), (d["gini_interval"] or [None, None])[0], DECIMAL),
            (_high("Gini"), (d["gini_interval"] or [None, None])[1], DECIMAL),
            (gettext("KS"), d["ks"], DECIMAL),
            (gettext("KS: NPL probability"), d["ks_probability"], DECIMAL),
            (gettext("KS: credit score"), d["ks_score"], None),
        ]
        for figure in dossier["test_figures"]:
            facts.append((str(figure["label"]), figure["value"], DECIMAL))
        summary.append([gettext("Figure"), gettext("Value")])
        for label, value, number_format in facts:
            summary.append([label, value])
            if number_format:
                summary.cell(row=summary.max_row, column=2).number_format = number_format
        summary.column_dimensions["A"].width = 34
        summary.column_dimensions["B"].width = 28
        for cell in summary[1]:
            cell.font = Font(bold=True)
        if not dossier["available"]:
            summary.append([gettext("Not recorded for this version."), dossier["unavailable_reason"]])
        else:
            _tables(workbook, dossier)
        _sheet(
            workbook,
            gettext("Leaderboard"),
            [gettext("Algorithm"), gettext("Balancing"), gettext("CV ROC AUC"), gettext("Standard error"),
             gettext("CV PR AUC"), gettext("Chosen")],
            [
                [row["algorithm"], str(row["balancing_label"]), row.get("cv_mean"), row.get("cv_se"),
                 row.get("cv_pr_auc"), bool(row.get("chosen"))]
                for row in dossier["search"]["leaderboard"]
            ],
            [None, None, DECIMAL, DECIMAL, DECIMAL, None],
        )  # fmt: skip
        if dossier["scorecard"]["recorded"]:
            _sheet(
                workbook,
                gettext("Scorecard points"),
                [gettext("Attribute"), gettext("Bin"), gettext("Points")],
                [[row["attribute"], row["bin"], row["points"]] for row in dossier["scorecard"]["points_table"]],
                [None, None, "0.0"],
            )
        buffer = io.BytesIO()
        workbook.save(buffer)
        return buffer.getvalue()


def _tables(workbook: Workbook, dossier: dict) -> None:
    _sheet(
        workbook,
        gettext("Gains table"),
        [gettext("Band"), gettext("Lowest credit score"), gettext("Highest credit score"), gettext("Applicants"),
         gettext("NPL"), gettext("NPL rate"), gettext("Lowest NPL probability"), gettext("Highest NPL probability"),
         gettext("NPL caught (cumulative)"), gettext("Non-NPL (cumulative)"), gettext("KS"), gettext("Lift"),
         gettext("Cumulative lift"), gettext("WoE"), gettext("IV")],
        [
            [row["band"], row["min_score"], row["max_score"], row["applicants"], row["npl"], row["npl_rate"],
             row["min_probability"], row["max_probability"], row["cumulative_npl_share"],
             row["cumulative_non_npl_share"], row["ks"], row["lift"], row["cumulative_lift"], row["woe"], row["iv"]]
            for row in dossier["gains"]
        ],
        [None, None, None, WHOLE, WHOLE, PERCENT, DECIMAL, DECIMAL, PERCENT, PERCENT, DECIMAL, "0.00", "0.00",
         DECIMAL, DECIMAL],
    )  # fmt: skip
    calibration_headers = [
        gettext("Applicants"), gettext("NPL"), gettext("Predicted"), gettext("Observed"),
        gettext("99 %% interval, low end") % {}, gettext("99 %% interval, high end") % {}, gettext("p-value"),
        gettext("Traffic light"),
    ]  # fmt: skip
    calibration_formats = [None, WHOLE, WHOLE, PERCENT, PERCENT, PERCENT, PERCENT, "0.0000", None]
    for title, group, rows in (
        (gettext("Calibration by grade"), gettext("Grade"), dossier["calibration_by_grade"]),
        (gettext("Calibration by band"), gettext("Band"), dossier["calibration_by_band"]),
    ):
        _sheet(
            workbook,
            title,
            [group, *calibration_headers],
            [
                [row["group"], row["applicants"], row["npl"], row["expected_rate"], row["observed_rate"],
                 row["interval"][0], row["interval"][1], row["p_value"], row["light_label"]]
                for row in rows
            ],
            calibration_formats,
        )  # fmt: skip
    _sheet(
        workbook,
        gettext("Characteristics"),
        [gettext("Characteristic"), gettext("IV, development"), gettext("IV, test"), gettext("Reading")],
        [[row["label"], row["iv"], row["test_iv"], row["strength"]] for row in dossier["characteristics"]],
        [None, DECIMAL, DECIMAL, None],
    )
    _sheet(
        workbook,
        gettext("Bins"),
        [gettext("Characteristic"), gettext("Bin"), gettext("From"), gettext("Below"), gettext("Applicants"),
         gettext("NPL"), gettext("NPL rate"), gettext("WoE"), gettext("IV"), gettext("Test applicants"),
         gettext("Test NPL")],
        [
            [item["label"], row["text"], row.get("low"), row.get("high"), row["count"], row["npl"], row["npl_rate"],
             row["woe"], row["iv"], row["test_count"], row["test_npl"]]
            for item in dossier["characteristics"]
            for row in item["bins"]
        ],
        [None, None, None, None, WHOLE, WHOLE, PERCENT, DECIMAL, DECIMAL, WHOLE, WHOLE],
    )  # fmt: skip
    test = dossier["test_predictions"]
    parameters = dossier["policy"]
    probability = test["probability"].to_numpy(dtype=float)
    scores = scoring_rules.credit_score(probability, parameters)
    grades = scoring_rules.risk_grade(scores, parameters)
    scorecard_probability = test["scorecard_probability"]
    _sheet(
        workbook,
        gettext("Test predictions"),
        [gettext("Application id"), gettext("NPL"), gettext("NPL probability"), gettext("Credit score"),
         gettext("Grade"), gettext("Scorecard NPL probability")],
        [
            [int(app_id), int(npl), float(p), int(score), str(grade), None if sp != sp else float(sp)]
            for app_id, npl, p, score, grade, sp in zip(
                test["app_id"], test["is_npl"], probability, scores, grades, scorecard_probability, strict=True
            )
        ],
        [None, None, "0.000000", None, None, "0.000000"],
    )  # fmt: skip
