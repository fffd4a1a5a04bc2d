"""Months of history for seed_demo: each walked demo case is spread back over the last six months, and
every demo account gets a daily bucket snapshot and monthly statements, so that the dashboard's trends,
stays, roll and cure rates, its previous-period comparison and the statement charts have something to
show. Deterministic for ``rng``.

The cases were walked through the services (events, audit rows) a moment ago; this moves their moments
into the past inside the same transaction, before the case chains are sealed on commit, so every chain
link covers the back-dated time. A stage event keeps its order; a calling, preparation or visit event
moves into the stay of the stage it belongs to; a payment or promise into the stay it was written in,
or just before the closure.
"""

import datetime as dt
import random
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Sum
from django.utils import timezone

from collections_app.aging import bucket_for, days_past_due
from collections_app.models import AccountBucketSnapshot, Case, CaseEvent, DelinquentAccount, Stage
from repayment.models import Payment, PromiseToPay
from risk.models import Statement
from visits.models import ContactAttempt, Visit

HISTORY_DAYS = 180
SNAPSHOT_DAYS = HISTORY_DAYS + 5
STATEMENT_MONTHS = 6
CENT = Decimal("0.01")
STAGE_KINDS = (CaseEvent.Kind.OPENED, CaseEvent.Kind.TRANSITION)
# The stage whose stay an event of this kind belongs in (the rest stay where they were written).
KIND_STAGE = {
    CaseEvent.Kind.CONTACT_ATTEMPT: Stage.PREPARATION,
    CaseEvent.Kind.PREPARATION: Stage.PREPARATION,
    CaseEvent.Kind.VISIT: Stage.VISIT,
}
ZERO = Decimal("0.00")
# Typical stays in days (low, high) of a stage before the case moves on.
STAY_DAYS = {
    Stage.SCREENING: (1, 4),
    Stage.PREPARATION: (1, 8),
    Stage.VISIT: (1, 12),
    Stage.NEGOTIATION: (2, 15),
    Stage.FOLLOW_UP: (7, 45),
}


def _daytime(moment: dt.datetime, rng: random.Random) -> dt.datetime:
    """The same local day, at a working hour (a stay's moments land in office hours, never at night)."""
    local = timezone.localtime(moment)
    return local.replace(hour=rng.randint(9, 17), minute=rng.choice((0, 10, 20, 30, 40, 50)), second=0, microsecond=0)


def _stage_times(stage_events: list[CaseEvent], last: dt.datetime, rng: random.Random) -> list[dt.datetime]:
    """The moment of each stage event, counted back from ``last`` (the move into the current stage) by
    a stay of typical length for each stage left, at working hours."""
    times = [last]
    for event in reversed(stage_events[1:]):
        low, high = STAY_DAYS.get(event.from_stage, (1, 7))
        times.append(_daytime(times[-1] - dt.timedelta(days=rng.randint(low, high)), rng))
    return times[::-1]


def _stays(stage_events: list[CaseEvent], times: list[dt.datetime], now: dt.datetime) -> list[tuple]:
    """``(stage, starts, ends)`` of each stay, the last one running to ``now`` (or its own moment, closed)."""
    stays = []
    for index, (event, start) in enumerate(zip(stage_events, times, strict=True)):
        stage = event.to_stage or Stage.SCREENING
        end = times[index + 1] if index + 1 < len(times) else (start if stage == Stage.CLOSED else now)
        stays.append((stage, start, end))
    return stays


def backdate_case(*, case: Case, rng: random.Random, now: dt.datetime) -> None:
    """Spread a freshly walked demo case over the past: each stage a stay of days or weeks, a closed case
    closed at some point of the last five months, an open one in its stage for a few days or weeks."""
    events = list(CaseEvent.objects.filter(case=case).order_by("id"))
    stage_events = [event for event in events if event.kind in STAGE_KINDS]
    if not stage_events:
        return
    if case.stage == Stage.CLOSED:  # closures spread over the months
        last = _daytime(now - dt.timedelta(days=rng.randint(1, HISTORY_DAYS - 30)), rng)
    else:  # in its current stage for a few days or weeks
        low, high = STAY_DAYS.get(case.stage, (1, 7))
        last = _daytime(now - dt.timedelta(days=rng.randint(low, high)), rng)
    times = _stage_times(stage_events, last, rng)
    stays = _stays(stage_events, times, now)
    moments: dict[int, dt.datetime] = {}
    previous = None
    for event, moment in zip(stage_events, times, strict=True):
        moments[event.pk] = moment
        event.stage_seconds = int((moment - previous).total_seconds()) if previous and event.from_stage else None
        previous = moment
    written_in = 0
    for event in events:
        if event.kind in STAGE_KINDS:
            written_in = stage_events.index(event)
            continue
        stay = _stay_for(event, stays, written_in)
        moments[event.pk] = _inside(stay, rng, now)
    _apply(case, events, stage_events, moments, late_days=rng.randint(7, 46))


