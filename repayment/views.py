"""Negotiation, plans, payments, printable documents and notifications. Thin: access → form → service."""

import datetime as dt

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from collections_app.exceptions import DoorstepError
from collections_app.models import Notification
from collections_app.workflow import COLLECTOR, SUPERVISOR, actor_role
from repayment import selectors, services
from repayment.affordability import suggest_plan
from repayment.discrepancies import discrepancies
from repayment.finances import case_finances
from repayment.forms import DecisionForm, PaymentForm, PlanForm, PromiseForm
from repayment.models import RepaymentPlan


def _require_field(case, user) -> None:
    """Reading is for whoever sees the case; negotiating and recording payments for its collector or supervisor."""
    if actor_role(case, user) not in (COLLECTOR, SUPERVISOR):
        raise PermissionDenied


def _suggestion(case):
    finances = case_finances(case)
    if finances is None:
        return None, None
    figures = finances.as_figures()
    figures["flags"] = discrepancies(case, finances)
    suggestion = suggest_plan(
        income=figures.get("monthly_income"),
        expenses=figures.get("monthly_expenses"),
        other_debt_payments=figures.get("other_debt_payments"),
        amount=case.account.overdue_amount,
    )
    return suggestion, figures


def _first_due_default() -> dt.date:
    return timezone.localdate() + dt.timedelta(days=30)


@require_http_methods(["GET", "POST"])
def case_negotiate(request, case_id: int):
    case = selectors.case_for_user(request.user, case_id)
    _require_field(case, request.user)
    suggestion, figures = _suggestion(case)
    action = request.POST.get("action") if request.method == "POST" else None
    plan_form = PlanForm(
        request.POST if action == "plan" else None,
        prefix="plan",
        initial={
            "kind": RepaymentPlan.Kind.INSTALMENTS,
            "base_amount": case.account.overdue_amount,
            "instalment_count": (suggestion.term_months if suggestion and suggestion.term_months else 3),
            "deferral_months": (suggestion.deferral_months if suggestion else 0),
            "first_due_date": _first_due_default(),
        },
    )
    promise_form = PromiseForm(
        request.POST if action == "promise" else None,
        prefix="promise",
        initial={"amount": case.account.overdue_amount, "due_date": timezone.localdate() + dt.timedelta(days=7)},
    )
    if action == "plan" and plan_form.is_valid():
        data = plan_form.cleaned_data
        try:
            plan = services.plan_propose(
                case=case,
                actor=request.user,
                kind=data["kind"],
                base_amount=data["base_amount"],
                waiver_amount=data["waiver_amount"],
                instalment_count=data["instalment_count"],
                deferral_months=data["deferral_months"],
                first_due_date=data["first_due_date"],
                note=data["note"],
                submit=request.POST.get("save") != "draft",
                idempotency_key=data["idempotency_key"] or None,
            )
        except DoorstepError as exc:
            plan_form.add_error(None, exc.message)
        else:
            messages.success(request, _("Plan saved: %(status)s.") % {"status": plan.get_status_display()})
            return redirect(plan)
    if action == "promise" and promise_form.is_valid():
        data = promise_form.cleaned_data
        try:
            services.promise_create(
                case=case,
                actor=request.user,
                amount=data["amount"],
                due_date=data["due_date"],
                grace_days=data["grace_days"],
                note=data["note"],
                idempotency_key=data["idempotency_key"] or None,
            )
        except DoorstepError as exc:
            promise_form.add_error(None, exc.message)
        else:
            messages.success(request, _("Promise to pay recorded; the engine checks it after the due date."))
            return redirect("case-negotiate", case_id=case.pk)
    context = {
        "case": case,
        "plan_form": plan_form,
        "promise_form": promise_form,
        "suggestion": suggestion,
        "financials": figures,
        "panel": selectors.case_panel(case, request.user),
    }
    status = 400 if action in ("plan", "promise") else 200
    return render(request, "repayment/negotiate.html", context, status=status)


@require_GET
def plan_detail(request, plan_id: int):
    plan = selectors.plan_for_user(request.user, plan_id)
    role = actor_role(plan.case, request.user)
    context = {
        "plan": plan,
        "case": plan.case,
        "instalments": list(plan.instalments.all()),
        "can_decide": selectors.can_decide(plan, request.user),
        "fit": selectors.plan_fit(plan),
        "promise_record": selectors.promise_record(plan.case),
        "can_act": role in (COLLECTOR, SUPERVISOR),
        "is_maker_supervisor": role == SUPERVISOR and plan.created_by_id == request.user.pk,
        "decision_form": DecisionForm(),
    }
    return render(request, "repayment/plan_detail.html", context)


