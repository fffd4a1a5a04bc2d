"""Celery tasks: ids in, re-check the world, call a service. The beat schedule runs the sweep every minute."""

from celery import shared_task

from repayment.services.followups import followups_sweep


@shared_task(ignore_result=True)
def sweep_followups() -> dict[str, int]:
    """Claim and evaluate every due follow-up check. Idempotent, so a redelivered message is harmless."""
    return followups_sweep()
