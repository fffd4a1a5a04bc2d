"""Primary/replica routing (README, "Scaled-out topology").

Writes always go to the primary ("default"). Reads go to the primary too, except inside
``collections_app.db_routing.read_replica()`` (the dashboard, its exports, the screening lists), where they
go to the "replica" alias when ``DATABASE_REPLICA_URL`` configures one and the lag guard passes: the replica
answers and has replayed the primary's WAL to within ``DATABASE_REPLICA_MAX_LAG_SECONDS``. A read inside a
transaction on the primary stays there, so a view that writes (an audited export) sees its own writes.

The lag is measured on the replica at most once every ``PROBE_SECONDS`` per process, so a read-only page pays
one small query now and then, and a replica that is down costs one refused connection per period.
"""

import logging
import threading
import time

from django.conf import settings
from django.db import DatabaseError, connections

from collections_app.db_routing import replica_reads_wanted

logger = logging.getLogger(__name__)

PRIMARY = "default"
REPLICA = "replica"
PROBE_SECONDS = 2.0

# Caught up: nothing received that is not replayed yet, and the WAL receiver is streaming. Otherwise the age of
# the last replayed transaction is the lag. A server not in recovery (promoted, or a test mirror) has none.
LAG_SQL = """
SELECT CASE
    WHEN NOT pg_is_in_recovery() THEN 0
    WHEN NOT EXISTS (SELECT 1 FROM pg_stat_wal_receiver WHERE status = 'streaming') THEN NULL
    WHEN pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() THEN 0
    ELSE COALESCE(EXTRACT(EPOCH FROM now() - pg_last_xact_replay_timestamp()), 0)
END
"""


def choose_read_alias(
    *, wanted: bool, configured: bool, in_write_transaction: bool, lag: float | None, max_lag: float
) -> str:
    """The decision, as a pure function: ``lag`` is None when the replica is down or not streaming."""
    if not (wanted and configured) or in_write_transaction:
        return PRIMARY
    if lag is None or lag > max_lag:
        return PRIMARY
    return REPLICA


class LagProbe:
    """The replica's lag in seconds (None: unreachable or not streaming), cached for ``PROBE_SECONDS``."""

    def __init__(self, alias: str = REPLICA, period: float = PROBE_SECONDS):
        self.alias = alias
        self.period = period
        self._lock = threading.Lock()
        self._measured_at = -float("inf")
        self._lag: float | None = None

    def lag(self) -> float | None:
        with self._lock:
            if time.monotonic() - self._measured_at >= self.period:
                self._lag = self.measure()
                self._measured_at = time.monotonic()
            return self._lag

    def forget(self) -> None:
        with self._lock:
            self._measured_at = -float("inf")

    def connection(self):
        return connections[self.alias]

    def measure(self) -> float | None:
        connection = self.connection()
        try:
            if connection.vendor != "postgresql":
                return 0.0
            with connection.cursor() as cursor:
                cursor.execute(LAG_SQL)
                value = cursor.fetchone()[0]
        except DatabaseError:
            logger.warning("read replica unavailable; reading from the primary", exc_info=True)
            connection.close()
            return None
        return None if value is None else float(value)


probe = LagProbe()


def replica_configured() -> bool:
    return REPLICA in settings.DATABASES


class PrimaryReplicaRouter:
    def db_for_read(self, model, **hints):
        if not replica_reads_wanted() or not replica_configured():
            return PRIMARY
        in_write_transaction = connections[PRIMARY].in_atomic_block
        if in_write_transaction:
            return PRIMARY
        return choose_read_alias(
            wanted=True,
            configured=True,
            in_write_transaction=in_write_transaction,
            lag=probe.lag(),
            max_lag=float(getattr(settings, "DATABASE_REPLICA_MAX_LAG_SECONDS", 5)),
        )

    def db_for_write(self, model, **hints):
        return PRIMARY

    def allow_relation(self, obj1, obj2, **hints):
        # The replica holds the same rows as the primary, so objects read from either may be related.
        return True

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        return db == PRIMARY
