from django.db.models import QuerySet
from django.shortcuts import get_object_or_404

from collections_app.models import Case, User
from voice.models import Complaint


def complaints_for(user: User) -> QuerySet[Complaint]:
    """Complaints on the cases the user may see (the one visibility rule: ``Case.objects.visible_to``)."""
    return Complaint.objects.filter(case__in=Case.objects.visible_to(user)).select_related(
        "case__account__borrower", "owner", "collector_named"
    )


def complaint_for_user(user: User, pk: int) -> Complaint:
    return get_object_or_404(complaints_for(user), pk=pk)


def case_complaints(case: Case) -> list[Complaint]:
    return list(Complaint.objects.filter(case=case).select_related("collector_named", "owner"))
