"""Issue 25 (monitoring): scoring marks each applicant's first prediction by a model version when it
stores it, so that a monitoring report reads a flag instead of searching every earlier prediction.

A re-score (the same applicant, the same version) is not first; a prediction that names no stored
application always is; two requests scoring the same applicant at once store one first prediction
(the database refuses the second, which is stored again as a re-score); the migration marks the
predictions stored before the flag as monitoring chose them then.
"""

import pytest
from django.core.management import call_command
from django.db import IntegrityError, connection, transaction
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from applicants.attributes import ATTRIBUTE_FIELDS
from scoring.models import Prediction
from scoring.policy_services import rescore_prediction
from scoring.services import (
    create_applicant,
    score_applicants,
    score_requests,
    score_stored_applicant,
    store_predictions,
)
from tests.support import VALID_APPLICANT


def flags(applicant) -> list[bool]:
    return list(applicant.predictions.order_by("id").values_list("first_of_version", flat=True))


def test_only_an_applicants_first_prediction_by_each_version_is_first(make_version, analyst):
    version = make_version("LogisticRegression")
    applicant = create_applicant(VALID_APPLICANT, app_id=5001)
    first = score_stored_applicant(applicant, user=analyst).prediction
    again = score_stored_applicant(applicant, user=analyst).prediction
    assert (first.first_of_version, again.first_of_version) == (True, False)
    assert rescore_prediction(first, user=analyst).first_of_version is False  # a new policy on the same score

    make_version("DecisionTreeClassifier")  # another version: its first prediction of the applicant is first
    newer = score_stored_applicant(applicant, user=analyst).prediction
    assert newer.model_version_id != version.pk and newer.first_of_version is True
    assert flags(applicant) == [True, False, False, True]


def test_a_prediction_without_a_stored_application_is_always_first(active_version, analyst):
    results = score_applicants([VALID_APPLICANT, VALID_APPLICANT], user=analyst, channel="api")
    again = score_applicants([VALID_APPLICANT], user=analyst, channel="api")
    assert [result.prediction.first_of_version for result in [*results, *again]] == [True, True, True]
    ad_hoc = results[0].prediction
    assert rescore_prediction(ad_hoc, user=analyst).first_of_version is True  # nothing links it to ad_hoc


def test_one_request_naming_an_application_twice_stores_one_first(active_version, analyst):
    attributes = {name: VALID_APPLICANT[name] for name in ATTRIBUTE_FIELDS}
    results = score_requests([(attributes, 5002), (attributes, 5002)], user=analyst, channel="api")
    assert [result.prediction.first_of_version for result in results] == [True, False]


def test_the_database_holds_one_first_prediction_per_applicant_and_version(active_version, analyst):
    applicant = create_applicant(VALID_APPLICANT, app_id=5003)
    stored = score_stored_applicant(applicant, user=analyst).prediction
    stored.pk, stored.first_of_version = None, True
    with pytest.raises(IntegrityError), transaction.atomic():
        stored.save(force_insert=True)


def concurrent_first_prediction(applicant):
    """A connection wrapper that stores ``applicant``'s first prediction by the active version right
    after this request has looked for one (and found none), as a request committing between this
    one's lookup and its insert would."""
    done = []

    def wrapper(execute, sql, params, many, context):
        result = execute(sql, params, many, context)
        if not done and sql.startswith("SELECT") and '"first_of_version"' in sql:
            done.append(True)
            score_stored_applicant(applicant, user=None)
        return result

    return wrapper


def store_while_another_request_stores_the_first(make_version, analyst, *, in_transaction: bool) -> None:
    make_version("LogisticRegression")
    applicant = create_applicant(VALID_APPLICANT, app_id=5004)
    assert connection.in_atomic_block is in_transaction
    with connection.execute_wrapper(concurrent_first_prediction(applicant)):
        result = score_stored_applicant(applicant, user=analyst)
    assert result.prediction.pk is not None and result.prediction.first_of_version is False
    assert flags(applicant) == [True, False]  # the other request's prediction is the first; both are stored
    assert list(applicant.predictions.order_by("id").values_list("user", flat=True)) == [None, analyst.pk]


def test_a_first_prediction_stored_meanwhile_makes_this_one_a_rescore(make_version, analyst):
    """Inside a transaction (a batch chunk's): the refused insert is undone to a savepoint only."""
    store_while_another_request_stores_the_first(make_version, analyst, in_transaction=True)


@pytest.mark.django_db(transaction=True)
def test_in_autocommit_a_first_prediction_stored_meanwhile_makes_this_one_a_rescore(make_version, analyst):
    """In autocommit (a web request's): the other request's prediction is committed before this insert."""
    store_while_another_request_stores_the_first(make_version, analyst, in_transaction=False)


def test_an_insert_refused_for_another_reason_is_not_retried_into_success(active_version, analyst):
    """A batch line stored twice stays refused: the flag's retry does not hide other unique keys."""
    from scoring.models import BatchScoringJob

    job = BatchScoringJob.objects.create(original_name="a.csv")
    applicant = create_applicant(VALID_APPLICANT, app_id=5005)
    template = score_stored_applicant(applicant, user=analyst).prediction
    copies = []
    for _ in range(2):
        copy = Prediction.objects.get(pk=template.pk)
        copy.pk, copy.batch_job, copy.batch_row = None, job, 7
        copies.append(copy)
    store_predictions(copies[:1])
    with pytest.raises(IntegrityError), transaction.atomic():
        store_predictions(copies[1:])
    assert Prediction.objects.filter(batch_job=job).count() == 1


@pytest.mark.django_db(transaction=True)  # migrate runs its own transactions
def test_the_migration_marks_the_predictions_stored_before_the_flag(active_version):
    """Predictions stored by the code before the flag (scoring 0011) are marked when the database is
    migrated: per applicant and version the earliest by time, then by id; every unlinked one."""
    applicant = create_applicant(VALID_APPLICANT, app_id=5006)
    other = create_applicant(VALID_APPLICANT, app_id=5007)
    template = score_stored_applicant(applicant, user=None).prediction
    fields = {
        field.attname: getattr(template, field.attname)
        for field in Prediction._meta.concrete_fields
        if field.name not in ("id", "first_of_version", "created_at")
    }
    Prediction.objects.all().delete()
    now = timezone.now()
    rows = [  # (applicant, minutes after now): the order of the ids is not the order of time
        (applicant.pk, 5),
        (applicant.pk, 1),  # applicant's first by time
        (other.pk, 3),  # other's first (by id: same time as the next)
        (other.pk, 3),
        (None, 0),
        (None, 0),
    ]
    try:
        call_command("migrate", "scoring", "0011", verbosity=0)
        old_prediction = (
            MigrationExecutor(connection)
            .loader.project_state(("scoring", "0011_batch_job_found_by_its_unique_lines"))
            .apps.get_model("scoring", "Prediction")
        )
        ids = []
        for applicant_id, minutes in rows:
            row = old_prediction.objects.create(**{**fields, "applicant_id": applicant_id})
            old_prediction.objects.filter(pk=row.pk).update(created_at=now + timezone.timedelta(minutes=minutes))
            ids.append(row.pk)
    finally:
        call_command("migrate", verbosity=0)
    marked = dict(Prediction.objects.values_list("id", "first_of_version"))
    assert [marked[pk] for pk in ids] == [False, True, True, False, True, True]
