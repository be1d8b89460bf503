"""The per-user rate limit of the REST API: DRF's ``UserRateThrottle`` at ``API_THROTTLE_RATE``.

A user may make ``API_THROTTLE_RATE`` requests (e.g. ``1000/minute``) in any period of that length
(a sliding window: the times of the requests let through in the last period are kept); a request
over it answers 429 with ``Retry-After``, and a refused request does not count.

**Where the request times are kept.** In the default cache (``settings.CACHES``), shared by every
process:

- **Redis** (``REDIS_URL``, as deployed): a sorted set of the times under the key DRF would use
  (``cache.make_key`` of ``throttle_user_<id>``), checked and updated in one round trip by a small
  Lua script (redis-py's ``register_script``): drop the times older than the period, count the
  rest, and record this request's time only when it is let through. DRF's own throttle reads the
  whole list of times from the cache and writes it back (two round trips, and the list pickled
  both ways: up to 1,000 times at the default rate) — a tenth of a scoring request's time. The
  script runs atomically in Redis, so two processes can no longer both let through the request
  that reaches the limit, as DRF's read-then-write allowed.
- **another cache** (the file cache of the embedded setup): DRF's own throttle, unchanged.

When the cache cannot be reached, the request is let through and a warning logged (at most once a
minute per process). The limit protects the service; Redis being down must not take scoring down
with it.
"""

from __future__ import annotations

import logging
import secrets
import threading
import time

import redis
from django.conf import settings
from rest_framework import throttling

logger = logging.getLogger(__name__)

WARNING_INTERVAL_SECONDS = 60.0
_last_warning = float("-inf")
REDIS_CACHE_BACKEND = "django.core.cache.backends.redis.RedisCache"
# The cache's connection options the throttle's own client takes too (bounded waits when Redis is away).
CLIENT_OPTIONS = ("socket_connect_timeout", "socket_timeout")

# KEYS[1]: the user's key. ARGV: now, period (s), limit, this request's member, expiry (ms).
# Returns {1, count} when let through (count: the times in the period before this one), or
# {0, count, oldest} when refused (oldest: the earliest time still in the period, as text).
RECORD_IF_ALLOWED = """
local now = tonumber(ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - tonumber(ARGV[2]))
local count = redis.call('ZCARD', KEYS[1])
if count >= tonumber(ARGV[3]) then
  local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
  return {0, count, oldest[2] or ''}
end
redis.call('ZADD', KEYS[1], ARGV[1], ARGV[4])
redis.call('PEXPIRE', KEYS[1], ARGV[5])
return {1, count}
"""


class UserRateThrottle(throttling.UserRateThrottle):
    def allow_request(self, request, view) -> bool:
        try:
            store = _redis_store()
            if store is None:
                return super().allow_request(request, view)
            return self._allow_in_redis(store[1], request, view)
        except (redis.RedisError, OSError) as exc:
            _warn_once_a_minute(exc)
            return True

    def _allow_in_redis(self, record_if_allowed, request, view) -> bool:
        if self.rate is None:
            return True
        self.key = self.get_cache_key(request, view)
        if self.key is None:
            return True
        self.now = self.timer()
        member = f"{self.now!r}:{secrets.token_hex(4)}"  # two requests at the same instant are two entries
        answer = record_if_allowed(
            keys=[self.cache.make_key(self.key)],
            args=[repr(self.now), self.duration, self.num_requests, member, int(self.duration * 1000)],
        )
        self._counted = int(answer[1])
        if answer[0]:
            return True
        self._oldest = float(answer[2]) if answer[2] not in (b"", "") else None
        return self.throttle_failure()

    def wait(self) -> float | None:
        """DRF's wait (the period left for the oldest time, shared by the requests still allowed),
        from what the script answered when the times are in Redis."""
        if not hasattr(self, "_counted"):
            return super().wait()
        remaining = self.duration - (self.now - self._oldest) if self._oldest is not None else self.duration
        available = self.num_requests - self._counted + 1
        if available <= 0:
            return None
        return remaining / float(available)


def request_times(key: str) -> list[float]:
    """The times kept for a throttle key (``cache_format`` filled in), newest first, wherever they are."""
    store = _redis_store()
    if store is None:
        return list(UserRateThrottle.cache.get(key, []))
    stored = store[0].zrevrange(UserRateThrottle.cache.make_key(key), 0, -1, withscores=True)
    return [score for _, score in stored]


# ---------------------------------------------------------------------------------------------
# One Redis client per process and cache configuration
# ---------------------------------------------------------------------------------------------

_clients: dict[tuple, tuple[redis.Redis, object]] = {}
_clients_lock = threading.Lock()


def _redis_store() -> tuple[redis.Redis, object] | None:
    """A client of the default cache's Redis (its first server: where Django's cache writes) and the
    script registered with it, or ``None`` when the default cache is not Redis. One per process and
    configuration (the tests change the settings)."""
    config = settings.CACHES["default"]
    if config.get("BACKEND") != REDIS_CACHE_BACKEND:
        return None
    location = config["LOCATION"]
    if isinstance(location, str):
        location = location.split(",")
    options = config.get("OPTIONS") or {}
    key = (location[0].strip(), *((name, options.get(name)) for name in CLIENT_OPTIONS))
    known = _clients.get(key)
    if known is None:
        with _clients_lock:
            known = _clients.get(key)
            if known is None:
                client = redis.Redis.from_url(
                    key[0], **{name: options[name] for name in CLIENT_OPTIONS if name in options}
                )
                known = _clients[key] = (client, client.register_script(RECORD_IF_ALLOWED))
    return known


def _warn_once_a_minute(exc: Exception) -> None:
    global _last_warning
    now = time.monotonic()
    if now - _last_warning >= WARNING_INTERVAL_SECONDS:
        _last_warning = now
        logger.warning("API rate limit not applied: its cache is unreachable (%s); requests are let through.", exc)
