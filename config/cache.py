"""A Redis cache that degrades to "no cache" while Redis is down or hangs (README, "Runbooks").

Every Redis call is bounded by the short socket timeouts in settings (CACHES OPTIONS). A failure is
logged once, answered as a miss (reads) or a no-op (writes), and opens a circuit: for
``RETRY_SECONDS`` this process does not try Redis at all, so a hung Redis costs one timeout per
process per interval instead of one per request. Callers already treat the cache as optional (a miss
recomputes); nothing is written anywhere else, so no node serves a value the others cannot see.
"""

import logging
import threading
import time

from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.redis import RedisCache
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)
RETRY_SECONDS = 15.0
_MISSING = object()


class DegradingRedisCache(RedisCache):
    def __init__(self, server, params):
        super().__init__(server, params)
        self._down_until = 0.0
        self._lock = threading.Lock()

    @property
    def available(self) -> bool:
        return time.monotonic() >= self._down_until

    def _call(self, name: str, fallback, *args, **kwargs):
        if not self.available:
            return fallback
        try:
            return getattr(super(), name)(*args, **kwargs)
        except RedisError as exc:
            with self._lock:
                first = self.available
                self._down_until = time.monotonic() + RETRY_SECONDS
            if first:
                logger.warning(
                    "cache: Redis unavailable (%s); serving without the cache for %.0f s",
                    exc.__class__.__name__,
                    RETRY_SECONDS,
                )
            return fallback

    def add(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        return self._call("add", False, key, value, timeout, version)

    def get(self, key, default=None, version=None):
        found = self._call("get", _MISSING, key, _MISSING, version)
        return default if found is _MISSING else found

    def set(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        self._call("set", None, key, value, timeout, version)

    def touch(self, key, timeout=DEFAULT_TIMEOUT, version=None):
        return self._call("touch", False, key, timeout, version)

    def delete(self, key, version=None):
        return self._call("delete", False, key, version)

    def get_many(self, keys, version=None):
        return self._call("get_many", {}, keys, version)

    def has_key(self, key, version=None):
        return self._call("has_key", False, key, version)

    def incr(self, key, delta=1, version=None):
        found = self._call("incr", _MISSING, key, delta, version)
        if found is _MISSING:
            raise ValueError(f"Key '{key}' not found")
        return found

    def set_many(self, data, timeout=DEFAULT_TIMEOUT, version=None):
        return self._call("set_many", list(data), data, timeout, version)

    def delete_many(self, keys, version=None):
        self._call("delete_many", None, keys, version)

    def clear(self):
        return self._call("clear", False)
