"""Labelling stored applications: compute max DPD, kolektibilitas and NPL from their stored
installments (:func:`credit.labelling.label_installments`) and store the labels that changed."""

from dataclasses import dataclass, field
from datetime import date

import numpy as np
import pandas as pd
from django.db import transaction

from applicants.models import Applicant
from applicants.selectors import (
    applicant_pk_ranges,
    dates_as_text,
    installment_history_frame,
    latest_installment_date,
    queryset_frame,
)
from credit.labelling import label_installments

APP_IDS_PER_QUERY = 5_000
LABEL_FIELDS = ["max_dpd", "kolektibilitas", "is_npl"]
STORED_LABEL_COLUMNS = ["pk", *LABEL_FIELDS, "labelled_as_of"]


@dataclass
class LabellingSummary:
    as_of: date | None
    labelled: int = 0
    npl: int = 0
    by_kolektibilitas: dict[int, int] = field(default_factory=dict)

    def add(self, labels: pd.DataFrame) -> None:
        self.labelled += len(labels)
        self.npl += int(labels["is_npl"].sum())
        for kol, count in labels["kolektibilitas"].value_counts().items():
            self.by_kolektibilitas[int(kol)] = self.by_kolektibilitas.get(int(kol), 0) + int(count)

    def merge(self, other: "LabellingSummary") -> None:
        self.labelled += other.labelled
        self.npl += other.npl
        for kol, count in other.by_kolektibilitas.items():
            self.by_kolektibilitas[kol] = self.by_kolektibilitas.get(kol, 0) + count


def _stored_labels(queryset) -> pd.DataFrame:
    return queryset_frame(
        queryset.order_by().values_list("pk", *LABEL_FIELDS, *dates_as_text("labelled_as_of")), STORED_LABEL_COLUMNS
    )


def _changed_labels(labels: pd.DataFrame, stored: pd.DataFrame, as_of: date) -> pd.DataFrame:
    """The rows of ``labels`` (keyed by ``pk``) that differ from what is stored."""
    merged = labels.merge(stored, on="pk", how="left", suffixes=("", "_stored"))
    same = (
        (merged["max_dpd"] == pd.to_numeric(merged["max_dpd_stored"]))
        & (merged["kolektibilitas"] == pd.to_numeric(merged["kolektibilitas_stored"]))
        & (merged["is_npl"].astype(float) == merged["is_npl_stored"].map({True: 1.0, False: 0.0}))
        & (merged["labelled_as_of"] == as_of.isoformat())
    )
    return labels[~same.to_numpy()]


def _store_labels(labels: pd.DataFrame, as_of: date) -> None:
    applicants = [
        Applicant(pk=pk, max_dpd=max_dpd, kolektibilitas=kol, is_npl=npl, labelled_as_of=as_of)
        for pk, max_dpd, kol, npl in zip(
            labels["pk"].astype(np.int64).tolist(),
            labels["max_dpd"].astype(np.int64).tolist(),
            labels["kolektibilitas"].astype(np.int64).tolist(),
            labels["is_npl"].astype(bool).tolist(),
            strict=True,
        )
    ]
    Applicant.objects.bulk_update(applicants, [*LABEL_FIELDS, "labelled_as_of"], batch_size=500)


def label_applications(as_of: date | None = None, app_ids=None) -> LabellingSummary:
    """Label applications from their stored installments as of ``as_of`` and store the labels.

    ``as_of`` defaults to the latest due or paid date of any stored installment; ``app_ids``
    (default: every applicant) limits the applications labelled. Installments are read a few
    thousand applicants at a time; only labels that differ from the stored ones are written.
    Applicants without installments keep their (empty) labels.
    """
    if as_of is None:
        as_of = latest_installment_date()
    summary = LabellingSummary(as_of=as_of)
    if as_of is None:
        return summary
    if app_ids is None:
        batches = (
            (_stored_labels(Applicant.objects.filter(pk__gte=lo, pk__lt=hi)), (lo, hi))
            for lo, hi in applicant_pk_ranges()
        )
    else:
        unique_ids = np.unique(np.asarray(list(app_ids), dtype=np.int64))
        batches = (
            (
                _stored_labels(
                    Applicant.objects.filter(app_id__in=unique_ids[start : start + APP_IDS_PER_QUERY].tolist())
                ),
                None,
            )
            for start in range(0, len(unique_ids), APP_IDS_PER_QUERY)
        )
    with transaction.atomic():
        for stored, pk_range in batches:
            if stored.empty:
                continue
            if pk_range is not None:
                history = installment_history_frame(applicant_pk_range=pk_range)
            else:
                history = installment_history_frame(applicant_pks=stored["pk"].tolist())
            if history.empty:
                continue
            labels = label_installments(history.rename(columns={"applicant_id": "app_id"}), as_of)
            labels = labels.rename(columns={"app_id": "pk"})
            _store_labels(_changed_labels(labels, stored, as_of), as_of)
            summary.add(labels)
    return summary
