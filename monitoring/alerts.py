"""Alerts in words: what moved and by how much, in the reader's language.

Reports store alerts as numbers (``{"level", "kind", ...}``); they are worded when shown, so the
same report reads in English and in Indonesian.
"""

from __future__ import annotations

from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from applicants.attributes import ATTRIBUTE_FIELDS, RUPIAH_ATTRIBUTE_FIELDS
from applicants.models import Applicant
from credit.stability import PSI_SHIFTED, PSI_WATCH, SCORE, UNSEEN, psi_level
from nplsite.numbers import decimal_text

RATIO_LABELS = {
    "dp_ratio": _("Down-payment ratio (DP / OTR)"),
    "installment_to_income": _("Installment-to-income ratio"),
    "loan_to_income": _("Financed amount in months of income"),
    SCORE: _("Score (NPL probability)"),
}


def feature_label(name: str) -> str:
    if name in ATTRIBUTE_FIELDS:
        label = str(Applicant._meta.get_field(name).verbose_name)
        return label[:1].upper() + label[1:]
    return str(RATIO_LABELS.get(name, name))


def percent(value: float | None, digits: int = 1) -> str:
    return "—" if value is None else f"{decimal_text(100 * value, digits)} %"


def figure(name: str, value: float | None) -> str:
    """A feature's value as the page shows it: rupiah in millions, probabilities as percent."""
    if value is None:
        return "—"
    if name in RUPIAH_ATTRIBUTE_FIELDS:
        return gettext("Rp %(amount)s M") % {"amount": decimal_text(value / 1e6, 1)}
    if name == SCORE:
        return percent(value)
    return decimal_text(value, 2)


def psi_reading(psi: float) -> str:
    """The reading of an index in words, with the lines of :mod:`credit.stability` (one home for them)."""
    lines = {"watch": decimal_text(PSI_WATCH, 2), "shifted": decimal_text(PSI_SHIFTED, 2)}
    level = psi_level(psi)
    if level == "shifted":
        return gettext("shifted, above %(shifted)s") % lines
    if level == "watch":
        return gettext("watch, %(watch)s–%(shifted)s") % lines
    return gettext("stable, below %(watch)s") % lines


def category_label(category: str) -> str:
    return gettext("categories never seen in training") if category == UNSEEN else category


def alert_message(alert: dict) -> str:
    kind = alert["kind"]
    if kind == "psi":
        name, moved = alert["feature"], alert["moved"]
        head = gettext("%(feature)s moved: population stability index %(psi)s (%(reading)s)") % {
            "feature": feature_label(name),
            "psi": decimal_text(alert["psi"], 3),
            "reading": psi_reading(alert["psi"]),
        }
        if "category" in moved:
            detail = gettext("%(category)s: %(before)s of applicants at training, %(after)s in the period") % {
                "category": category_label(moved["category"]),
                "before": percent(moved["training_share"]),
                "after": percent(moved["period_share"]),
            }
        else:
            before, after = moved["training_mean"], moved["period_mean"]
            change = (after - before) / before if before else None
            detail = gettext("mean %(before)s at training, %(after)s in the period (%(change)s)") % {
                "before": figure(name, before),
                "after": figure(name, after),
                "change": "—" if change is None else f"{'+' if change >= 0 else '−'}{percent(abs(change), 0)}",
            }
        return f"{head}; {detail}."
    if kind == "outside":
        return gettext(
            "%(share)s of the period's %(feature)s values lie outside the training range or in categories the "
            "model never saw."
        ) % {"share": percent(alert["share"]), "feature": feature_label(alert["feature"])}
    if kind == "grade":
        return gettext(
            "Grade %(grade)s: %(observed)s of applicants became NPL against %(expected)s predicted "
            "(%(npl)s of %(n)s; binomial test p = %(p)s, %(light)s)."
        ) % {
            "grade": alert["grade"],
            "observed": percent(alert["observed_rate"]),
            "expected": percent(alert["expected_rate"]),
            "npl": alert["npl"],
            "n": alert["n"],
            "p": decimal_text(alert["p_value"], 4),
            "light": light_label(alert["light"]),
        }
    if kind == "recall":
        if alert["level"] == "alert":
            text = gettext(
                "The version no longer meets the recall target: it found %(recall)s of the %(npl)s realised NPL "
                "(at most %(upper)s at 95 %% confidence) against the target %(target)s."
            )
        else:
            text = gettext(
                "Recall on realised outcomes is below the target: %(recall)s of the %(npl)s realised NPL found "
                "against the target %(target)s (within sampling noise: up to %(upper)s at 95 %% confidence)."
            )
        return text % {
            "recall": percent(alert["recall"]),
            "npl": alert["npl"],
            "upper": percent(alert["upper_bound"]),
            "target": percent(alert["target"], 0),
        }
    if kind == "no_reference":
        return gettext(
            "No reference distribution for this version (%(reason)s): population stability cannot be measured."
        ) % {"reason": alert["reason"]}
    return kind


def light_label(light: str) -> str:
    return {"green": gettext("green"), "yellow": gettext("yellow"), "red": gettext("red")}.get(light, light)
