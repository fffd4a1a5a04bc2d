# ruff: noqa: RUF001 — the demo data is Chinese text with its own punctuation.
"""Demo promises, plans and payments for seed_demo, fitting each case's stage. Deterministic for ``rng``.

Negotiation: a plan awaiting the supervisor's approval (a settlement with a waiver) or a draft.
Follow-up: a promise or an active instalment plan, sometimes with a first partial payment, and an
older broken promise. Closed (cured): the payment that cleared the overdue amount and a kept promise.
Follow-up and negotiation go through the services (which keep the case where it is); closed cases
are written directly, as an import of past payments would be.
"""

import datetime as dt
import random
from decimal import ROUND_DOWN, Decimal

from django.utils import timezone

from collections_app.models import Case, CaseEvent, DelinquentAccount, Stage, User
from repayment import conf
from repayment.models import Payment, PaymentAllocation, PromiseToPay, RepaymentPlan
from repayment.services import payment_record, plan_propose, promise_create
from repayment.services.payments import case_note_paid_on

CENT = Decimal("0.01")


def _share(amount: Decimal, low: float, high: float, rng: random.Random) -> Decimal:
    value = (amount * Decimal(str(round(rng.uniform(low, high), 2)))).quantize(CENT, rounding=ROUND_DOWN)
    return max(value, CENT)


def _negotiation(case: Case, collector: User, rng: random.Random, today: dt.date) -> None:
    overdue = case.account.overdue_amount
    if rng.random() < 0.5:
        plan_propose(
            case=case,
            actor=collector,
            kind=RepaymentPlan.Kind.SETTLEMENT,
            base_amount=overdue,
            waiver_amount=_share(overdue, 0.15, 0.3, rng),
            first_due_date=today + dt.timedelta(days=rng.randint(7, 20)),
            note="一次性结清，申请部分减免",
        )
    else:
        plan_propose(
            case=case,
            actor=collector,
            kind=RepaymentPlan.Kind.INSTALMENTS,
            base_amount=overdue,
            instalment_count=rng.choice((3, 6, 9)),
            first_due_date=today + dt.timedelta(days=rng.randint(10, 30)),
            submit=False,
        )


def _follow_up(case: Case, collector: User, rng: random.Random, today: dt.date) -> None:
    overdue = case.account.overdue_amount
    # An older promise that was broken (history: the case came back for a revisit before).
    if rng.random() < 0.4:
        PromiseToPay.objects.create(
            case=case,
            amount=_share(overdue, 0.1, 0.3, rng),
            due_date=today - dt.timedelta(days=rng.randint(20, 40)),
            grace_days=conf.grace_days(),
            status=PromiseToPay.Status.BROKEN,
            resolved_at=timezone.now() - dt.timedelta(days=15),
            created_by=collector,
        )
        DelinquentAccount.objects.filter(pk=case.account_id).update(broken_promises=1)
    if rng.random() < 0.5:
        promise_create(
            case=case,
            actor=collector,
            amount=_share(overdue, 0.2, 0.5, rng),
            due_date=today + dt.timedelta(days=rng.randint(1, 14)),
            note="承诺发薪日还款",
        )
        return
    plan = plan_propose(
        case=case,
        actor=collector,
        kind=RepaymentPlan.Kind.INSTALMENTS,
        base_amount=overdue,
        instalment_count=rng.choice((3, 4, 6)),
        first_due_date=today + dt.timedelta(days=rng.randint(3, 25)),
    )
    if plan.status == RepaymentPlan.Status.ACTIVE and rng.random() < 0.5:
        first = plan.instalments.order_by("seq").first()
        payment_record(
            case=case,
            actor=collector,
            amount=_share(first.amount, 0.3, 0.9, rng),
            paid_on=today - dt.timedelta(days=rng.randint(0, 3)),
            channel=rng.choice(Payment.Channel.values),
            reference=f"DEMO{rng.randint(100000, 999999)}",
        )


def _closed(case: Case, collector: User, rng: random.Random, today: dt.date) -> None:
    account = case.account
    amount = min(account.overdue_amount, account.outstanding_balance)
    if amount <= 0:
        return
    paid_on = today - dt.timedelta(days=rng.randint(1, 20))
    promise = PromiseToPay.objects.create(
        case=case,
        amount=amount,
        due_date=paid_on + dt.timedelta(days=rng.randint(0, 3)),
        grace_days=conf.grace_days(),
        paid_amount=amount,
        status=PromiseToPay.Status.KEPT,
        resolved_at=timezone.now(),
        created_by=collector,
    )
    payment = Payment.objects.create(
        case=case,
        amount=amount,
        paid_on=paid_on,
        channel=rng.choice(Payment.Channel.values),
        reference=f"DEMO{rng.randint(100000, 999999)}",
        recorded_by=collector,
    )
    Payment.objects.filter(pk=payment.pk).update(receipt_no=f"RC{paid_on:%Y%m%d}-{payment.pk:07d}")
    case_note_paid_on(case=case, paid_on=paid_on)
    PaymentAllocation.objects.create(payment=payment, promise=promise, amount=amount)
    DelinquentAccount.objects.filter(pk=account.pk).update(
        overdue_amount=account.overdue_amount - amount,
        outstanding_balance=account.outstanding_balance - amount,
        last_payment_date=paid_on,
    )
    payload = {"payment": payment.pk, "amount": str(amount), "allocated": str(amount), "held": "0.00"}
    CaseEvent.objects.create(case=case, actor=collector, kind=CaseEvent.Kind.PAYMENT, payload=payload)


def agree(*, case: Case, collector: User, rng: random.Random) -> None:
    """The demo walk's way into follow-up, as a collector's: a promise or an active plan starts it (the move
    needs an agreement). A plan left waiting for approval is backed by a promise so the walk goes on."""
    today = timezone.localdate()
    case.account.refresh_from_db()
    _follow_up(case, collector, rng, today)
    if case.is_open and case.stage != Stage.FOLLOW_UP:
        promise_create(
            case=case,
            actor=collector,
            amount=_share(case.account.overdue_amount, 0.2, 0.5, rng),
            due_date=today + dt.timedelta(days=rng.randint(1, 14)),
            note="承诺发薪日还款",
        )


def enrich(*, case: Case, collector: User, rng: random.Random) -> None:
    """Add demo promises, plans and payments to a demo case in negotiation or closed (a case in follow-up got
    its agreement on the walk, ``agree``)."""
    today = timezone.localdate()
    case.account.refresh_from_db()
    if case.stage == Stage.NEGOTIATION:
        _negotiation(case, collector, rng, today)
    elif case.stage == Stage.CLOSED:
        _closed(case, collector, rng, today)
