"""Payments: recording, allocating to the oldest due obligations first, held credit, closing a cured case."""

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.db.models import DecimalField, F, Max, OuterRef, Q, Subquery, Value
from django.db.models.functions import Greatest
from django.utils import timezone
from django.utils.translation import gettext as _

from collections_app.exceptions import CaseRuleError, DoorstepError
from collections_app.models import Case, CaseEvent, CloseReason, DelinquentAccount, Stage, User
from collections_app.services.audit import audit_log
from collections_app.services.authority import account_lock, case_lock, require_open_case
from collections_app.services.cases import case_event_add, case_transition
from collections_app.services.screening import account_refresh_screening_key
from repayment import conf
from repayment.models import (
    ZERO,
    FollowUpCheck,
    Instalment,
    Payment,
    PaymentAllocation,
    PromiseToPay,
    RepaymentPlan,
)
from repayment.services.common import cancel_checks, case_tz, require_field_actor, schedule_check
from repayment.services.statuses import instalment_status_move, plan_status_move, promise_status_move

MAX_BACKDATE_DAYS = 90


def _minus_floor_zero(field: str, amount: Decimal):
    """``max(field - amount, 0)`` in SQL, so concurrent updates never drive a balance below zero."""
    money = DecimalField(max_digits=16, decimal_places=2)
    return Greatest(F(field) - Value(amount, output_field=money), Value(ZERO, output_field=money))


class PaymentRefused(DoorstepError):
    pass


@dataclass
class _Obligation:
    due_date: dt.date
    order: int
    obj: PromiseToPay | Instalment


def open_obligations(case: Case) -> list[_Obligation]:
    """Pending promises and instalments of the active plan with something left to pay, oldest due first
    (a promise before an instalment due the same day)."""
    promises = PromiseToPay.objects.select_for_update().filter(case=case, status=PromiseToPay.Status.PENDING)
    instalments = Instalment.objects.select_for_update().filter(
        plan__case=case, plan__status=RepaymentPlan.Status.ACTIVE, status=Instalment.Status.PENDING
    )
    rows = [_Obligation(p.due_date, 0, p) for p in promises if p.remaining > 0]
    rows += [_Obligation(i.due_date, 1, i) for i in instalments if i.remaining > 0]
    return sorted(rows, key=lambda row: (row.due_date, row.order, row.obj.pk))


def _in_time(obj, paid_on: dt.date, grace_days: int) -> bool:
    return paid_on <= obj.due_date + dt.timedelta(days=grace_days)


def _allocate(*, payment: Payment, amount: Decimal, case: Case) -> Decimal:
    """Allocate up to ``amount`` of ``payment``; returns what is left over."""
    left = amount
    now = timezone.now()
    for row in open_obligations(case):
        if left <= 0:
            break
        obj = row.obj
        take = min(obj.remaining, left)
        left -= take
        obj.paid_amount += take
        is_promise = isinstance(obj, PromiseToPay)
        PaymentAllocation.objects.create(
            payment=payment, amount=take, **({"promise": obj} if is_promise else {"instalment": obj})
        )
        grace = obj.grace_days if is_promise else obj.plan.grace_days
        obj.save(update_fields=["paid_amount"])
        # Paid in full in time settles the obligation now; paid late, the engine decides at the deadline.
        if obj.remaining == 0 and _in_time(obj, payment.paid_on, grace):
            _settle_paid(obj, is_promise, now)
    return left


def _settle_paid(obj: PromiseToPay | Instalment, is_promise: bool, now) -> None:
    if is_promise:
        promise_status_move(
            rows=[obj.pk], source=PromiseToPay.Status.PENDING, target=PromiseToPay.Status.KEPT, resolved_at=now
        )
        obj.status = PromiseToPay.Status.KEPT
    else:
        instalment_status_move(
            rows=[obj.pk], source=Instalment.Status.PENDING, target=Instalment.Status.PAID, resolved_at=now
        )
        obj.status = Instalment.Status.PAID
    obj.resolved_at = now
    cancel_checks(result="paid", **({"promise": obj} if is_promise else {"instalment": obj}))


