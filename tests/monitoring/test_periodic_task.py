"""The periodic monitoring task through a real Celery beat and a real worker (Redis when REDIS_URL is set)."""

import os
import subprocess
import sys

import pytest
from django.conf import settings

from monitoring.models import MonitoringReport
from monitoring.services import scheduled_period
from scoring.models import Prediction
from scoring.services import score_applicants
from tests.conftest import PROJECT_DIR, TEST_QUEUE, _database_url_of_test_database, wait_until
from tests.support import VALID_APPLICANT

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def beat_process(transactional_db, tmp_path):
    """``celery beat`` sending the monitoring task every 2 seconds to this session's test queue."""
    env = dict(os.environ)
    env.update(
        {
            "DATABASE_URL": _database_url_of_test_database(),
            "DATA_DIR": str(settings.DATA_DIR),
            "MONITORING_SCHEDULE_SECONDS": "2",
            "CELERY_TASK_DEFAULT_QUEUE": TEST_QUEUE,
        }
    )
    log_path = tmp_path / "beat.log"
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "nplsite", "beat", "-s", str(tmp_path / "schedule"), "-l", "info"],
            cwd=PROJECT_DIR,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        yield process
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
        if process.returncode not in (0, -15, None):
            sys.stderr.write(log_path.read_text(errors="replace")[-4000:])


def test_beat_and_worker_write_the_report_and_a_second_run_for_the_period_updates_it(
    monitored_version, celery_worker_process, beat_process
):
    score_applicants([VALID_APPLICANT] * 3, channel=Prediction.Channel.API)
    start, end = scheduled_period()

    first = wait_until(lambda: MonitoringReport.objects.filter(model_version=monitored_version).first(), timeout=90)
    assert first is not None, "no report written by the periodic task"
    again = wait_until(
        lambda: MonitoringReport.objects.filter(pk=first.pk, updated_at__gt=first.updated_at).first(), timeout=60
    )
    assert again is not None, "the periodic task did not run a second time"

    assert beat_process.poll() is None and celery_worker_process.poll() is None
    assert MonitoringReport.objects.count() == 1  # the same period: the one report, updated
    assert (again.period_start, again.period_end, again.channel) == (start, end, "")
    assert again.figures["stability"]["predictions"] == 3
    assert again.figures == first.figures and again.alerts == first.alerts and again.status == first.status
