"""The labelling service and the training-set selector, per the rules of data-format.md."""

from datetime import date, timedelta

import numpy as np
import pandas as pd
import pytest

from applicants.labelling_service import label_applications
from applicants.models import Applicant, Installment
from applicants.selectors import (
    TRAINING_COLUMNS,
    kolektibilitas_distribution,
    labelled_applicants_frame,
    latest_installment_date,
)

pytestmark = pytest.mark.django_db

AS_OF = date(2019, 6, 30)
ATTRIBUTES = {
    "monthly_income": 9_295_094,
    "housing_type": "milik sendiri",
    "num_of_dependent": 3,
    "lama_bekerja": 2,
    "otr": 800_000_000,
    "status_pernikahan": "Belum Nikah",
    "pekerjaan": "Karyawan Swasta",
    "tenor": 60,
    "dp": 80_000_000,
}


def applicant(app_id, installments, **attributes):
    """An applicant with installments given as (due_date, paid_date, due_amount)."""
    created = Applicant.objects.create(app_id=app_id, **{**ATTRIBUTES, **attributes})
    Installment.objects.bulk_create(
        Installment(applicant=created, due_date=due, paid_date=paid, due_amount=owed, paid_amount=0 if owed else 1000)
        for due, paid, owed in installments
    )
    return created


def labels_of(app_id):
    a = Applicant.objects.get(app_id=app_id)
    return a.max_dpd, a.kolektibilitas, a.is_npl


def before(days):
    return AS_OF - timedelta(days=days)


class TestLabelApplications:
    def test_each_rule(self):
        applicant(1, [(date(2019, 1, 5), date(2019, 1, 5), 0), (date(2019, 2, 5), date(2019, 2, 1), 0)])  # on time
        applicant(2, [(date(2019, 1, 5), date(2019, 1, 23), 0)])  # paid 18 days late
        applicant(3, [(before(90), None, 500)])  # owing 90 days: still kol 2
        applicant(4, [(before(91), None, 500)])  # owing 91 days: kol 3, NPL
        applicant(5, [(before(150), None, 500), (before(120), None, 500)])  # the worst installment counts
        applicant(6, [(before(181), before(1), 0)])  # paid, but 180 days late: kol 4
        applicant(7, [(AS_OF + timedelta(days=5), None, 500)])  # not yet due
        applicant(8, [(before(200), None, 0)])  # nothing owed, nothing paid

        summary = label_applications(AS_OF)

        assert labels_of(1) == (0, 1, False)
        assert labels_of(2) == (18, 2, False)
        assert labels_of(3) == (90, 2, False)
        assert labels_of(4) == (91, 3, True)
        assert labels_of(5) == (150, 4, True)
        assert labels_of(6) == (180, 4, True)
        assert labels_of(7) == (0, 1, False)
        assert labels_of(8) == (0, 1, False)
        assert set(Applicant.objects.values_list("labelled_as_of", flat=True)) == {AS_OF}
        assert (summary.as_of, summary.labelled, summary.npl) == (AS_OF, 8, 3)
        assert summary.by_kolektibilitas == {1: 3, 2: 2, 3: 1, 4: 2}

    def test_a_payment_received_after_as_of_was_not_known_then(self):
        applicant(1, [(date(2019, 1, 1), date(2019, 8, 1), 0)])  # paid in full, 212 days late

        label_applications(date(2019, 6, 30))
        assert labels_of(1) == (180, 4, True)  # as of June it was still owed: 180 days

        label_applications(date(2019, 9, 30))
        assert labels_of(1) == (212, 5, True)  # by September it was paid, 212 days late

    def test_only_the_given_applications(self):
        applicant(1, [(before(100), None, 500)])
        applicant(2, [(before(100), None, 500)])
        label_applications(AS_OF, app_ids=[2])
        assert labels_of(1) == (None, None, None)
        assert labels_of(2) == (100, 3, True)

    def test_default_as_of_is_the_latest_date_in_the_installments(self):
        applicant(1, [(date(2019, 1, 1), None, 500)])
        applicant(2, [(date(2019, 2, 1), date(2019, 3, 15), 0)])
        assert latest_installment_date() == date(2019, 3, 15)
        summary = label_applications()
        assert summary.as_of == date(2019, 3, 15)
        assert labels_of(1) == (73, 2, False)

    def test_applicant_without_history_keeps_empty_labels(self):
        Applicant.objects.create(app_id=9, source="api", **ATTRIBUTES)
        applicant(1, [(before(10), None, 500)])
        label_applications(AS_OF)
        assert labels_of(9) == (None, None, None)
        assert Applicant.objects.get(app_id=9).labelled_as_of is None

    def test_nothing_to_label(self):
        summary = label_applications()
        assert (summary.as_of, summary.labelled) == (None, 0)


