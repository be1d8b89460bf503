"""The per-user API rate limit (DRF's UserRateThrottle, nplsite.throttling), through the API.

The request times live in the project's real cache: Redis under .ci/run (a sorted set, checked and
updated by one script), the file cache otherwise (DRF's own list).
The clock is the throttle's own (``timer``), set by the tests; each user's history is emptied when
the user is made, so times left in a shared cache by an earlier run never meet this one.
"""

import threading

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.cache import cache

from nplsite.throttling import UserRateThrottle, request_times
from nplsite.tokens import issue_api_token
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


def history_key(user) -> str:
    return UserRateThrottle.cache_format % {"scope": "user", "ident": user.pk}


def token_client(client, username):
    user = make_user(username, "Analyst")
    cache.delete(history_key(user))
    token = issue_api_token(user)[1]
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
    assert refused["Retry-After"] == "60"  # the oldest of the three leaves the last minute in 60 s
    assert Prediction.objects.count() == 3  # nothing scored for the refused request


def test_users_have_limits_of_their_own(client, clock, active_version):
    ana, ben = token_client(client, "ana"), token_client(client, "ben")
    clock.at(5)
    assert [ana().status_code for _ in range(4)] == [200, 200, 200, 429]
    assert [ben().status_code for _ in range(3)] == [200, 200, 200]


def test_the_limit_counts_the_last_period_not_a_fixed_window(client, clock, active_version):
    score = token_client(client, "ana")
    clock.at(59)
    assert [score().status_code for _ in range(3)] == [200, 200, 200]
    # A fixed window would allow three more right after the minute boundary: these three still count.
    clock.at(61)
    assert score().status_code == 429
    clock.at(118.9)
    assert score().status_code == 429
    # A full period after them they are gone.
    clock.at(119)
    assert [score().status_code for _ in range(4)] == [200, 200, 200, 429]


def test_refused_requests_do_not_use_up_the_limit(client, clock, active_version):
    score = token_client(client, "ana")
    clock.at(0)
    assert [score().status_code for _ in range(3)] == [200, 200, 200]
    assert [score().status_code for _ in range(20)] == [429] * 20  # a client hammering while refused
    clock.at(PERIOD)  # had the refused ones counted, they would still fill the last minute
    assert [score().status_code for _ in range(4)] == [200, 200, 200, 429]


def test_a_rate_of_zero_closes_the_api(client, clock, monkeypatch, active_version):
    monkeypatch.setattr(UserRateThrottle, "THROTTLE_RATES", {"user": "0/minute"})
    refused = token_client(client, "ana")()
    assert refused.status_code == 429 and refused["Retry-After"] == "60"
    assert not Prediction.objects.exists()


def test_the_request_times_are_kept_in_the_shared_cache(client, clock, active_version):
    """Every process reads them there (Redis in production), not in its own memory."""
    score = token_client(client, "ana")
    clock.at(10)
    assert score().status_code == 200
    clock.at(11)
    assert score().status_code == 200
    user = get_user_model().objects.get(username="ana")
    assert request_times(history_key(user)) == [clock.start + 11.0, clock.start + 10.0]
    cache.delete(history_key(user))  # where Django's cache API finds them too
    assert request_times(history_key(user)) == []


@pytest.mark.skipif(not settings.REDIS_URL, reason="the Redis store (REDIS_URL), as under .ci/run and deployed")
def test_processes_at_the_limit_together_let_through_no_more_than_the_limit(clock, active_version):
    """The check and the record are one step in Redis: concurrent requests of one user (threads
    here, processes in production) are let through exactly up to the limit, never beyond it."""
    user = make_user("ana", "Analyst")
    cache.delete(history_key(user))
    clock.at(3)
    request = type("Request", (), {"user": user})()
    answers = []

    def one():
        answers.append(UserRateThrottle().allow_request(request, None))

    threads = [threading.Thread(target=one) for _ in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(answers) == [False] * 9 + [True] * 3
