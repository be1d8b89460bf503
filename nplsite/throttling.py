"""The per-user rate limit of the REST API (``API_THROTTLE_RATE``, e.g. ``6000/minute``).

DRF's own ``UserRateThrottle`` keeps, per user, the list of every request time in the last period
and reads, rewrites and re-pickles that whole list on every request: at 6,000 requests a minute
that is a list of up to 6,000 floats (about 54 kB) sent to and from the cache twice per request,
and the cost grows with the limit. :class:`UserRateThrottle` here keeps two small counters instead,
the *sliding window counter* many API gateways use:

- one counter per user per fixed window of one period, incremented atomically, and kept for two
  periods so that it cannot expire while its window is still current;
- the request is allowed when ``previous window's count × (share of the period not yet elapsed)
  + this window's count`` is at most the limit: the count of the last full period, assuming the
  previous window's requests were spread evenly. Unlike a plain fixed window this never lets a
  client send twice the limit across a window boundary.

A refused request is taken back out of the counter, so a client that keeps calling while refused
is let in again as soon as its rate drops, as with DRF's throttle. The 429 answer carries
``Retry-After``: the seconds until the estimate is under the limit again. Users are identified as
in DRF (user id; the client address for anonymous requests, which never get this far here since
every endpoint needs authentication).

**Where the counters live.** With ``REDIS_URL`` set (production), in Redis, keys
``npl:throttle_user_<id>:<window number>``: creating, incrementing and reading the previous
window is one pipelined round trip (``SET NX EX``, ``INCRBY``, ``GET``). Without it, in Django's
cache (the file cache in the data folder; increments are not atomic across processes there,
which is fine for one developer). **If Redis cannot be reached** the request is let through and a
warning is logged (at most once a minute per process), and for the next
:data:`REDIS_RETRY_AFTER_SECONDS` the process lets requests through without asking Redis (a
Redis host that drops packets would otherwise cost every request the connect timeout): the rate
limit protects the service, and Redis being down must not take scoring down with it. A rate of
``0/…`` refuses every request (429), a way to close the API without a deployment.
"""

from __future__ import annotations

import functools
import logging
import math
import time

import redis
from django.conf import settings
from django.core.cache import DEFAULT_CACHE_ALIAS, caches
from rest_framework import throttling

logger = logging.getLogger(__name__)

REDIS_KEY_PREFIX = "npl:"
REDIS_TIMEOUT_SECONDS = 0.5
# After Redis failed to answer, requests are let through without asking it for this long: a Redis
# host that drops packets would otherwise cost every request the whole timeout.
REDIS_RETRY_AFTER_SECONDS = 5.0
WARNING_INTERVAL_SECONDS = 60.0
_last_warning = float("-inf")
_redis_unavailable_until = float("-inf")


@functools.cache
def _redis_client(url: str) -> redis.Redis:
    """One client (and connection pool) per process and URL."""
    return redis.Redis.from_url(url, socket_connect_timeout=REDIS_TIMEOUT_SECONDS, socket_timeout=REDIS_TIMEOUT_SECONDS)


class RedisCounters:
    def __init__(self, url: str):
        self.client = _redis_client(url)

    def add_and_read(self, key: str, previous_key: str, delta: int, lifetime: int) -> tuple[int, int]:
        """Add ``delta`` to ``key`` (created at 0 with ``lifetime``); (its new value, ``previous_key``'s)."""
        pipeline = self.client.pipeline(transaction=False)
        pipeline.set(REDIS_KEY_PREFIX + key, 0, ex=lifetime, nx=True)
        pipeline.incrby(REDIS_KEY_PREFIX + key, delta)
        pipeline.get(REDIS_KEY_PREFIX + previous_key)
        _, value, previous = pipeline.execute()
        return int(value), int(previous or 0)

    def add(self, key: str, delta: int, lifetime: int) -> None:
        self.client.incrby(REDIS_KEY_PREFIX + key, delta)


class CacheCounters:
    """Django's cache: get + set with the lifetime given each time (its ``incr`` would reset it)."""

    def __init__(self):
        self.cache = caches[DEFAULT_CACHE_ALIAS]

    def add_and_read(self, key: str, previous_key: str, delta: int, lifetime: int) -> tuple[int, int]:
        values = self.cache.get_many([key, previous_key])
        value = max(values.get(key, 0) + delta, 0)
        self.cache.set(key, value, timeout=lifetime)
        return value, values.get(previous_key, 0)

    def add(self, key: str, delta: int, lifetime: int) -> None:
        self.add_and_read(key, key, delta, lifetime)


def counters() -> RedisCounters | CacheCounters:
    return RedisCounters(settings.REDIS_URL) if settings.REDIS_URL else CacheCounters()


class UserRateThrottle(throttling.UserRateThrottle):
    def allow_request(self, request, view) -> bool:
        self.wait_seconds = None
        if self.rate is None:
            return True
        base = self.get_cache_key(request, view)
        if base is None:
            return True
        if self.num_requests <= 0:  # "0/minute": the API is closed to everyone
            self.wait_seconds = float(self.duration)
            return False
        now = self.timer()
        window = math.floor(now / self.duration)
        elapsed_share = (now - window * self.duration) / self.duration
        current_key, previous_key = f"{base}:{window}", f"{base}:{window - 1}"
        # Two periods, and a minute for servers whose clocks disagree: a counter outlives its window.
        lifetime = 2 * self.duration + 60
        if settings.REDIS_URL and time.monotonic() < _redis_unavailable_until:
            return True
        store = counters()
        try:
            current, previous = store.add_and_read(current_key, previous_key, 1, lifetime)
            if previous * (1.0 - elapsed_share) + current <= self.num_requests:
                return True
            store.add(current_key, -1, lifetime)
        except redis.RedisError as exc:
            _redis_unavailable(exc)
            return True
        self.wait_seconds = self._seconds_until_allowed(previous, current - 1, elapsed_share)
        return False

    def wait(self) -> float | None:
        return self.wait_seconds

    def _seconds_until_allowed(self, previous: int, current: int, elapsed_share: float) -> float:
        """Seconds until one more request fits, if no other request comes meanwhile.

        Within this window one more fits once ``previous × (1 − share) + current + 1 ≤ limit``;
        when this window alone is full, in the next one, where ``current`` is the previous count.
        """
        room = self.num_requests - current - 1
        if room >= 0:
            if previous <= 0:
                return 0.0
            return max(0.0, 1.0 - room / previous - elapsed_share) * self.duration
        share_next_window = max(0.0, 1.0 - (self.num_requests - 1) / current)
        return (1.0 - elapsed_share + share_next_window) * self.duration


def _redis_unavailable(exc: Exception) -> None:
    global _last_warning, _redis_unavailable_until
    now = time.monotonic()
    _redis_unavailable_until = now + REDIS_RETRY_AFTER_SECONDS
    if now - _last_warning >= WARNING_INTERVAL_SECONDS:
        _last_warning = now
        logger.warning("API rate limit not applied: Redis is unreachable (%s); requests are let through.", exc)