def _complete_paid_plans(case: Case, actor) -> list[RepaymentPlan]:
    completed = []
    for plan in RepaymentPlan.objects.filter(case=case, status=RepaymentPlan.Status.ACTIVE):
        if plan.instalments.exclude(status=Instalment.Status.PAID).exists():
            continue
        plan_status_move(
            rows=[plan.pk],
            source=RepaymentPlan.Status.ACTIVE,
            target=RepaymentPlan.Status.COMPLETED,
            closed_at=timezone.now(),
        )
        plan.status = RepaymentPlan.Status.COMPLETED
        if plan.kind == RepaymentPlan.Kind.SETTLEMENT:
            # The settled debt is cleared: the waiver is written off the balance.
            DelinquentAccount.objects.filter(pk=case.account_id).update(
                overdue_amount=ZERO, outstanding_balance=_minus_floor_zero("outstanding_balance", plan.waiver_amount)
            )
        payload = {"plan": plan.pk, "status": plan.status}
        case_event_add(case=case, actor=actor, kind=CaseEvent.Kind.PLAN, payload=payload)
        audit_log(actor=actor, action="plan.complete", obj=plan, changes=payload)
        completed.append(plan)
    return completed


def followups_schedule_care(*, case: Case) -> FollowUpCheck:
    """A care revisit ``REPAYMENT_CARE_REVISIT_DAYS`` after a case is cured (one per closing day)."""
    closed_on = timezone.localdate()
    day = closed_on + dt.timedelta(days=conf.care_revisit_days())
    return schedule_check(
        kind=FollowUpCheck.Kind.CARE_REVISIT,
        case=case,
        due_at=dt.datetime.combine(day, dt.time(9, 0), tzinfo=case_tz(case)),
        key=f"care:{case.pk}:{closed_on.isoformat()}",
    )


def maybe_close_cured(*, case: Case, settled: bool = False) -> bool:
    """The engine closes a case whose overdue amount is cleared and that has nothing left to follow."""
    case.refresh_from_db(fields=["stage", "closed_at", "close_reason", "next_action", "next_action_due"])
    account = DelinquentAccount.objects.get(pk=case.account_id)
    if not case.is_open or account.overdue_amount > 0:
        return False
    if (
        PromiseToPay.objects.filter(case=case, status=PromiseToPay.Status.PENDING)
        .exclude(paid_amount__gte=F("amount"))
        .exists()
        or RepaymentPlan.objects.filter(case=case, status__in=RepaymentPlan.OPEN_STATUSES).exists()
    ):
        return False
    reason = CloseReason.SETTLED if settled else CloseReason.CURED
    case_transition(case=case, target=Stage.CLOSED, actor=None, close_reason=reason, note=_("Overdue amount paid."))
    cancel_checks(case=case, result="case_closed", kind__in=[FollowUpCheck.Kind.REMINDER])
    followups_schedule_care(case=case)
    return True


@transaction.atomic
def apply_held_credit(*, case: Case, actor) -> Decimal:
    """Allocate credit held on earlier payments to the case's open obligations (oldest payment first)."""
    applied = ZERO
    for payment in Payment.objects.select_for_update().filter(case=case, held_amount__gt=0).order_by("paid_on", "id"):
        left = _allocate(payment=payment, amount=payment.held_amount, case=case)
        if left != payment.held_amount:
            applied += payment.held_amount - left
            payment.held_amount = left
            payment.save(update_fields=["held_amount"])
    if applied:
        case_event_add(
            case=case, actor=actor, kind=CaseEvent.Kind.PAYMENT, payload={"held_credit_applied": str(applied)}
        )
        _complete_paid_plans(case, actor)
    return applied


def _validate(case: Case, account: DelinquentAccount, amount: Decimal, paid_on: dt.date, channel: str) -> None:
    today = timezone.localdate()
    if not case.is_open:
        raise PaymentRefused(_("The case is closed; payments are recorded on open cases."))
    if amount is None or amount <= 0:
        raise PaymentRefused(_("A payment is for an amount above zero."))
    if amount > account.outstanding_balance:
        raise PaymentRefused(
            _("%(amount)s is more than the outstanding balance of %(balance)s; record at most the balance.")
            % {"amount": amount, "balance": account.outstanding_balance}
        )
    if paid_on > today:
        raise PaymentRefused(_("The payment date cannot be in the future."))
    if paid_on < today - dt.timedelta(days=MAX_BACKDATE_DAYS):
        raise PaymentRefused(_("The payment date is more than %(days)s days ago.") % {"days": MAX_BACKDATE_DAYS})
    if channel not in Payment.Channel.values:
        raise PaymentRefused(_("Unknown payment channel."))


