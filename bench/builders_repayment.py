"""Plans with instalments, promises, payments with allocations, and the follow-up checks (see ``bench.builders``).

Follow-up cases each carry one obligation: an active plan (70 %) or a pending promise. Exactly
``sizes.due_checks`` of these obligations are due for evaluation today (the sweep benchmark): an
instalment or promise whose grace ended at midnight — half of them paid in time, half not — or a
promise due in two days (a reminder). The others fall due later.
"""

import datetime as dt
from decimal import Decimal

from bench.builders import GRACE_DAYS, Ctx
from bench.builders_cases import CaseInfo
from collections_app.models import Stage
from repayment.models import FollowUpCheck, Instalment, Payment, PaymentAllocation, PromiseToPay, RepaymentPlan
from repayment.schedule import split_amount

Plan, Inst, Check = RepaymentPlan.Status, Instalment.Status, FollowUpCheck.Kind
CHANNELS = [c.value for c in Payment.Channel]
SPACING = dt.timedelta(days=30)


def build_repayment(ctx: Ctx, cases: list[CaseInfo]) -> None:
    rng = ctx.rng
    follow_up = [c for c in cases if c.stage == Stage.FOLLOW_UP]
    # Exactly 7 in 10 follow-up cases work a plan (the first always does, so even a tiny scale has one).
    obligations = [("plan" if n % 10 < 7 else "promise", c) for n, c in enumerate(follow_up)]
    due = set(rng.sample(range(len(obligations)), min(ctx.sizes.due_checks, len(obligations))))
    for n, (kind, case) in enumerate(obligations):
        if kind == "plan":
            _active_plan(ctx, case, due_today=n in due)
        else:
            _promise(ctx, case, due_today=n in due)
    for case in cases:
        if case.stage == Stage.NEGOTIATION:
            status = rng.choice((Plan.DRAFT, Plan.PENDING_APPROVAL))
            for row in _plan(ctx, case, status, ctx.today + dt.timedelta(days=20), 0)[1]:
                ctx.w(Instalment).add(row)
        elif case.stage == Stage.CLOSED:
            status = Plan.COMPLETED if rng.random() < 0.6 else Plan.DEFAULTED
            _closed_plan(ctx, case, status)
    history = [c for c in cases if c.stage in (Stage.FOLLOW_UP, Stage.CLOSED)]
    while history and ctx.w(RepaymentPlan).count < ctx.sizes.plans:
        _closed_plan(ctx, rng.choice(history), rng.choice((Plan.DEFAULTED, Plan.CANCELLED)))
    while history and ctx.w(Payment).count < ctx.sizes.payments:
        case = rng.choice(history)
        _payment(
            ctx, case, rng.randint(5, 200) * Decimal(10), ctx.today - dt.timedelta(days=rng.randint(1, 90)), held=True
        )
    ctx.counts.update(
        plans=ctx.w(RepaymentPlan).count,
        instalments=ctx.w(Instalment).count,
        promises=ctx.w(PromiseToPay).count,
        payments=ctx.w(Payment).count,
        followup_checks=ctx.w(FollowUpCheck).count,
        due_checks=len(due),
    )


def _plan(ctx: Ctx, case: CaseInfo, status: str, first_due: dt.date, paid_upto: int, **extra) -> tuple[int, list]:
    """A plan and its instalments (the first ``paid_upto`` paid, each by its own payment); returns them."""
    rng, plans, instalments = ctx.rng, ctx.w(RepaymentPlan), ctx.w(Instalment)
    kind = rng.choice(
        (RepaymentPlan.Kind.INSTALMENTS,) * 4 + (RepaymentPlan.Kind.DEFERRAL, RepaymentPlan.Kind.SETTLEMENT)
    )
    base = case.amount
    waiver = (
        (base * Decimal(rng.randint(5, 30)) / 100).quantize(Decimal("0.01")) if kind == "settlement" else Decimal(0)
    )
    count = 1 if kind == "settlement" else rng.choice((3, 6, 6, 9, 12))
    count = max(count, paid_upto + 1) if status == Plan.ACTIVE else max(count, paid_upto)
    plan_id = plans.new_id()
    created = case.opened_at + dt.timedelta(days=1)
    plans.add(
        {
            "id": plan_id, "case_id": case.id, "kind": kind, "status": status, "base_amount": base,
            "waiver_amount": waiver, "amount": base - waiver, "instalment_count": count,
            "deferral_months": 3 if kind == "deferral" else 0, "first_due_date": first_due,
            "grace_days": GRACE_DAYS, "approval_reasons": [], "created_by_id": case.collector_id,
            "created_at": created, "activated_at": created if status != Plan.DRAFT else None, **extra,
        }
    )  # fmt: skip
    rows = []
    for seq, amount in enumerate(split_amount(base - waiver, count), start=1):
        due_date = first_due + SPACING * (seq - 1)
        paid = seq <= paid_upto
        row = {
            "id": instalments.new_id(), "plan_id": plan_id, "seq": seq, "due_date": due_date, "amount": amount,
            "paid_amount": amount if paid else Decimal(0), "status": Inst.PAID if paid else Inst.PENDING,
            "resolved_at": ctx.midnight(due_date) if paid else None,
        }  # fmt: skip
        rows.append(row)
    for row in rows[:paid_upto]:
        _payment(ctx, case, row["amount"], row["due_date"] - dt.timedelta(days=1), instalment_id=row["id"])
    return plan_id, rows


