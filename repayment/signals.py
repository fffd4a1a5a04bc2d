"""Retention: when a borrower is anonymised, the free text of their promises, plans and payments goes too.
Amounts, dates and statuses stay, so recovery statistics remain true."""

from repayment.models import Payment, PromiseToPay, RepaymentPlan


def clear_free_text(sender, *, case_ids, **kwargs) -> None:
    PromiseToPay.objects.filter(case_id__in=case_ids).update(note="")
    RepaymentPlan.objects.filter(case_id__in=case_ids).update(note="", decision_note="")
    Payment.objects.filter(case_id__in=case_ids).update(reference="")
