"""The per-user rate limit of the REST API: DRF's ``UserRateThrottle`` at ``API_THROTTLE_RATE``.

DRF keeps each user's recent request times in Django's cache (``settings.CACHES``: Redis when
``REDIS_URL`` is set, so every process shares them; the file cache in the data folder otherwise)
and answers a request over the rate with 429 and ``Retry-After``.

One addition: when the cache cannot be reached, the request is let through and a warning logged
(at most once a minute per process). The limit protects the service; Redis being down must not
take scoring down with it.
"""

from __future__ import annotations

import logging
import time

import redis
from rest_framework import throttling

logger = logging.getLogger(__name__)

WARNING_INTERVAL_SECONDS = 60.0
_last_warning = float("-inf")


class UserRateThrottle(throttling.UserRateThrottle):
    def allow_request(self, request, view) -> bool:
        try:
            return super().allow_request(request, view)
        except (redis.RedisError, OSError) as exc:
            _warn_once_a_minute(exc)
            return True


def _warn_once_a_minute(exc: Exception) -> None:
    global _last_warning
    now = time.monotonic()
    if now - _last_warning >= WARNING_INTERVAL_SECONDS:
        _last_warning = now
        logger.warning("API rate limit not applied: its cache is unreachable (%s); requests are let through.", exc)
