"""The per-user rate limit of the REST API (``API_THROTTLE_RATE``, e.g. ``6000/minute``).

DRF's own ``UserRateThrottle`` keeps, per user, the list of every request time in the last period
and reads, rewrites and re-pickles that whole list on every request: at 6,000 requests a minute
that is a list of up to 6,000 floats (about 54 kB) sent to and from the cache twice per request,
and the cost grows with the limit. :class:`UserRateThrottle` here keeps two small counters instead,
the *sliding window counter* many API gateways use:

- one counter per user per fixed window of one period (key ``throttle_user_<id>:<window number>``),
  incremented atomically in the shared cache (Redis ``INCR`` in production), and kept for two
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
"""

from __future__ import annotations

import math

from django.core.cache import DEFAULT_CACHE_ALIAS, caches
from django.core.cache.backends.redis import RedisCache
from rest_framework import throttling


class UserRateThrottle(throttling.UserRateThrottle):
    @property
    def cache(self):
        return caches[DEFAULT_CACHE_ALIAS]  # the backend itself (this thread's), not Django's proxy

    def allow_request(self, request, view) -> bool:
        if self.rate is None:
            return True
        base = self.get_cache_key(request, view)
        if base is None:
            return True
        now = self.timer()
        window = math.floor(now / self.duration)
        elapsed_share = (now - window * self.duration) / self.duration
        current_key, previous_key = f"{base}:{window}", f"{base}:{window - 1}"
        current = self._increment(current_key)
        previous = self.cache.get(previous_key, 0)
        if previous * (1.0 - elapsed_share) + current <= self.num_requests:
            self.wait_seconds = None
            return True
        self._decrement(current_key)
        self.wait_seconds = self._seconds_until_allowed(previous, current - 1, elapsed_share)
        return False

    def wait(self) -> float | None:
        return getattr(self, "wait_seconds", None)

    def _increment(self, key: str) -> int:
        return self._add_to(key, 1)

    def _decrement(self, key: str) -> None:
        self._add_to(key, -1)

    def _add_to(self, key: str, delta: int) -> int:
        """Add ``delta`` to a window's counter (created at 0 and kept for two periods); its new value.

        Redis (production) adds atomically and keeps the key's lifetime, which is longer than its
        window, so it never recreates an expired key without one. Django's file and database caches
        (the development default) add by get + set, which would also reset the lifetime to the
        cache's default: there the lifetime is set again explicitly.
        """
        lifetime = 2 * self.duration
        if isinstance(self.cache, RedisCache):
            try:
                return self.cache.incr(key, delta)
            except ValueError:  # the window's first request (or the key was evicted)
                self.cache.add(key, 0, timeout=lifetime)
                return self.cache.incr(key, delta)
        value = max(self.cache.get(key, 0) + delta, 0)
        self.cache.set(key, value, timeout=lifetime)
        return value

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
