"""Retention: when a borrower is anonymised, the free text of their promises, plans and payments goes too.
Amounts, dates and statuses stay, so recovery statistics remain true.

Every new payment also moves its case's ``last_paid_on`` forward (one conditional UPDATE), whoever
creates it: the payment service, the demo data or a test factory."""

from django.db.models import Max, OuterRef, Q, Subquery

from collections_app.models import Case
from repayment.models import Payment, PromiseToPay, RepaymentPlan


def clear_free_text(sender, *, case_ids, **kwargs) -> None:
    PromiseToPay.objects.filter(case_id__in=case_ids).update(note="")
    RepaymentPlan.objects.filter(case_id__in=case_ids).update(note="", decision_note="")
    Payment.objects.filter(case_id__in=case_ids).update(reference="")


def note_last_paid_on(sender, *, instance: Payment, created: bool, **kwargs) -> None:
    """Keep ``Case.last_paid_on`` the latest payment date of the case (payments are never deleted)."""
    if created:
        Case.objects.filter(
            Q(last_paid_on__isnull=True) | Q(last_paid_on__lt=instance.paid_on), pk=instance.case_id
        ).update(last_paid_on=instance.paid_on)


def cases_refresh_last_paid_on() -> int:
    """Recompute every paid-into case's ``last_paid_on`` in one set-based UPDATE, for payments written
    without the ORM (a bulk load); returns the cases updated."""
    latest = Payment.objects.filter(case_id=OuterRef("pk")).order_by().values("case_id").annotate(d=Max("paid_on"))
    return Case.objects.filter(pk__in=Payment.objects.values("case_id")).update(
        last_paid_on=Subquery(latest.values("d"))
    )