def _stay_for(event: CaseEvent, stays: list[tuple], written_in: int) -> tuple:
    wanted = KIND_STAGE.get(event.kind)
    for stay in stays:
        if wanted and stay[0] == wanted:
            return stay
    stage, start, end = stays[written_in]
    if stage == Stage.CLOSED and written_in:  # paid and promised before the closure, not after it
        return stays[written_in - 1][0], stays[written_in - 1][1], start
    return stage, start, end


def _inside(stay: tuple, rng: random.Random, now: dt.datetime) -> dt.datetime:
    _stage, start, end = stay
    end = min(end, now - dt.timedelta(minutes=30))
    if end <= start:
        return start + dt.timedelta(minutes=rng.randint(5, 25))
    return start + (end - start) * rng.uniform(0.15, 0.95)


def _apply(
    case: Case, events: list[CaseEvent], stage_events: list[CaseEvent], moments: dict, *, late_days: int
) -> None:
    for event in events:
        event.created_at = moments[event.pk]
    CaseEvent.objects.bulk_update(events, ["created_at", "stage_seconds"])
    opened = moments[stage_events[0].pk]
    closed = moments[stage_events[-1].pk] if case.stage == Stage.CLOSED else None
    Case.objects.filter(pk=case.pk).update(opened_at=opened, closed_at=closed)
    # A case is opened on an account already overdue: one drawn as falling due later is moved before it.
    opened_on = timezone.localdate(opened)
    since = DelinquentAccount.objects.filter(pk=case.account_id).values_list("overdue_since", flat=True).first()
    if since is None or since >= opened_on:
        late = opened_on - dt.timedelta(days=late_days)
        DelinquentAccount.objects.filter(pk=case.account_id).update(overdue_since=late)
    by_kind: dict[str, list[CaseEvent]] = {}
    for event in events:
        by_kind.setdefault(event.kind, []).append(event)
    for event in by_kind.get(CaseEvent.Kind.VISIT, []):
        moment = event.created_at
        visit = Visit.objects.filter(pk=event.payload.get("visit")).values_list("checked_in_at", "checked_out_at")
        for checked_in, checked_out in visit:
            length = (checked_out - checked_in) if checked_out else dt.timedelta(minutes=40)
            Visit.objects.filter(pk=event.payload["visit"]).update(
                checked_in_at=moment, checked_out_at=moment + length, created_at=moment + length
            )
    for event in by_kind.get(CaseEvent.Kind.CONTACT_ATTEMPT, []):
        ContactAttempt.objects.filter(pk=event.payload.get("attempt")).update(
            attempted_at=event.created_at, created_at=event.created_at
        )
    _payments(case, by_kind.get(CaseEvent.Kind.PAYMENT, []), closed)


def _payments(case: Case, events: list[CaseEvent], closed: dt.datetime | None) -> None:
    """A payment's date follows its event; a closed case's kept promise fell due on it; the case's and the
    account's last payment date follow."""
    last_paid = None
    for event in events:
        paid_on = timezone.localdate(event.created_at)
        Payment.objects.filter(pk=event.payload.get("payment")).update(paid_on=paid_on, recorded_at=event.created_at)
        last_paid = max(last_paid or paid_on, paid_on)
    if last_paid is None:
        return
    Case.objects.filter(pk=case.pk).update(last_paid_on=last_paid)
    DelinquentAccount.objects.filter(pk=case.account_id).update(last_payment_date=last_paid)
    if closed is not None:
        PromiseToPay.objects.filter(case=case, status=PromiseToPay.Status.KEPT).update(
            due_date=last_paid, created_at=closed - dt.timedelta(days=7), resolved_at=closed
        )


