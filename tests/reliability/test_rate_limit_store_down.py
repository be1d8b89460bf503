"""Fault: Redis, the cache that holds the API rate limit's request times, is unreachable.

Scoring goes on: the rate limit is not applied while Redis is away, and a warning says so in the
log (once, not once per request). When Redis is back, the limit applies again.
"""

import logging

import pytest
from django.conf import settings as project_settings

from nplsite import throttling
from scoring.models import Prediction
from tests.reliability.conftest import closed_port
from tests.support import VALID_APPLICANT, unused_window_start

SCORE = "/api/v1/score"


@pytest.fixture
def limit_of_three(monkeypatch):
    monkeypatch.setattr(throttling.UserRateThrottle, "THROTTLE_RATES", {"user": "3/minute"})
    monkeypatch.setattr(throttling, "_last_warning", float("-inf"))
    minute = unused_window_start(60)
    monkeypatch.setattr(throttling.UserRateThrottle, "timer", lambda self: minute + 1.0)


def redis_cache(url: str) -> dict:
    return {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": url,
            "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
        }
    }


def test_scoring_goes_on_without_a_rate_limit_while_redis_is_unreachable(
    analyst_api, make_version, settings, limit_of_three, caplog
):
    make_version("reliability-rate-limit.joblib")
    settings.CACHES = redis_cache(f"redis://127.0.0.1:{closed_port()}/0")
    with caplog.at_level(logging.WARNING, logger="nplsite.throttling"):
        answers = [analyst_api.post(SCORE, VALID_APPLICANT, format="json").status_code for _ in range(5)]

    assert answers == [200] * 5  # over the limit of 3, and let through
    assert Prediction.objects.count() == 5
    warnings = [r.getMessage() for r in caplog.records if r.name == "nplsite.throttling"]
    assert len(warnings) == 1 and "cache is unreachable" in warnings[0] and "let through" in warnings[0]


@pytest.mark.skipif(not project_settings.REDIS_URL, reason="needs the real Redis (REDIS_URL), as under .ci/run")
def test_the_limit_applies_again_once_redis_answers(analyst_api, analyst, make_version, settings, limit_of_three):
    from django.core.cache import cache

    make_version("reliability-rate-limit-back.joblib")
    real = settings.CACHES
    settings.CACHES = redis_cache(f"redis://127.0.0.1:{closed_port()}/0")
    assert analyst_api.post(SCORE, VALID_APPLICANT, format="json").status_code == 200
    settings.CACHES = real
    cache.delete(throttling.UserRateThrottle.cache_format % {"scope": "user", "ident": analyst.pk})
    answers = [analyst_api.post(SCORE, VALID_APPLICANT, format="json").status_code for _ in range(4)]
    assert answers == [200, 200, 200, 429]
