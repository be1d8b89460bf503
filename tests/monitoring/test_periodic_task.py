"""The periodic monitoring task through a real Celery beat and a real worker (Redis when REDIS_URL is set)."""

import pytest

from monitoring.models import MonitoringReport
from monitoring.services import scheduled_period
from scoring.models import Prediction
from scoring.services import score_applicants
from tests.conftest import SESSION_WORKER_QUEUE, celery_process, wait_until
from tests.support import VALID_APPLICANT

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.process]


@pytest.fixture
def beat_process(transactional_db, celery_worker_process, tmp_path):
    """``celery beat`` sending the monitoring task every 2 seconds to the queue of the session's worker."""
    arguments = ["beat", "-s", str(tmp_path / "schedule"), "-l", "info"]
    with celery_process(
        arguments, "beat", MONITORING_SCHEDULE_SECONDS="2", CELERY_TASK_DEFAULT_QUEUE=SESSION_WORKER_QUEUE
    ) as process:
        yield process


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
