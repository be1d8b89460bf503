import uuid

from django.conf import settings

from nplsite.tasks import health_ping


def test_real_worker_runs_health_task_and_returns_result(celery_worker_process):
    token = uuid.uuid4().hex
    result = health_ping.delay(token)
    answer = result.get(timeout=60)
    assert answer["token"] == token
    # It ran in the worker process, not in this one.
    assert answer["worker_pid"] == celery_worker_process.pid
    assert celery_worker_process.poll() is None


def test_broker_is_the_configured_one():
    from nplsite.celery import app

    if settings.REDIS_URL:
        assert app.conf.broker_url.startswith("redis://")
    else:
        assert app.conf.broker_url == "filesystem://"
