from celery import shared_task

from voice.services import complaints_escalate_overdue


@shared_task(ignore_result=True, acks_late=True)
def escalate_overdue_complaints() -> int:
    return complaints_escalate_overdue()
