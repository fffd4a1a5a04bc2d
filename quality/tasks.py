"""Celery tasks of quality and safety. Tasks only call services; they re-read the world themselves."""

from celery import shared_task

from quality import safety


@shared_task(acks_late=True, ignore_result=True)
def sweep_safety() -> dict:
    """Every minute: alert supervisors (then managers) of collectors overdue on a visit."""
    return safety.safety_sweep()
