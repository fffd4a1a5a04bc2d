"""Repayment reads, always scoped through ``Case.objects.visible_to(user)``."""

import functools
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Count, DecimalField, OuterRef, QuerySet, Subquery, Sum, Window
from django.db.models.functions import Coalesce
from django.shortcuts import get_object_or_404

from collections_app.models import Case, Notification, User
from collections_app.workflow import COLLECTOR, SUPERVISOR, actor_role
from repayment.discrepancies import discrepancies
from repayment.finances import capacity, case_finances, figure_rows, verified_capacity
from repayment.models import (
    MONEY,
    ZERO,
    DeclaredFigure,
    FinanceEvidence,
    FinancialDeclaration,
    Instalment,
    Payment,
    PromiseToPay,
    RepaymentPlan,
)

PANEL_ROWS = 10


def case_for_user(user: User, case_id: int) -> Case:
    cases = Case.objects.visible_to(user).select_related(
        "account__borrower", "account__branch", "team__supervisor", "assigned_collector"
    )
    return get_object_or_404(cases, pk=case_id)


def plan_for_user(user: User, plan_id: int) -> RepaymentPlan:
    plans = (
        RepaymentPlan.objects.filter(case__in=Case.objects.visible_to(user))
        .select_related(
            "case__account__borrower",
            "case__account__branch",
            "case__team__supervisor",
            "case__assigned_collector",
            "created_by",
            "decided_by",
        )
        .prefetch_related("instalments")
    )
    return get_object_or_404(plans, pk=plan_id)


def promise_for_user(user: User, promise_id: int) -> PromiseToPay:
    promises = PromiseToPay.objects.filter(case__in=Case.objects.visible_to(user)).select_related(
        "case__account", "case__team"
    )
    return get_object_or_404(promises, pk=promise_id)


def payment_for_user(user: User, payment_id: int) -> Payment:
    payments = (
        Payment.objects.filter(case__in=Case.objects.visible_to(user))
        .select_related("case__account__borrower", "case__account__branch", "recorded_by")
        .prefetch_related("allocations__promise", "allocations__instalment__plan")
    )
    return get_object_or_404(payments, pk=payment_id)


def case_panel(case: Case, user: User | None = None) -> dict:
    """Promises, plans (with their next instalment) and payments of a case, in a fixed number of queries."""
    promises = list(case.promises.order_by("-due_date", "-id")[:PANEL_ROWS])
    plans = list(_with_next_instalment(case.plans.order_by("-created_at", "-id"))[:PANEL_ROWS])
    for plan in plans:
        plan.next_instalment = (
            None
            if plan.next_id is None
            else Instalment(
                pk=plan.next_id,
                plan=plan,
                status=Instalment.Status.PENDING,
                amount=plan.next_amount,
                paid_amount=plan.next_paid,
                due_date=plan.next_due,
            )
        )
    # The case's totals ride along on the latest rows (window sums over all its payments, taken
    # before the LIMIT): one query for the list and the totals. No payments: both totals are zero.
    payments = list(
        case.payments.annotate(case_paid=Window(Sum("amount")), case_held=Window(Sum("held_amount"))).order_by(
            "-paid_on", "-id"
        )[:PANEL_ROWS]
    )
    latest = payments[0] if payments else None
    role = actor_role(case, user) if user is not None else None
    return {
        "promises": promises,
        "plans": plans,
        "payments": payments,
        "paid_total": (latest.case_paid if latest else None) or ZERO,
        "held_total": (latest.case_held if latest else None) or ZERO,
        "can_act": role in (COLLECTOR, SUPERVISOR) and case.is_open,
    }


def _with_next_instalment(plans: QuerySet[RepaymentPlan]) -> QuerySet[RepaymentPlan]:
    """Each plan with what the panel shows of its instalments, in the plans' own query: the total paid
    (``paid_total``) and its first pending instalment by sequence (``next_*``, None when none is pending)."""
    instalments = Instalment.objects.filter(plan=OuterRef("pk")).order_by()
    paid = instalments.values("plan").annotate(total=Sum("paid_amount")).values("total")
    pending = instalments.filter(status=Instalment.Status.PENDING).order_by("seq")
    return plans.annotate(
        paid_total=Coalesce(Subquery(paid), ZERO, output_field=DecimalField(**MONEY)),
        next_id=Subquery(pending.values("id")[:1]),
        next_amount=Subquery(pending.values("amount")[:1]),
        next_paid=Subquery(pending.values("paid_amount")[:1]),
        next_due=Subquery(pending.values("due_date")[:1]),
    )


@dataclass(frozen=True)
class PlanFit:
    """A plan's largest instalment beside the borrower's monthly capacity (``repayment.affordability``),
    from verified figures where they exist (``repayment.finances``), with the discrepancy flags."""

    instalment: Decimal
    capacity: Decimal | None  # None: neither a visit nor a declaration recorded an income
    figures: dict | None
    verified_capacity: Decimal | None = None  # None: no income recorded at all
    unverified: tuple = ()
    flags: tuple = ()

    @property
    def fits(self) -> bool | None:
        return None if self.capacity is None else self.instalment <= self.capacity

    @property
    def fits_verified(self) -> bool | None:
        return None if self.verified_capacity is None else self.instalment <= self.verified_capacity

    @property
    def needs_note(self) -> bool:
        return self.fits is False or self.fits_verified is False