def _active_plan(ctx: Ctx, case: CaseInfo, *, due_today: bool) -> None:
    rng = ctx.rng
    paid_upto = rng.randint(0, 3)
    current_due = (
        ctx.today - dt.timedelta(days=GRACE_DAYS + 1)
        if due_today
        else ctx.today + dt.timedelta(days=rng.randint(3, 25))
    )
    _plan_id, rows = _plan(ctx, case, Plan.ACTIVE, current_due - SPACING * paid_upto, paid_upto)
    current = rows[paid_upto]
    if due_today and rng.random() < 0.5:  # paid in time: the check finds it kept
        current["paid_amount"] = current["amount"]
        _payment(ctx, case, current["amount"], current["due_date"], instalment_id=current["id"])
    for row in rows:
        ctx.w(Instalment).add(row)
    checks = ctx.w(FollowUpCheck)
    checks.add(
        {
            "id": checks.new_id(), "kind": Check.INSTALMENT_DUE, "case_id": case.id, "instalment_id": current["id"],
            "due_at": ctx.midnight(current["due_date"] + dt.timedelta(days=GRACE_DAYS + 1)),
            "status": FollowUpCheck.Status.PENDING, "dedupe_key": f"bench:instalment_due:{current['id']}",
            "created_at": case.opened_at,
        }
    )  # fmt: skip


def _closed_plan(ctx: Ctx, case: CaseInfo, status: str) -> None:
    rng = ctx.rng
    first_due = case.opened_at.date() + dt.timedelta(days=rng.randint(5, 20))
    paid_upto = 0 if status == Plan.CANCELLED else rng.randint(0, 2)
    # A plan has ended by yesterday at the latest; a completed one was paid off by then (early where its
    # schedule runs on): nothing is dated in the future, as the app never records it.
    ended = first_due + SPACING * 3
    if ended >= ctx.today:
        ended = ctx.today - dt.timedelta(days=rng.randint(1, 60))
    _plan_id, rows = _plan(ctx, case, status, first_due, paid_upto, closed_at=ctx.midnight(ended))
    if status == Plan.COMPLETED:
        for row in rows[paid_upto:]:
            paid_on = min(row["due_date"], ended)
            row.update(paid_amount=row["amount"], status=Inst.PAID, resolved_at=ctx.midnight(paid_on))
            _payment(ctx, case, row["amount"], paid_on, instalment_id=row["id"])
    elif status == Plan.DEFAULTED and paid_upto < len(rows):
        rows[paid_upto].update(status=Inst.MISSED, resolved_at=ctx.midnight(rows[paid_upto]["due_date"]))
        for row in rows[paid_upto + 1 :]:
            row["status"] = Inst.CANCELLED
    else:
        for row in rows[paid_upto:]:
            row["status"] = Inst.CANCELLED
    for row in rows:
        ctx.w(Instalment).add(row)


def _promise(ctx: Ctx, case: CaseInfo, *, due_today: bool) -> None:
    rng, promises, checks = ctx.rng, ctx.w(PromiseToPay), ctx.w(FollowUpCheck)
    reminder = due_today and rng.random() < 0.3
    if reminder:
        due_date = ctx.today + dt.timedelta(days=2)
    elif due_today:
        due_date = ctx.today - dt.timedelta(days=GRACE_DAYS + 1)
    else:
        due_date = ctx.today + dt.timedelta(days=rng.randint(5, 30))
    amount = min(case.amount, Decimal(rng.randint(10, 500) * 10))
    promise_id = promises.new_id()
    paid = due_today and not reminder and rng.random() < 0.5
    promises.add(
        {
            "id": promise_id, "case_id": case.id, "amount": amount, "due_date": due_date, "grace_days": GRACE_DAYS,
            "paid_amount": amount if paid else Decimal(0), "status": PromiseToPay.Status.PENDING,
            "created_by_id": case.collector_id, "created_at": case.opened_at + dt.timedelta(days=1),
        }
    )  # fmt: skip
    if paid:
        _payment(ctx, case, amount, due_date, promise_id=promise_id)
    deadline = ctx.midnight(due_date + dt.timedelta(days=GRACE_DAYS + 1))
    reminder_at = ctx.midnight(ctx.today) if reminder else ctx.midnight(due_date - dt.timedelta(days=2))
    for kind, due_at, key in (
        (Check.PROMISE_DUE, deadline, f"promise_due:{promise_id}"),
        (Check.REMINDER, reminder_at, f"reminder:promise:{promise_id}"),
    ):
        if kind == Check.REMINDER and not reminder and due_at <= ctx.now:
            continue  # a reminder for a promise already past due was evaluated long ago
        checks.add(
            {
                "id": checks.new_id(), "kind": kind, "case_id": case.id, "promise_id": promise_id, "due_at": due_at,
                "status": FollowUpCheck.Status.PENDING, "dedupe_key": f"bench:{key}", "created_at": case.opened_at,
            }
        )  # fmt: skip


def _payment(ctx: Ctx, case: CaseInfo, amount: Decimal, paid_on: dt.date, *, held: bool = False, **target) -> None:
    payments, allocations = ctx.w(Payment), ctx.w(PaymentAllocation)
    payment_id = payments.new_id()
    paid_on = min(paid_on, ctx.today)  # the app refuses a payment dated in the future
    recorded = min(ctx.midnight(paid_on) + dt.timedelta(hours=10), ctx.midnight(ctx.today))
    payments.add(
        {
            "id": payment_id, "case_id": case.id, "amount": amount, "paid_on": paid_on,
            "channel": CHANNELS[payment_id % len(CHANNELS)], "recorded_by_id": case.collector_id,
            "recorded_at": recorded, "receipt_no": f"BR{payment_id:010d}",
            "held_amount": amount if held else Decimal(0),
        }
    )  # fmt: skip
    if not held:
        allocations.add(
            {"id": allocations.new_id(), "payment_id": payment_id, "amount": amount, "created_at": recorded, **target}
        )