@dataclass(frozen=True)
class Past:
    """What one demo account's past is drawn from: its overdue date and amount before any cure, and the
    day a closed case's last payment cured it (None: still delinquent)."""

    pk: int
    branch: int
    since: dt.date | None
    owed: Decimal
    cured_on: dt.date | None
    principal: Decimal
    balance: Decimal
    paid: Decimal

    def dpd(self, day: dt.date) -> int:
        if self.cured_on is not None and day >= self.cured_on:
            return 0
        return days_past_due(self.since, self.owed, day)


def _pasts(accounts: list[int]) -> list[Past]:
    cured: dict[int, dt.date] = dict(
        Case.objects.filter(account_id__in=accounts, stage=Stage.CLOSED, last_paid_on__isnull=False).values_list(
            "account_id", "last_paid_on"
        )
    )
    paid = dict(
        Payment.objects.filter(case__account_id__in=accounts, case__stage=Stage.CLOSED)
        .values("case__account_id")
        .annotate(total=Sum("amount"))
        .values_list("case__account_id", "total")
        .order_by()
    )
    rows = DelinquentAccount.objects.filter(pk__in=accounts).values_list(
        "pk", "branch_id", "overdue_since", "overdue_amount", "principal", "outstanding_balance"
    )
    return [
        Past(
            pk,
            branch,
            since,
            overdue + paid.get(pk, ZERO),
            cured.get(pk),
            principal or ZERO,
            balance,
            paid.get(pk, ZERO),
        )
        for pk, branch, since, overdue, principal, balance in rows.order_by("pk")
    ]


def snapshot_history(*, accounts: list[int], today: dt.date) -> int:
    """A bucket snapshot of each account for every day of the last six months, as the nightly task would
    have taken it: the account's DPD that day from its overdue date, and current (overdue 0) from the day a
    closed case's last payment cured it. Returns the rows written (a day already taken is left alone)."""
    rows = []
    for past in _pasts(accounts):
        for back in range(SNAPSHOT_DAYS, -1, -1):
            day = today - dt.timedelta(days=back)
            dpd = past.dpd(day)
            rows.append(
                AccountBucketSnapshot(
                    account_id=past.pk,
                    branch_id=past.branch,
                    as_of=day,
                    dpd=dpd,
                    bucket=bucket_for(dpd),
                    overdue_amount=past.owed if dpd else ZERO,
                )
            )
    AccountBucketSnapshot.objects.bulk_create(rows, batch_size=2000, ignore_conflicts=True)
    return len(rows)


def statement_history(*, accounts: list[int], today: dt.date) -> int:
    """A monthly statement of each account for the last six month ends, as core banking would send them:
    a 36-month instalment due and paid while current; once late, the missed instalments due (up to what is
    overdue) and nothing paid, until the month of the payment that cured it. Returns the rows written."""
    month_ends = []
    end = today.replace(day=1) - dt.timedelta(days=1)
    for _ in range(STATEMENT_MONTHS):
        month_ends.append(end)
        end = end.replace(day=1) - dt.timedelta(days=1)
    rows = []
    for past in _pasts(accounts):
        instalment = max((past.principal / 36).quantize(CENT), CENT)
        for period_end in reversed(month_ends):
            dpd = past.dpd(period_end)
            cured_now = past.cured_on is not None and (past.cured_on.year, past.cured_on.month) == (
                period_end.year,
                period_end.month,
            )
            if dpd:
                due, paid = min(past.owed, instalment * (dpd // 30 + 1)), ZERO
            else:
                due, paid = instalment, past.paid if cured_now else instalment
            unpaid_cure = past.paid if past.cured_on is not None and past.cured_on > period_end else ZERO
            rows.append(
                Statement(
                    account_id=past.pk,
                    period_end=period_end,
                    balance=past.balance + unpaid_cure,
                    amount_due=due,
                    amount_paid=paid,
                    dpd=dpd,
                )
            )
    Statement.objects.bulk_create(rows, batch_size=2000, ignore_conflicts=True)
    return len(rows)