def plan_fit(plan: RepaymentPlan, *, with_flags: bool = True) -> PlanFit:
    """``with_flags=False``: the capacities only (the approval rule does not need the flags' queries)."""
    finances = case_finances(plan.case)
    instalment = max((row.amount for row in plan.instalments.all()), default=plan.amount)
    if finances is None:
        return PlanFit(instalment, None, None)
    flags = tuple(discrepancies(plan.case, finances)) if with_flags else ()
    figures = finances.as_figures()
    unverified = tuple(finances.unverified)
    if finances.effective.income is None:
        return PlanFit(instalment, None, figures, unverified=unverified, flags=flags)
    return PlanFit(
        instalment,
        capacity(finances.effective, amount=plan.amount),
        figures,
        verified_capacity=verified_capacity(finances, amount=plan.amount),
        unverified=unverified,
        flags=flags,
    )


def promise_record(case: Case) -> dict[str, int]:
    """How the borrower kept their promises on this account: a count per status, one query."""
    rows = (
        PromiseToPay.objects.filter(case__account_id=case.account_id)
        .values_list("status")
        .annotate(n=Count("id"))
        .order_by()
    )
    counts = dict(rows)
    return {status: counts.get(status, 0) for status in PromiseToPay.Status.values}


def can_decide(plan: RepaymentPlan, user: User) -> bool:
    """The team's supervisor (or an admin) who did not propose the plan (maker-checker)."""
    return (
        plan.status == RepaymentPlan.Status.PENDING_APPROVAL
        and actor_role(plan.case, user) == SUPERVISOR
        and plan.created_by_id != user.pk
    )


def plans_awaiting_approval(user: User) -> QuerySet[RepaymentPlan]:
    return (
        RepaymentPlan.objects.filter(
            case__in=Case.objects.visible_to(user), status=RepaymentPlan.Status.PENDING_APPROVAL
        )
        .exclude(created_by=user)
        .select_related("case__account__borrower", "created_by")
        .order_by("created_at", "id")
    )


def notifications_for(user: User) -> QuerySet[Notification]:
    return Notification.objects.filter(recipient=user).select_related("case").order_by("-created_at", "-id")


def unread_count(user: User) -> int:
    return Notification.objects.filter(recipient=user, read_at__isnull=True).count()


def outstanding_obligations(case: Case) -> Decimal:
    pending_promises = case.promises.filter(status=PromiseToPay.Status.PENDING).aggregate(
        a=Sum("amount"), p=Sum("paid_amount")
    )
    instalments = Instalment.objects.filter(
        plan__case=case, plan__status=RepaymentPlan.Status.ACTIVE, status=Instalment.Status.PENDING
    ).aggregate(a=Sum("amount"), p=Sum("paid_amount"))
    return sum(((row["a"] or ZERO) - (row["p"] or ZERO) for row in (pending_promises, instalments)), ZERO)


# --- declared vs verified finances --------------------------------------------------------------


def figure_for_user(user: User, figure_id: int) -> DeclaredFigure:
    figures = DeclaredFigure.objects.filter(declaration__case__in=Case.objects.visible_to(user)).select_related(
        "declaration__case__account__borrower",
        "declaration__case__account__branch",
        "declaration__case__team__supervisor",
        "declaration__case__assigned_collector",
    )
    return get_object_or_404(figures, pk=figure_id)


def evidence_for_user(user: User, evidence_id: int) -> FinanceEvidence:
    evidence = FinanceEvidence.objects.filter(figure__declaration__case__in=Case.objects.visible_to(user))
    return get_object_or_404(evidence, pk=evidence_id)


@functools.cache
def _declarations(*, with_figures: bool) -> QuerySet[FinancialDeclaration]:
    """The declarations with their figure counts; ``with_figures``: each with its figures as one JSON column
    (the case page's panel: no query of their own). Built once a process (neither the reader nor the time
    changes it); each read filters a copy."""
    declarations = FinancialDeclaration.objects.select_related("recorded_by", "visit").annotate(
        n_figures=Count("figures")
    )
    return declarations.annotate(figure_rows=figure_rows()) if with_figures else declarations


def finances_overview(case: Case, *, with_evidence: bool = True) -> dict:
    """The finances page and panel: the figures affordability uses, which are unverified, the flags, the
    capacity from declared and from verified figures, and the earlier declarations (a fixed number of queries).
    ``with_evidence``: each figure's evidence files too (the page lists them, the panel does not)."""
    amount = case.account.overdue_amount
    declarations = _declarations(with_figures=not with_evidence).filter(case=case)
    history = list(declarations.order_by("-recorded_at", "-id")[:PANEL_ROWS])
    finances = case_finances(case, declarations=history, with_evidence=with_evidence)
    if finances is None:
        return {"finances": None, "history": history, "flags": [], "capacity": None, "verified_capacity": None}
    return {
        "finances": finances,
        "history": history,
        "flags": discrepancies(case, finances),
        "capacity": capacity(finances.effective, amount=amount),
        "verified_capacity": verified_capacity(finances, amount=amount),
    }
