"""Liveness checks for /healthz/: the whole answer comes within a second, whatever a service does.

A Redis broker is asked for PING with its own short timeouts (``HEALTH_REDIS_TIMEOUT_SECONDS`` to
connect and to read), never through kombu, whose connection retries could multiply them. A hung
Redis (accepting connections, never answering) is reported as down after one read timeout.
"""

import logging
import os

from django.conf import settings
from django.db import DatabaseError, connection

logger = logging.getLogger(__name__)
HEALTH_REDIS_TIMEOUT_SECONDS = 0.4


def check_database() -> dict:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError as exc:
        logger.warning("health: database unavailable: %s", exc.__class__.__name__)
        return {"ok": False, "error": exc.__class__.__name__}
    return {"ok": True, "vendor": connection.vendor}


def check_broker() -> dict:
    url = settings.CELERY_BROKER_URL
    try:
        if url.startswith(("redis://", "rediss://", "unix://")):
            _ping_redis(url)
            transport = "redis"
        elif url.startswith("filesystem://"):
            folder = settings.CELERY_BROKER_TRANSPORT_OPTIONS["data_folder_in"]
            if not os.access(folder, os.W_OK):
                raise FileNotFoundError(folder)
            transport = "filesystem"
        else:
            transport = _connect_kombu(url)
    except Exception as exc:  # noqa: BLE001 — any failure to reach the broker is "down"
        logger.warning("health: broker unavailable: %s", exc.__class__.__name__)
        return {"ok": False, "error": exc.__class__.__name__}
    return {"ok": True, "transport": transport}


def _ping_redis(url: str) -> None:
    import redis

    client = redis.Redis.from_url(
        url,
        socket_timeout=HEALTH_REDIS_TIMEOUT_SECONDS,
        socket_connect_timeout=HEALTH_REDIS_TIMEOUT_SECONDS,
        retry=None,
    )
    try:
        client.ping()
    finally:
        client.close()


def _connect_kombu(url: str) -> str:
    from celery import current_app as app

    with app.connection_for_write(url=url) as conn:
        conn.ensure_connection(max_retries=1, timeout=HEALTH_REDIS_TIMEOUT_SECONDS)
        return str(conn.transport_cls)
