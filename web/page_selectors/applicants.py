"""Reads for the applicant pages: the filtered, sorted list and one applicant's payment history.

The scoring app's ``Prediction`` is reached through the reverse relation ``Applicant.predictions``
(declared by scoring), so this module imports nothing from scoring and the data still flows one
way (applicants ← scoring).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pandas as pd
from django.db.models import F, OuterRef, QuerySet, Subquery
from django.utils.formats import date_format
from django.utils.translation import gettext

from applicants.models import Applicant, Installment
from credit.labelling import (
    KOLEKTIBILITAS_NAMES,
    KOLEKTIBILITAS_UPPER_DPD,
    NPL_MIN_KOLEKTIBILITAS,
    installment_dpd,
    kolektibilitas_for_dpd,
)
from scoring.models import Prediction
from web.charts import Bar, ReferenceLine, bar_chart, nice_maximum

NOT_LABELLED = "none"
NOT_SCORED = "none"

# Sort keys accepted from the page → ORDER BY (app_id last, so pages are stable).
SORTS = {
    "app_id": (F("app_id").asc(),),
    "-app_id": (F("app_id").desc(),),
    "max_dpd": (F("max_dpd").asc(nulls_first=True), F("app_id").asc()),
    "-max_dpd": (F("max_dpd").desc(nulls_last=True), F("app_id").asc()),
    "monthly_income": (F("monthly_income").asc(), F("app_id").asc()),
    "-monthly_income": (F("monthly_income").desc(), F("app_id").asc()),
    "latest_score": (F("latest_score").asc(nulls_last=True), F("app_id").asc()),
    "-latest_score": (F("latest_score").desc(nulls_last=True), F("app_id").asc()),
}
DEFAULT_SORT = "app_id"


def _latest_prediction(field: str) -> Subquery:
    latest = Prediction.objects.filter(applicant=OuterRef("pk")).order_by("-created_at", "-id").values(field)[:1]
    return Subquery(latest)


def applicant_list(
    *,
    app_id: int | None = None,
    kolektibilitas: int | str | None = None,
    is_npl: bool | None = None,
    grade: str | None = None,
    pekerjaan: str | None = None,
    housing_type: str | None = None,
    sort: str = DEFAULT_SORT,
) -> QuerySet[Applicant]:
    """Applicants with their latest prediction's grade, score, NPL probability and time.

    ``kolektibilitas`` 1–5 or ``"none"`` (not labelled: no payment history); ``grade`` a risk grade
    or ``"none"`` (never scored); ``sort`` one of :data:`SORTS`.
    """
    queryset = Applicant.objects.annotate(
        latest_grade=_latest_prediction("risk_grade"),
        latest_score=_latest_prediction("credit_score"),
        latest_probability=_latest_prediction("npl_probability"),
        latest_scored_at=_latest_prediction("created_at"),
    )
    if app_id is not None:
        queryset = queryset.filter(app_id=app_id)
    if kolektibilitas == NOT_LABELLED:
        queryset = queryset.filter(kolektibilitas__isnull=True)
    elif kolektibilitas is not None:
        queryset = queryset.filter(kolektibilitas=int(kolektibilitas))
    if is_npl is not None:
        queryset = queryset.filter(is_npl=is_npl)
    if grade == NOT_SCORED:
        queryset = queryset.filter(latest_grade__isnull=True)
    elif grade:
        queryset = queryset.filter(latest_grade=grade)
    if pekerjaan:
        queryset = queryset.filter(pekerjaan=pekerjaan)
    if housing_type:
        queryset = queryset.filter(housing_type=housing_type)
    return queryset.order_by(*SORTS.get(sort, SORTS[DEFAULT_SORT]))


@dataclass
class PaymentHistory:
    """Installments in due-date order with their days past due as of the labelling date.

    ``arrears`` is what fell due by the labelling date and is still unpaid. The loan file has no
    interest rate, so the outstanding principal cannot be derived from it; ``installments_to_come``
    (tenor minus the installments due by then) says how much of the loan is still ahead.
    """

    as_of: date | None
    installments: list[dict]
    max_dpd: int | None
    kolektibilitas: int | None
    arrears: int
    paid_total: int
    late_installments: int
    installments_to_come: int = 0

    @property
    def is_npl(self) -> bool | None:
        return None if self.kolektibilitas is None else self.kolektibilitas >= NPL_MIN_KOLEKTIBILITAS


def payment_history(applicant: Applicant) -> PaymentHistory:
    """The applicant's installments with DPD computed by :func:`credit.labelling.installment_dpd`
    as of ``applicant.labelled_as_of`` — the same numbers as the stored labels."""
    rows = list(
        Installment.objects.filter(applicant=applicant)
        .order_by("due_date")
        .values("due_date", "paid_date", "due_amount", "paid_amount")
    )
    as_of = applicant.labelled_as_of
    if not rows:
        return PaymentHistory(as_of, [], None, None, 0, 0, 0, applicant.tenor)
    frame = pd.DataFrame.from_records(rows)
    frame["paid_date"] = pd.to_datetime(frame["paid_date"])
    frame["due_date"] = pd.to_datetime(frame["due_date"])
    dpd = installment_dpd(frame, as_of) if as_of is not None else pd.Series([0] * len(rows))
    kol = kolektibilitas_for_dpd(dpd.to_numpy())
    installments = []
    for number, (row, days, level) in enumerate(zip(rows, dpd.tolist(), kol.tolist(), strict=True), start=1):
        installments.append(
            {
                "number": number,
                "due_date": row["due_date"],
                "paid_date": row["paid_date"],
                "due_amount": row["due_amount"],
                "paid_amount": row["paid_amount"],
                "not_yet_due": as_of is not None and row["due_date"] > as_of,
                "dpd": int(days),
                "kolektibilitas": int(level),
                "kolektibilitas_name": KOLEKTIBILITAS_NAMES[int(level)],
            }
        )
    max_dpd = int(dpd.max()) if as_of is not None else None
    fallen_due = frame["due_date"] <= pd.Timestamp(as_of) if as_of is not None else frame["due_date"].notna()
    return PaymentHistory(
        as_of=as_of,
        installments=installments,
        max_dpd=max_dpd,
        kolektibilitas=int(kolektibilitas_for_dpd(max_dpd)) if max_dpd is not None else None,
        arrears=int(frame.loc[fallen_due, "due_amount"].sum()),
        paid_total=int(frame["paid_amount"].sum()),
        late_installments=int((dpd > 0).sum()),
        installments_to_come=max(0, applicant.tenor - int(fallen_due.sum())),
    )


def prediction_history(applicant: Applicant, limit: int = 20) -> list:
    """The applicant's latest predictions, newest first, with model version and user."""
    return list(applicant.predictions.select_related("model_version", "user").order_by("-created_at", "-id")[:limit])


