"""Celery tasks of the importer: run one job; re-enqueue jobs left queued while the broker was down;
take back jobs whose worker stopped mid-file."""

import datetime as dt
import logging

from celery import shared_task
from django.utils import timezone

from collections_app.models import ImportJob

logger = logging.getLogger(__name__)
REQUEUE_AFTER = dt.timedelta(minutes=1)


@shared_task(acks_late=True)
def run_import(job_id: int) -> None:
    from collections_app.importer.services import import_job_run
    from collections_app.importer.signals import import_finished

    import_job_run(job_id=job_id)
    import_finished.send(sender=run_import, job_id=job_id)


def import_job_enqueue(job: ImportJob) -> bool:
    """Hand the job to the worker after commit; False when the broker cannot be reached (it stays queued)."""
    try:
        run_import.delay_on_commit(job.pk)
    except Exception as exc:  # noqa: BLE001 — any broker failure leaves the job queued for the sweep
        logger.warning("import job %s not enqueued: %s", job.pk, exc.__class__.__name__)
        return False
    return True


@shared_task
def requeue_queued_imports() -> int:
    """Beat sweep: queued jobs older than a minute are enqueued again (the run claims them only once)."""
    stale = ImportJob.objects.filter(
        status=ImportJob.Status.QUEUED, created_at__lt=timezone.now() - REQUEUE_AFTER
    ).exclude(file="")
    count = 0
    for job_id in stale.values_list("id", flat=True)[:100]:
        run_import.delay(job_id)
        count += 1
    return count
