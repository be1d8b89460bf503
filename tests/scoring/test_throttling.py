"""The per-user API rate limit (nplsite.throttling.UserRateThrottle), through the API.

The counters live in the project's real cache: Redis under .ci/run, the file cache otherwise. The
clock is the throttle's own (``timer``), set by the tests; each test starts at a window of its own,
so counters left in a shared Redis by an earlier run never meet this one.
"""

import pytest
import redis
from django.conf import settings
from rest_framework.authtoken.models import Token

from nplsite.throttling import UserRateThrottle
from scoring.models import Prediction
from tests.conftest import make_user
from tests.support import VALID_APPLICANT, unused_window_start

SCORE = "/api/v1/score"
PERIOD = 60


class Clock:
    def __init__(self):
        self.start = unused_window_start(PERIOD)
        self.now = float(self.start)

    def at(self, seconds: float) -> None:
        self.now = self.start + seconds


@pytest.fixture
def clock(monkeypatch):
    clock = Clock()
    monkeypatch.setattr(UserRateThrottle, "timer", lambda self: clock.now)
    monkeypatch.setattr(UserRateThrottle, "THROTTLE_RATES", {"user": "3/minute"})  # API_THROTTLE_RATE
    return clock


def token_client(client, username):
    token = Token.objects.create(user=make_user(username, "Analyst")).key
    return lambda: client.post(
        SCORE, VALID_APPLICANT, content_type="application/json", HTTP_AUTHORIZATION=f"Token {token}"
    )


def test_the_request_over_the_limit_is_429_with_retry_after(client, clock, active_version):
    score = token_client(client, "ana")
    clock.at(10)
    assert [score().status_code for _ in range(3)] == [200, 200, 200]
    refused = score()
    assert refused.status_code == 429
    assert "throttled" in refused.json()["detail"].lower()
    # Next minute, the estimate is 3 × (1 − share) + 1: at most 3 from a third of the way in,
    # 20 s after it starts, which is 70 s from now.
    assert refused["Retry-After"] == "70"
    assert Prediction.objects.count() == 3  # nothing scored for the refused request


def test_users_have_limits_of_their_own(client, clock, active_version):
    ana, ben = token_client(client, "ana"), token_client(client, "ben")
    clock.at(5)
    assert [ana().status_code for _ in range(4)] == [200, 200, 200, 429]
    assert [ben().status_code for _ in range(3)] == [200, 200, 200]


def test_the_window_slides_instead_of_resetting(client, clock, active_version):
    score = token_client(client, "ana")
    clock.at(59)
    assert [score().status_code for _ in range(3)] == [200, 200, 200]
    # A plain fixed window would allow three more right after the boundary: here the previous
    # minute still counts 3 × (1 − 1/60) ≈ 2.95, so none fits yet.
    clock.at(61)
    assert score().status_code == 429
    # Halfway through, the previous minute weighs 1.5: one request fits (1.5 + 1 ≤ 3), a second does not.
    clock.at(90)
    assert [score().status_code for _ in range(2)] == [200, 429]
    # Two minutes later the old requests are gone altogether.
    clock.at(180)
    assert [score().status_code for _ in range(4)] == [200, 200, 200, 429]


def test_refused_requests_do_not_use_up_the_limit(client, clock, active_version):
    score = token_client(client, "ana")
    clock.at(0)
    assert [score().status_code for _ in range(3)] == [200, 200, 200]
    assert [score().status_code for _ in range(20)] == [429] * 20  # a client hammering while refused
    # Next minute at 21 s the estimate is 3 × 39/60 + 1 < 3: one request fits, as if the 20 refused
    # ones had never come (had they counted, the estimate would be 23 × 39/60 + 1 ≈ 16).
    clock.at(PERIOD + 21)
    assert [score().status_code for _ in range(2)] == [200, 429]


def test_a_rate_of_zero_closes_the_api(client, clock, monkeypatch, active_version):
    monkeypatch.setattr(UserRateThrottle, "THROTTLE_RATES", {"user": "0/minute"})
    refused = token_client(client, "ana")()
    assert refused.status_code == 429 and refused["Retry-After"] == "60"
    assert not Prediction.objects.exists()


@pytest.mark.skipif(not settings.REDIS_URL, reason="needs the real Redis (REDIS_URL), as under .ci/run")
def test_redis_counters_expire_after_their_window(client, clock, active_version):
    score = token_client(client, "ana")
    clock.at(10)
    assert score().status_code == 200
    user_id = Token.objects.get(user__username="ana").user_id
    key = f"npl:throttle_user_{user_id}:{int(clock.now // PERIOD)}"
    connection = redis.Redis.from_url(settings.REDIS_URL)
    assert int(connection.get(key)) == 1
    assert 2 * PERIOD < connection.ttl(key) <= 2 * PERIOD + 60  # outlives the next window, then goes
