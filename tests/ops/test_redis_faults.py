"""A Redis that hangs (accepts connections, never answers) costs one short timeout, never a stuck worker."""

import socket
import threading

import pytest
from django.conf import settings
from django.core.cache import caches
from redis.exceptions import TimeoutError as RedisTimeoutError

from collections_app import health
from config.cache import DegradingRedisCache

pytestmark = pytest.mark.django_db


class HungRedis:
    """A socket server that accepts every connection and never sends a byte (a SIGSTOPped Redis)."""

    def __init__(self):
        self.server = socket.create_server(("127.0.0.1", 0))
        self.port = self.server.getsockname()[1]
        self.accepted = []
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def _serve(self):
        while True:
            try:
                conn, _ = self.server.accept()
            except OSError:
                return
            self.accepted.append(conn)

    def close(self):
        self.server.close()
        for conn in self.accepted:
            conn.close()


@pytest.fixture
def hung_redis():
    server = HungRedis()
    yield server
    server.close()


def test_every_redis_client_has_timeouts_of_a_second_or_less():
    assert settings.REDIS_SOCKET_TIMEOUT <= 1
    assert settings.CELERY_BROKER_CONNECTION_TIMEOUT <= 1
    assert settings.CELERY_REDIS_SOCKET_TIMEOUT <= 1 and settings.CELERY_REDIS_SOCKET_CONNECT_TIMEOUT <= 1
    assert health.HEALTH_REDIS_TIMEOUT_SECONDS < 1


def test_with_redis_configured_the_broker_and_cache_get_the_short_timeouts(monkeypatch):
    from importlib import reload

    import config.settings as settings_module

    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:6379/3")
    try:
        reloaded = reload(settings_module)
        options = reloaded.CELERY_BROKER_TRANSPORT_OPTIONS
        assert options["socket_timeout"] <= 1 and options["socket_connect_timeout"] <= 1
        dashboard = reloaded.CACHES["dashboard"]
        assert dashboard["BACKEND"] == "config.cache.DegradingRedisCache"
        assert dashboard["OPTIONS"]["socket_timeout"] <= 1 and dashboard["OPTIONS"]["socket_connect_timeout"] <= 1
    finally:
        monkeypatch.delenv("REDIS_URL")
        reload(settings_module)


def test_healthz_reports_a_hung_broker_as_down_instead_of_waiting(client, settings, hung_redis):
    settings.CELERY_BROKER_URL = hung_redis.url
    response = client.get("/healthz/")
    assert response.status_code == 503
    body = response.json()
    assert body["checks"]["broker"] == {"ok": False, "error": "TimeoutError"}
    assert body["checks"]["database"]["ok"] is True
    assert len(hung_redis.accepted) == 1, "one connection, no retry behind the timeout"


def _hung_cache(url: str, timeout: float = 0.2) -> DegradingRedisCache:
    return DegradingRedisCache(url, {"OPTIONS": {"socket_timeout": timeout, "socket_connect_timeout": timeout}})


def test_the_cache_answers_a_miss_when_redis_hangs_and_then_stops_asking(hung_redis, caplog):
    cache = _hung_cache(hung_redis.url)
    assert cache.get("roll", "computed") == "computed"
    assert not cache.available
    # While the circuit is open nothing waits on Redis: no new connection, writes are no-ops.
    assert cache.get_many(["a", "b"]) == {}
    cache.set("roll", 1)
    assert cache.add("roll", 1) is False
    assert cache.has_key("roll") is False
    assert len(hung_redis.accepted) == 1
    assert "Redis unavailable (TimeoutError)" in caplog.text


def test_the_plain_redis_cache_would_have_raised(hung_redis):
    # The hazard the subclass removes: Django's RedisCache lets the timeout through to the page.
    from django.core.cache.backends.redis import RedisCache

    plain = RedisCache(hung_redis.url, {"OPTIONS": {"socket_timeout": 0.2, "socket_connect_timeout": 0.2}})
    with pytest.raises(RedisTimeoutError):
        plain.get("roll")


def test_the_cache_tries_redis_again_after_the_retry_interval(hung_redis, monkeypatch):
    from config import cache as cache_module

    cache = _hung_cache(hung_redis.url)
    cache.get("roll")
    monkeypatch.setattr(cache_module.time, "monotonic", lambda: cache._down_until + 1)
    assert cache.available
    cache.get("roll")
    assert len(hung_redis.accepted) >= 2


@pytest.mark.redis
def test_the_cache_works_against_a_real_redis(redis_url):
    cache = _hung_cache(redis_url, timeout=1)
    cache.set("doorstep-test-key", {"x": 1}, 30)
    assert cache.get("doorstep-test-key") == {"x": 1}
    assert cache.available
    cache.delete("doorstep-test-key")


def test_the_dashboard_cache_alias_is_usable_without_redis():
    caches["dashboard"].set("doorstep-test-key", 1, 5)
    assert caches["dashboard"].get("doorstep-test-key") == 1
