"""Issue 21: this round's migrations keep every row of a database made by the code before it.

The layout moved no model (the apps keep their tables); the round added an index on predictions
(``scoring`` 0004), a prediction column (``scoring`` 0005) and a monitoring status (``monitoring``
0002), and the vehicle price's lower bound (``applicants`` 0002). A database at the migrations
before them, with data in it, is migrated forward and keeps every row; no model change is left
without its migration.
"""

from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection

from monitoring.services import write_monitoring_report

pytestmark = pytest.mark.django_db(transaction=True)  # migrate runs its own transactions

BEFORE_THIS_ROUND = [
    ("scoring", "0003"),
    ("monitoring", "0001"),
    ("applicants", "0001"),
]  # before this round's migrations
TABLES = ("applicants_applicant", "scoring_prediction", "monitoring_monitoringreport", "training_modelversion")


def row_counts() -> dict[str, int]:
    with connection.cursor() as cursor:
        counts = {}
        for table in TABLES:
            cursor.execute(f"SELECT COUNT(*) FROM {connection.ops.quote_name(table)}")  # noqa: S608 (fixed names)
            counts[table] = cursor.fetchone()[0]
        return counts


def test_no_model_change_lacks_its_migration():
    out = StringIO()
    call_command("makemigrations", "--check", "--dry-run", stdout=out)  # exits non-zero when one is missing


def test_migrating_a_database_made_before_this_round_keeps_every_row(monitored_version):
    """Rows are written, the database is taken back to the schema before this round (which keeps them,
    as the code before it stored them: no prediction column of this round, the old index, the old
    statuses) and migrated forward again: every row is still there."""
    from django.utils import timezone

    from scoring.models import Prediction
    from scoring.services import score_applicants
    from tests.support import VALID_APPLICANT

    score_applicants([VALID_APPLICANT] * 3, channel=Prediction.Channel.API)
    today = timezone.localdate()
    write_monitoring_report(monitored_version, today, today)
    try:
        for app, migration in BEFORE_THIS_ROUND:
            call_command("migrate", app, migration, verbosity=0)
        with connection.cursor() as cursor:  # as the code before this round could store it
            cursor.execute("UPDATE monitoring_monitoringreport SET status = 'ok'")
        before = row_counts()
        assert before["scoring_prediction"] == 3 and before["monitoring_monitoringreport"] == 1
    finally:
        call_command("migrate", verbosity=0)  # the next tests need the whole schema, whatever happened

    assert row_counts() == before
    assert Prediction.objects.filter(outside_training=[]).count() == 3  # the new column's default