def known_grades() -> list[str]:
    """The risk grades that predictions have been given, best first (for the list's grade filter)."""
    grades = Prediction.objects.order_by().values_list("risk_grade", flat=True).distinct()
    return sorted(grades)


def dpd_timeline_chart(history: PaymentHistory) -> dict | None:
    """Bars of days past due per installment (coloured by kolektibilitas), with the NPL line."""
    if not history.installments:
        return None
    npl_dpd = KOLEKTIBILITAS_UPPER_DPD[NPL_MIN_KOLEKTIBILITAS - 2]  # more than this many days is NPL
    bars = [
        Bar(
            value=row["dpd"],
            label=date_format(row["due_date"], "YEAR_MONTH_FORMAT"),
            title=gettext("Installment %(number)s due %(date)s: %(dpd)s days past due")
            % {"number": row["number"], "date": date_format(row["due_date"]), "dpd": row["dpd"]},
            css=f"bar-kol-{row['kolektibilitas']}",
        )
        for row in history.installments
    ]
    return bar_chart(
        bars,
        y_max=nice_maximum(max(120.0, float(max(row["dpd"] for row in history.installments)))),
        reference_lines=[ReferenceLine(npl_dpd, gettext("NPL: more than %(days)s days") % {"days": npl_dpd})],
        integer_ticks=True,
    )