def case_note_paid_on(*, case: Case, paid_on: dt.date) -> None:
    """Move the case's ``last_paid_on`` forward to ``paid_on`` (never back: payments may be back-dated). The
    payment's writer calls it under the case lock; no signal writes the case behind the writer's back."""
    Case.objects.filter(Q(last_paid_on__isnull=True) | Q(last_paid_on__lt=paid_on), pk=case.pk).update(
        last_paid_on=paid_on
    )
    if case.last_paid_on is None or case.last_paid_on < paid_on:
        case.last_paid_on = paid_on


def cases_refresh_last_paid_on() -> int:
    """Recompute every paid-into case's ``last_paid_on`` in one set-based UPDATE, for payments written
    without the ORM (a bulk load); returns the cases updated."""
    latest = Payment.objects.filter(case_id=OuterRef("pk")).order_by().values("case_id").annotate(d=Max("paid_on"))
    return Case.objects.filter(pk__in=Payment.objects.values("case_id")).update(
        last_paid_on=Subquery(latest.values("d"))
    )


def payment_record(**values) -> Payment:
    """Record a payment (``payment_record_once``) and return it. Takes the keywords of ``payment_record_once``."""
    return payment_record_once(**values)[0]


@transaction.atomic
def payment_record_once(
    *,
    case: Case,
    actor: User,
    amount: Decimal,
    paid_on: dt.date,
    channel: str,
    reference: str = "",
    idempotency_key: str | None = None,
) -> tuple[Payment, bool]:
    """Record a payment: allocate it oldest-due first, hold any excess as credit, reduce the account's
    overdue amount and balance, and close the case as cured when nothing is overdue or owed under a plan.

    Returns ``(payment, created)``: a replay of ``idempotency_key`` returns the first payment and ``False``.
    Locks the case, then the account (``collections_app.services.authority``): concurrent payments, a close
    and the engine queue on the case row, and the key and the stage are judged on the fresh row."""
    case_lock(case, require_open=False)
    if idempotency_key:
        existing = Payment.objects.filter(idempotency_key=idempotency_key, case=case).first()
        if existing:
            return existing, False
    require_open_case(case)
    require_field_actor(case, actor)
    account = account_lock(case)
    _validate(case, account, amount, paid_on, channel)
    try:
        with transaction.atomic():
            payment = Payment.objects.create(
                case=case,
                amount=amount,
                paid_on=paid_on,
                channel=channel,
                reference=reference.strip(),
                recorded_by=actor,
                idempotency_key=idempotency_key or None,
            )
    except IntegrityError as exc:
        # The key was used on another case.
        raise CaseRuleError(
            _("This idempotency key was already used for another payment."), rule="idempotency_key", conflict=True
        ) from exc
    case_note_paid_on(case=case, paid_on=paid_on)
    payment.receipt_no = f"RC{paid_on:%Y%m%d}-{payment.pk:07d}"
    payment.held_amount = _allocate(payment=payment, amount=amount, case=case)
    payment.save(update_fields=["receipt_no", "held_amount"])
    DelinquentAccount.objects.filter(pk=account.pk).update(
        overdue_amount=_minus_floor_zero("overdue_amount", amount),
        outstanding_balance=_minus_floor_zero("outstanding_balance", amount),
        last_payment_date=max(paid_on, account.last_payment_date or paid_on),
    )
    allocated = amount - payment.held_amount
    payload = {
        "payment": payment.pk,
        "amount": str(amount),
        "receipt": payment.receipt_no,
        "channel": channel,
        "allocated": str(allocated),
        "held": str(payment.held_amount),
    }
    case_event_add(case=case, actor=actor, kind=CaseEvent.Kind.PAYMENT, payload=payload)
    audit_log(actor=actor, action="payment.record", obj=payment, changes=payload)
    completed = _complete_paid_plans(case, actor)
    account_refresh_screening_key(account=account)
    settled = any(plan.kind == RepaymentPlan.Kind.SETTLEMENT for plan in completed)
    maybe_close_cured(case=case, settled=settled)
    return payment, True
