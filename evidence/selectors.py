"""Reads for the evidence pages and the pack, each scoped to what the user may see."""

from dataclasses import dataclass

from django.db.models import Prefetch, QuerySet

from collections_app.models import Case, CaseEvent, User
from evidence.models import EvidencePack
from repayment.models import Instalment, Payment, PromiseToPay, RepaymentPlan
from visits.models import ContactAttempt, Visit, VisitPhoto


def may_handle_packs(user: User) -> bool:
    """Supervisors (their teams' cases), managers and admins; never a collector."""
    return user.is_authenticated and (user.is_supervisor or user.sees_everything)


def packs_visible_to(user: User) -> QuerySet[EvidencePack]:
    if not may_handle_packs(user):
        return EvidencePack.objects.none()
    return EvidencePack.objects.filter(case__in=Case.objects.visible_to(user))


def case_packs(user: User, case: Case) -> list[EvidencePack]:
    return list(packs_visible_to(user).filter(case=case).select_related("built_by").order_by("-built_at", "-id"))


@dataclass
class PackFacts:
    case: Case
    events: list[CaseEvent]
    attempts: list[ContactAttempt]
    visits: list[Visit]
    promises: list[PromiseToPay]
    plans: list[RepaymentPlan]
    payments: list[Payment]

    @property
    def refusals(self) -> list[CaseEvent]:
        return [event for event in self.events if event.kind == CaseEvent.Kind.REFUSED]


def pack_facts(case_id: int) -> PackFacts:
    """Everything the pack prints, in a fixed number of queries whatever the case's size."""
    case = Case.objects.select_related(
        "account__borrower", "account__branch", "team__branch", "assigned_collector", "opened_by"
    ).get(pk=case_id)
    return PackFacts(
        case=case,
        events=list(CaseEvent.objects.filter(case=case).select_related("actor").order_by("chain_seq", "id")),
        attempts=list(ContactAttempt.objects.filter(case=case).select_related("actor").order_by("attempted_at", "id")),
        visits=list(
            Visit.objects.filter(case=case)
            .select_related("collector")
            .prefetch_related(Prefetch("photos", queryset=VisitPhoto.objects.order_by("id")))
            .order_by("checked_in_at", "id")
        ),
        promises=list(PromiseToPay.objects.filter(case=case).order_by("created_at", "id")),
        plans=list(
            RepaymentPlan.objects.filter(case=case)
            .prefetch_related(Prefetch("instalments", queryset=Instalment.objects.order_by("seq")))
            .order_by("created_at", "id")
        ),
        payments=list(Payment.objects.filter(case=case).order_by("paid_on", "id")),
    )
