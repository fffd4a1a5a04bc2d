"""Celery tasks of the risk app: ids in, services do the work."""

import datetime as dt
import logging

from celery import shared_task
from django.utils import timezone

logger = logging.getLogger(__name__)


@shared_task(acks_late=True)
def run_statement_import(job_id: int) -> None:
    from risk.statements import statement_import_run

    statement_import_run(job_id=job_id)


def statement_import_enqueue(job_id: int) -> bool:
    """Hand the job to the worker after commit; False when the broker cannot be reached (it stays queued)."""
    try:
        run_statement_import.delay_on_commit(job_id)
    except Exception as exc:  # noqa: BLE001 — any broker failure leaves the job queued
        logger.warning("statement import %s not enqueued: %s", job_id, exc.__class__.__name__)
        return False
    return True


@shared_task
def requeue_queued_statement_imports() -> int:
    """Beat sweep: uploads left queued for over a minute (broker down at upload) are enqueued again;
    the run claims a job only once, so a duplicate message does nothing."""
    from risk.models import StatementImport

    stale = StatementImport.objects.filter(
        status=StatementImport.Status.QUEUED, created_at__lt=timezone.now() - dt.timedelta(minutes=1)
    ).exclude(file="")
    ids = list(stale.values_list("id", flat=True)[:100])
    for job_id in ids:
        run_statement_import.delay(job_id)
    return len(ids)


@shared_task(acks_late=True)
def score_accounts() -> int:
    """Nightly: score every account with statements using the model in use (no model: nothing to do)."""
    from risk.scoring import risk_score_all

    return risk_score_all()
