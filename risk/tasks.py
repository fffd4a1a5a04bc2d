"""Celery tasks of the risk app: ids in, services do the work."""

import logging

from celery import shared_task

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


@shared_task(acks_late=True)
def score_accounts() -> int:
    """Nightly: score every account with statements using the model in use (no model: nothing to do)."""
    from risk.scoring import risk_score_all

    return risk_score_all()
