"""``/metrics`` for Prometheus, answered only to the addresses in ``METRICS_ALLOWED_IPS``.

Request counters and histograms (config.observability) are summed over every gunicorn worker
(multiprocess mode, ``PROMETHEUS_MULTIPROC_DIR``). The operational gauges are read when scraped:
Celery queue depth, follow-up sweep lag, imports by status with their progress and heartbeat age,
and database connections in use (PostgreSQL). The README's runbooks name which one shows what.
"""

import logging
import os
from pathlib import Path

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.db import connection
from django.db.models import Count
from django.http import Http404, HttpResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily

logger = logging.getLogger(__name__)
QUEUE_TIMEOUT_SECONDS = 0.4


def celery_queue_depth(queue: str = "celery") -> int:
    url = settings.CELERY_BROKER_URL
    if url.startswith("filesystem://"):
        folder = Path(settings.CELERY_BROKER_TRANSPORT_OPTIONS["data_folder_in"])
        return sum(1 for entry in folder.iterdir() if entry.name.endswith(".msg")) if folder.is_dir() else 0
    import redis

    client = redis.Redis.from_url(
        url, socket_timeout=QUEUE_TIMEOUT_SECONDS, socket_connect_timeout=QUEUE_TIMEOUT_SECONDS
    )
    try:
        return int(client.llen(queue))
    finally:
        client.close()


def sweep_lag_seconds() -> tuple[float, int]:
    """Age of the oldest follow-up check that is due and still pending, and how many are."""
    from django.db.models import Min

    from repayment.models import FollowUpCheck

    now = timezone.now()
    found = FollowUpCheck.objects.filter(status=FollowUpCheck.Status.PENDING, due_at__lte=now).aggregate(
        oldest=Min("due_at"), due=Count("id")
    )
    lag = (now - found["oldest"]).total_seconds() if found["oldest"] else 0.0
    return max(lag, 0.0), found["due"]


class OperationsCollector:
    def collect(self):
        yield from self._safely("queue", self._queue)
        yield from self._safely("sweep", self._sweep)
        yield from self._safely("imports", self._imports)
        yield from self._safely("database", self._database)

    def _safely(self, name, produce):
        try:
            yield from produce()
        except Exception as exc:  # noqa: BLE001 — one unreadable source must not hide the others
            logger.warning("metrics: %s unavailable: %s", name, exc.__class__.__name__)
            failed = GaugeMetricFamily(
                "doorstep_metrics_source_up", "1 when the source could be read.", labels=["source"]
            )
            failed.add_metric([name], 0)
            yield failed

    def _queue(self):
        gauge = GaugeMetricFamily("doorstep_celery_queue_depth", "Tasks waiting in the broker queue.", labels=["queue"])
        gauge.add_metric(["celery"], celery_queue_depth())
        yield gauge

    def _sweep(self):
        lag, due = sweep_lag_seconds()
        yield GaugeMetricFamily(
            "doorstep_followup_sweep_lag_seconds", "Age of the oldest due follow-up check still pending.", value=lag
        )
        yield GaugeMetricFamily("doorstep_followup_checks_due", "Follow-up checks due and still pending.", value=due)

    def _imports(self):
        from collections_app.models import ImportJob

        by_status = GaugeMetricFamily("doorstep_imports", "Import jobs by status.", labels=["status"])
        counts = dict.fromkeys(ImportJob.Status.values, 0)
        counts.update(ImportJob.objects.values_list("status").annotate(n=Count("id")).order_by())
        for status, count in counts.items():
            by_status.add_metric([status], count)
        yield by_status
        progress = GaugeMetricFamily(
            "doorstep_import_progress_ratio", "Rows processed / rows, running jobs.", labels=["job"]
        )
        heartbeat = GaugeMetricFamily(
            "doorstep_import_heartbeat_age_seconds",
            "Seconds since a running job last reported progress.",
            labels=["job"],
        )
        now = timezone.now()
        running = ImportJob.objects.filter(status=ImportJob.Status.RUNNING).values_list(
            "id", "processed_rows", "total_rows", "progress_at", "started_at"
        )
        for job_id, processed, total, progress_at, started_at in running:
            progress.add_metric([str(job_id)], processed / total if total else 0.0)
            last = progress_at or started_at
            heartbeat.add_metric([str(job_id)], (now - last).total_seconds() if last else 0.0)
        yield progress
        yield heartbeat

    def _database(self):
        if connection.vendor != "postgresql":
            return
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*), current_setting('max_connections')::int FROM pg_stat_activity "
                "WHERE datname = current_database()"
            )
            in_use, limit = cursor.fetchone()
        yield GaugeMetricFamily("doorstep_db_connections", "Connections open to this database.", value=in_use)
        yield GaugeMetricFamily("doorstep_db_max_connections", "The server's max_connections.", value=limit)


def _exposition() -> bytes:
    operations = CollectorRegistry()
    operations.register(OperationsCollector())
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        requests = CollectorRegistry()
        multiprocess.MultiProcessCollector(requests)
    else:
        requests = REGISTRY
    return generate_latest(requests) + generate_latest(operations)


@login_not_required
@never_cache
@require_GET
def metrics(request):
    if request.META.get("REMOTE_ADDR") not in settings.METRICS_ALLOWED_IPS:
        raise Http404
    return HttpResponse(_exposition(), content_type=CONTENT_TYPE_LATEST)
