"""``python manage.py train`` end to end on a small generated book."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from tests.training.conftest import AS_OF
from training.artifacts import load_artifact
from training.models import ModelVersion, TrainingRun

pytestmark = pytest.mark.django_db


@pytest.mark.trains
def test_train_command_registers_and_activates_a_verified_version(imported_book):
    out, err = StringIO(), StringIO()

    call_command("train", "--profile", "smoke", "--as-of", AS_OF.isoformat(), "--seed", "3", stdout=out, stderr=err)

    version = ModelVersion.objects.get()
    run = TrainingRun.objects.get()
    assert run.status == TrainingRun.Status.SUCCEEDED and run.model_version == version
    assert run.parameters == {
        "profile": "smoke",
        "as_of": AS_OF.isoformat(),
        "seed": 3,
        "out_of_time": False,
        "source": "manage.py train",
    }
    assert version.is_active
    assert f"{version.name} (version #{version.pk}, ACTIVE)" in out.getvalue()
    text = out.getvalue()
    assert "Test (" in text and "95 % bootstrap intervals" in text
    recall = version.metrics["recall"]
    low, high = version.metrics["intervals"]["recall"]
    assert f"recall {recall:.3f} [{low:.3f}, {high:.3f}]" in text
    # The cross-validated leaderboard, the chosen candidate marked, and the small book's warning.
    assert "Chosen by cross-validated roc_auc" in text and "one standard error rule" in text
    assert text.count("± ") >= 4 and "[chosen]" in text
    assert "every figure above is uncertain" in text
    assert "100%" in err.getvalue()  # the progress bar
    assert load_artifact(version).threshold == version.threshold


@pytest.mark.trains
def test_train_command_reports_a_failed_run(db):
    with pytest.raises(CommandError, match=r"Training run #\d+ failed: No labelled applicants"):
        call_command("train", "--profile", "smoke", stdout=StringIO(), stderr=StringIO())
    assert TrainingRun.objects.get().status == TrainingRun.Status.FAILED
    assert not ModelVersion.objects.exists()


@pytest.mark.trains
def test_train_command_rejects_a_bad_date(db):
    with pytest.raises(CommandError, match="--as-of must be a date"):
        call_command("train", "--as-of", "30/06/2024", stdout=StringIO(), stderr=StringIO())


@pytest.mark.trains
def test_without_as_of_the_latest_date_in_the_data_is_used_and_recorded(imported_book):
    call_command("train", "--profile", "smoke", "--seed", "1", stdout=StringIO(), stderr=StringIO())
    version = ModelVersion.objects.get()
    # The generated book's latest date is a payment or due date on or before its as-of date.
    assert version.training_data["as_of"] <= AS_OF.isoformat()
    assert version.training_data["as_of"] >= "2024-05-01"
