"""The periodic monitoring task, sent by Celery beat (``CELERY_BEAT_SCHEDULE`` in settings)."""

from celery import shared_task

from monitoring.services import write_scheduled_reports


@shared_task(name="monitoring.write_monitoring_reports")
def write_monitoring_reports() -> list[dict]:
    """Write (or update) the report of the scheduled period for every version to monitor."""
    return [
        {"report_id": report.pk, "model_version_id": report.model_version_id, "status": report.status}
        for report in write_scheduled_reports()
    ]
