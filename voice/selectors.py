from django.db.models import Count, Q, QuerySet
from django.shortcuts import get_object_or_404

from collections_app.models import Case, User
from repayment.models import Instalment, Payment, RepaymentPlan
from voice.models import BorrowerLink, Complaint


def complaints_for(user: User) -> QuerySet[Complaint]:
    """Complaints on the cases the user may see (the one visibility rule: ``Case.objects.visible_to``)."""
    return Complaint.objects.filter(case__in=Case.objects.visible_to(user)).select_related(
        "case__account__borrower", "owner", "collector_named"
    )


def complaint_counts(user: User, now) -> dict:
    """Open, overdue and resolved complaints the user may see, in one query."""
    overdue = Q(resolved_at=None) & (Q(resolve_due__lt=now) | Q(acknowledged_at=None, ack_due__lt=now))
    return Complaint.objects.filter(case__in=Case.objects.visible_to(user)).aggregate(
        open=Count("pk", filter=Q(resolved_at=None)),
        overdue=Count("pk", filter=overdue),
        resolved=Count("pk", filter=Q(resolved_at__isnull=False)),
    )


def complaint_for_user(user: User, pk: int) -> Complaint:
    return get_object_or_404(complaints_for(user), pk=pk)


def case_complaints(case: Case) -> list[Complaint]:
    return list(Complaint.objects.filter(case=case).select_related("collector_named", "owner"))


def borrower_page(link) -> dict:
    """What the borrower's page shows: the case's own plan, schedule and payments, nothing else (no notes,
    no other borrower, no staff names)."""
    case = link.case
    plan = (
        RepaymentPlan.objects.filter(case=case, status=RepaymentPlan.Status.ACTIVE).order_by("-pk").first()
        or RepaymentPlan.objects.filter(case=case, status=RepaymentPlan.Status.PENDING_APPROVAL).order_by("-pk").first()
    )
    instalments = list(Instalment.objects.filter(plan=plan).order_by("seq")) if plan else []
    pending = [i for i in instalments if i.status == Instalment.Status.PENDING]
    payments = list(Payment.objects.filter(case=case).order_by("-paid_on", "-pk").values("paid_on", "amount"))
    return {
        "plan": plan,
        "instalments": instalments,
        "next_due": pending[0] if pending else None,
        "payments": payments,
    }


def case_links(case: Case) -> list:
    return list(BorrowerLink.objects.filter(case=case).select_related("created_by", "revoked_by"))