def _plan_action(request, plan_id: int, action, done: str):
    plan = selectors.plan_for_user(request.user, plan_id)
    form = DecisionForm(request.POST)
    note = form.cleaned_data["note"] if form.is_valid() else ""
    try:
        action(plan=plan, actor=request.user, note=note)
    except DoorstepError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, done)
    return redirect(plan)


@require_POST
def plan_submit(request, plan_id: int):
    plan = selectors.plan_for_user(request.user, plan_id)
    _require_field(plan.case, request.user)
    try:
        services.plan_submit(plan=plan, actor=request.user)
    except DoorstepError as exc:
        messages.error(request, exc.message)
    return redirect(plan)


@require_POST
def plan_approve(request, plan_id: int):
    plan = selectors.plan_for_user(request.user, plan_id)
    if actor_role(plan.case, request.user) != SUPERVISOR:
        raise PermissionDenied
    return _plan_action(request, plan_id, services.plan_approve, _("Plan approved: it is active now."))


@require_POST
def plan_reject(request, plan_id: int):
    plan = selectors.plan_for_user(request.user, plan_id)
    if actor_role(plan.case, request.user) != SUPERVISOR:
        raise PermissionDenied
    return _plan_action(request, plan_id, services.plan_reject, _("Plan rejected: the collector is told why."))


@require_POST
def plan_cancel(request, plan_id: int):
    plan = selectors.plan_for_user(request.user, plan_id)
    _require_field(plan.case, request.user)
    return _plan_action(request, plan_id, services.plan_cancel, _("Plan cancelled."))


@require_GET
def plan_agreement(request, plan_id: int):
    plan = selectors.plan_for_user(request.user, plan_id)
    context = {"plan": plan, "case": plan.case, "instalments": list(plan.instalments.all()), "now": timezone.now()}
    return render(request, "repayment/plan_agreement.html", context)


@require_POST
def promise_cancel(request, promise_id: int):
    promise = selectors.promise_for_user(request.user, promise_id)
    _require_field(promise.case, request.user)
    try:
        services.promise_cancel(
            promise=promise, actor=request.user, note=request.POST.get("note", "").replace("\x00", "")[:500]
        )
    except DoorstepError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Promise cancelled."))
    return redirect("case-negotiate", case_id=promise.case_id)


@require_http_methods(["GET", "POST"])
def payment_create(request, case_id: int):
    case = selectors.case_for_user(request.user, case_id)
    _require_field(case, request.user)
    form = PaymentForm(
        request.POST if request.method == "POST" else None,
        initial={"paid_on": timezone.localdate(), "channel": "cash"},
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            payment = services.payment_record(
                case=case,
                actor=request.user,
                amount=data["amount"],
                paid_on=data["paid_on"],
                channel=data["channel"],
                reference=data["reference"],
                idempotency_key=data["idempotency_key"] or None,
            )
        except DoorstepError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, _("Payment recorded: receipt %(no)s.") % {"no": payment.receipt_no})
            return redirect(payment)
    context = {
        "case": case,
        "form": form,
        "panel": selectors.case_panel(case, request.user),
        "obligations": selectors.outstanding_obligations(case),
    }
    return render(request, "repayment/payment_form.html", context, status=400 if request.method == "POST" else 200)


@require_GET
def payment_receipt(request, payment_id: int):
    payment = selectors.payment_for_user(request.user, payment_id)
    return render(request, "repayment/payment_receipt.html", {"payment": payment, "case": payment.case})


@require_GET
def notification_list(request):
    page = Paginator(selectors.notifications_for(request.user), 30).get_page(request.GET.get("page"))
    context = {
        "page": page,
        "unread": selectors.unread_count(request.user),
        "approvals": list(selectors.plans_awaiting_approval(request.user)[:20])
        if request.user.is_supervisor or request.user.is_superuser
        else [],
    }
    return render(request, "repayment/notification_list.html", context)


@require_POST
def notification_read(request, pk: int):
    notification = get_object_or_404(Notification, pk=pk, recipient=request.user)
    if notification.read_at is None:
        Notification.objects.filter(pk=notification.pk, read_at__isnull=True).update(read_at=timezone.now())
    return redirect("notification-list")


@require_POST
def notification_read_all(request):
    Notification.objects.filter(recipient=request.user, read_at__isnull=True).update(read_at=timezone.now())
    return redirect("notification-list")