class TestLabelledApplicantsFrame:
    def test_training_set_contract(self):
        applicant(1, [(date(2019, 1, 5), None, 500), (date(2018, 12, 5), date(2018, 12, 5), 0)], pekerjaan="PNS")
        applicant(2, [(date(2019, 3, 1), date(2019, 3, 1), 0)], monthly_income=5_000_000, housing_type="kos")
        applicant(3, [(date(2019, 8, 1), None, 500)])  # nothing due by as_of: not in the training set
        Applicant.objects.create(app_id=4, **ATTRIBUTES)  # no history at all
        label_applications(date(2019, 12, 31))  # stored labels as of another date must not leak in

        frame = labelled_applicants_frame(AS_OF)

        assert list(frame.columns) == TRAINING_COLUMNS
        assert frame["app_id"].tolist() == [1, 2]
        first = frame.iloc[0]
        assert first["disbursement_date"] == pd.Timestamp("2018-12-05")
        assert (first["max_dpd"], first["kolektibilitas"], first["is_npl"]) == (176, 4, True)
        assert first["pekerjaan"] == "PNS"
        assert (frame.iloc[1]["monthly_income"], frame.iloc[1]["housing_type"]) == (5_000_000, "kos")
        assert frame.iloc[1]["kolektibilitas"] == 1
        assert str(frame["disbursement_date"].dtype).startswith("datetime64")
        for column in ("app_id", "monthly_income", "otr", "dp", "tenor", "max_dpd", "kolektibilitas"):
            assert frame[column].dtype == np.int64, column
        assert frame["is_npl"].dtype == bool

    def test_default_as_of_and_empty_database(self):
        empty = labelled_applicants_frame()
        assert list(empty.columns) == TRAINING_COLUMNS and empty.empty
        applicant(1, [(date(2019, 1, 1), None, 500), (date(2019, 2, 1), date(2019, 4, 1), 0)])
        frame = labelled_applicants_frame()  # as of 2019-04-01
        assert frame["max_dpd"].tolist() == [90]


def test_kolektibilitas_distribution():
    applicant(1, [(before(100), None, 500)])
    applicant(2, [(before(5), before(5), 0)])
    applicant(3, [(before(5), before(5), 0)])
    Applicant.objects.create(app_id=4, **ATTRIBUTES)
    label_applications(AS_OF)
    rows = {row["kolektibilitas"]: row for row in kolektibilitas_distribution()}
    assert {kol: row["count"] for kol, row in rows.items()} == {1: 2, 2: 0, 3: 1, 4: 0, 5: 0, None: 1}
    assert rows[1]["share"] == 0.5 and rows[1]["name"] == "Lancar"
    assert rows[3]["is_npl"] and not rows[2]["is_npl"] and not rows[None]["is_npl"]


def test_relabelling_records_the_new_as_of_even_when_labels_stay_the_same():
    applicant(1, [(date(2019, 1, 5), date(2019, 1, 5), 0)])
    label_applications(AS_OF)
    label_applications(date(2019, 12, 31))
    stored = Applicant.objects.get(app_id=1)
    assert (stored.max_dpd, stored.kolektibilitas, stored.labelled_as_of) == (0, 1, date(2019, 12, 31))
