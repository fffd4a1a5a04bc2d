"""Liveness checks for /healthz/: each answers within a few seconds, even when a service hangs."""

import logging

from django.db import DatabaseError, connection

logger = logging.getLogger(__name__)
BROKER_TIMEOUT_SECONDS = 3


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
    from celery import current_app as app
    from django.conf import settings

    try:
        with app.connection_for_write(url=settings.CELERY_BROKER_URL) as conn:
            conn.ensure_connection(max_retries=1, timeout=BROKER_TIMEOUT_SECONDS)
            transport = conn.transport_cls
    except Exception as exc:  # noqa: BLE001 — any failure to reach the broker is "down"
        logger.warning("health: broker unavailable: %s", exc.__class__.__name__)
        return {"ok": False, "error": exc.__class__.__name__}
    return {"ok": True, "transport": str(transport)}
