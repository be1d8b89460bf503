"""Fault: Redis, which holds the API rate-limit counters, is unreachable.

Scoring goes on: the rate limit is not applied while Redis is away, and a warning says so in the
log (once, not once per request). When Redis is back, the limit applies again.
"""

import logging

import pytest

from nplsite import throttling
from scoring.models import Prediction
from tests.support import VALID_APPLICANT, unused_window_start

from .conftest import closed_port

SCORE = "/api/v1/score"


@pytest.fixture
def limit_of_three(monkeypatch):
    monkeypatch.setattr(throttling.UserRateThrottle, "THROTTLE_RATES", {"user": "3/minute"})
    monkeypatch.setattr(throttling, "_last_warning", float("-inf"))
    monkeypatch.setattr(throttling, "_redis_unavailable_until", float("-inf"))
    minute = unused_window_start(60)
    monkeypatch.setattr(throttling.UserRateThrottle, "timer", lambda self: minute + 1.0)


def test_scoring_goes_on_without_a_rate_limit_while_redis_is_unreachable(
    analyst_api, make_version, settings, limit_of_three, caplog, monkeypatch
):
    make_version("reliability-rate-limit.joblib")
    unreachable = f"redis://127.0.0.1:{closed_port()}/0"
    settings.REDIS_URL = unreachable  # the rate-limit counters
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": unreachable}}

    attempts = []
    real_add_and_read = throttling.RedisCounters.add_and_read
    monkeypatch.setattr(
        throttling.RedisCounters,
        "add_and_read",
        lambda self, *args: attempts.append(1) or real_add_and_read(self, *args),
    )
    with caplog.at_level(logging.WARNING, logger="nplsite.throttling"):
        answers = [analyst_api.post(SCORE, VALID_APPLICANT, format="json").status_code for _ in range(5)]

    assert answers == [200] * 5  # over the limit of 3, and let through
    assert Prediction.objects.count() == 5
    warnings = [r.getMessage() for r in caplog.records if r.name == "nplsite.throttling"]
    assert len(warnings) == 1 and "Redis is unreachable" in warnings[0] and "let through" in warnings[0]
    # Only the first request waited for Redis: the others went through without asking it again.
    assert attempts == [1]


@pytest.mark.skipif(not throttling.settings.REDIS_URL, reason="needs the real Redis (REDIS_URL), as under .ci/run")
def test_the_limit_applies_again_once_redis_answers(analyst_api, make_version, settings, limit_of_three, monkeypatch):
    make_version("reliability-rate-limit-back.joblib")
    real = settings.REDIS_URL
    settings.REDIS_URL = f"redis://127.0.0.1:{closed_port()}/0"
    assert analyst_api.post(SCORE, VALID_APPLICANT, format="json").status_code == 200
    settings.REDIS_URL = real
    assert throttling._redis_unavailable_until > float("-inf")  # backing off from Redis now
    monkeypatch.setattr(throttling, "_redis_unavailable_until", float("-inf"))  # the back-off has passed
    answers = [analyst_api.post(SCORE, VALID_APPLICANT, format="json").status_code for _ in range(4)]
    assert answers == [200, 200, 200, 429]
