"""Fault: the same loan file imported twice at the same time (two threads, two connections).

Both imports finish without error and the database holds each application and installment once,
labelled, exactly as one import leaves it: a third, sequential import finds nothing to change. The
two reports add up to what was stored: an application one import created, the other found stored
(issue 22, item 7).
"""

import threading

import pandas as pd
import pytest
from django.db import connection

from applicants.models import Applicant, Installment
from applicants.services import import_loan_file
from tests.reliability.conftest import AS_OF

pytestmark = pytest.mark.django_db(transaction=True)  # each thread commits on its own connection


def test_two_simultaneous_imports_of_one_file_store_it_once(loan_book):
    rows = pd.read_csv(loan_book, usecols=["app_id"])
    start = threading.Barrier(2)
    summaries, errors = [], []

    def import_it():
        try:
            start.wait(timeout=30)
            # Small partitions: several transactions per import, so the two interleave.
            summaries.append(import_loan_file(loan_book, as_of=AS_OF, partition_bytes=64 * 1024))
        except Exception as exc:  # reported below, with the other thread's outcome
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=import_it) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert len(summaries) == 2 and all(s.rejected_rows == 0 for s in summaries)
    assert Applicant.objects.count() == rows["app_id"].nunique()
    assert Installment.objects.count() == len(rows)
    assert not Applicant.objects.filter(labelled_as_of__isnull=True).exists()
    assert sum(s.applications_created for s in summaries) == rows["app_id"].nunique()
    assert sum(s.installments_created for s in summaries) == len(rows)
    assert sum(s.applications_created + s.applications_updated + s.applications_unchanged for s in summaries) == 2 * (
        rows["app_id"].nunique()
    )

    again = import_loan_file(loan_book, as_of=AS_OF)
    assert (again.applications_created, again.applications_updated) == (0, 0)
    assert (again.installments_created, again.installments_updated) == (0, 0)
    assert again.applications_unchanged == rows["app_id"].nunique()
