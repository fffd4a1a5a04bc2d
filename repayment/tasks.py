"""Celery tasks: ids in, re-check the world, call a service. The beat schedule runs the sweep every minute."""

from celery import shared_task

from repayment.services.followups import followups_sweep_all

# Under the beat's period, so one run hands over to the next instead of piling up behind it.
MAX_SECONDS = 50


@shared_task(ignore_result=True)
def sweep_followups() -> dict[str, int]:
    """Claim and evaluate every due follow-up check, a batch per transaction (``repayment.services.followups``).
    Idempotent, so a redelivered message is harmless, and overlapping sweeps share the work (``skip_locked``)."""
    return followups_sweep_all(max_seconds=MAX_SECONDS)
