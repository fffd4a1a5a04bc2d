"""Months of history for seed_demo: each walked demo case is spread back over the last six months, and
every demo account gets a daily bucket snapshot, so that the dashboard's trends, stays, roll and cure rates
and its previous-period comparison have something to show. Deterministic for ``rng``.

The cases were walked through the services (events, audit rows) a moment ago; this moves their moments
into the past inside the same transaction, before the case chains are sealed on commit, so every chain
link covers the back-dated time. A stage event keeps its order; a calling, preparation or visit event
moves into the stay of the stage it belongs to; a payment or promise into the stay it was written in,
or just before the closure.
"""

import datetime as dt
import random
from decimal import Decimal

from django.db.models import Sum
from django.utils import timezone

from collections_app.aging import bucket_for, days_past_due
from collections_app.models import AccountBucketSnapshot, Case, CaseEvent, DelinquentAccount, Stage
from repayment.models import Payment, PromiseToPay
from visits.models import ContactAttempt, Visit

HISTORY_DAYS = 180
SNAPSHOT_DAYS = HISTORY_DAYS + 5
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
    _apply(case, events, stage_events, moments)


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


def _apply(case: Case, events: list[CaseEvent], stage_events: list[CaseEvent], moments: dict) -> None:
    for event in events:
        event.created_at = moments[event.pk]
    CaseEvent.objects.bulk_update(events, ["created_at", "stage_seconds"])
    opened = moments[stage_events[0].pk]
    closed = moments[stage_events[-1].pk] if case.stage == Stage.CLOSED else None
    Case.objects.filter(pk=case.pk).update(opened_at=opened, closed_at=closed)
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


def snapshot_history(*, accounts: list[int], today: dt.date) -> int:
    """A bucket snapshot of each account for every day of the last six months, as the nightly task would
    have taken it: the account's DPD that day from its overdue date, and current (overdue 0) from the day a
    closed case's last payment cured it. Returns the rows added (a day already taken is left alone)."""
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
    rows = []
    for pk, branch, overdue, since in DelinquentAccount.objects.filter(pk__in=accounts).values_list(
        "pk", "branch_id", "overdue_amount", "overdue_since"
    ):
        cured_on = cured.get(pk)
        owed = overdue + paid.get(pk, ZERO)
        for back in range(SNAPSHOT_DAYS, -1, -1):
            day = today - dt.timedelta(days=back)
            dpd = 0 if cured_on is not None and day >= cured_on else days_past_due(since, owed, day)
            late = dpd > 0
            rows.append(
                AccountBucketSnapshot(
                    account_id=pk,
                    branch_id=branch,
                    as_of=day,
                    dpd=dpd,
                    bucket=bucket_for(dpd),
                    overdue_amount=owed if late else ZERO,
                )
            )
    AccountBucketSnapshot.objects.bulk_create(rows, batch_size=2000, ignore_conflicts=True)
    return len(rows)
