"""The dashboard's aggregate tables: what they hold, how they are written, how they are read.

**Day tallies** (``DayTally``): visits, contact attempts, payments, stage stays, case closures and plan
ends (completed or defaulted) summed per local day (``TIME_ZONE``), team and collector. Each of those
facts has a "recorded" column set once, when the row is written or the plan ends (``created_at`` /
``recorded_at`` / ``closed_at``), and never changes after. ``day_tally_roll`` adds to the tally every fact recorded in
``[previous watermark, new watermark)`` and moves the watermark (``TallyMark`` "day") in the same
transaction, so every fact is summed exactly once. A reader takes the tally rows of the period's days
and adds, live, the facts recorded since the watermark: the result is what a scan of every fact would
give, at the cost of the last hour's rows. The new watermark stays ``ROLL_MARGIN`` behind the clock so
a transaction still open when the roll runs (its rows carry an earlier time but are not yet visible)
is never skipped.

**State tally** (``StateTally``): the portfolio by branch, bucket and class, open cases by team, stage
and collector, and active plans by team, as of the moment it was taken (``state_tally_refresh``, every
few minutes and after each import). Readers use it while it is from today and younger than
``DASHBOARD_STATE_MAX_AGE_SECONDS``; otherwise they compute the same numbers live.

Both tallies attribute a fact to the case's team (and, for payments, its assigned collector) at the
time it is summed, and use the project's ``TIME_ZONE`` days; a user working in another time zone gets
live numbers.
"""

import datetime as dt
import logging
from collections import defaultdict
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.db.models import (
    Case,
    CharField,
    Count,
    DateField,
    DecimalField,
    F,
    Q,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Cast, Coalesce, Concat, TruncDate, TruncWeek
from django.utils import timezone

from collections_app.models import CaseEvent, Stage
from collections_app.services.audit import audit_log
from dashboard.live import active_plan_rows, open_case_rows, portfolio_rows
from dashboard.models import DayTally, StateTally, TallyMark

logger = logging.getLogger(__name__)

DAY_MARK = "day"
ROLL_MARGIN = dt.timedelta(minutes=10)
EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
MONEY = DecimalField(max_digits=20, decimal_places=2)
ZERO = Decimal("0.00")
Metric = DayTally.Metric


def _tz():
    return timezone.get_default_timezone()


def tallies_apply() -> bool:
    """Tally days are ``TIME_ZONE`` days: a request in another time zone reads live."""
    return timezone.get_current_timezone_name() == timezone.get_default_timezone_name()


# --- Facts ---------------------------------------------------------------------------------------------


def _facts():
    """Per metric: the fact rows, their business day and recorded time, team, collector, key and amount.

    Imported lazily: the fact models live in apps that import this one."""
    from repayment.models import Payment, RepaymentPlan
    from visits.models import ContactAttempt, Visit

    return {
        Metric.STAY: {
            "qs": CaseEvent.objects.filter(kind=CaseEvent.Kind.TRANSITION, stage_seconds__isnull=False),
            "day": TruncDate("created_at", tzinfo=_tz()),
            "time": "created_at",
            "recorded": "created_at",
            "collector": Value(0),
            "key": F("from_stage"),
            "amount": Sum("stage_seconds", output_field=MONEY),
        },
        Metric.VISIT: {
            "qs": Visit.objects.all(),
            "day": TruncDate("checked_in_at", tzinfo=_tz()),
            "time": "checked_in_at",
            "recorded": "created_at",
            "collector": F("collector_id"),
            "key": Value(""),
            "amount": Value(ZERO, output_field=MONEY),
        },
        Metric.CONTACT: {
            "qs": ContactAttempt.objects.all(),
            "day": TruncDate("attempted_at", tzinfo=_tz()),
            "time": "attempted_at",
            "recorded": "created_at",
            "collector": Coalesce("actor_id", 0),
            "key": Value(""),
            "amount": Value(ZERO, output_field=MONEY),
        },
        Metric.PAYMENT: {
            "qs": Payment.objects.all(),
            "day": F("paid_on"),
            "date": "paid_on",
            "recorded": "recorded_at",
            "collector": Coalesce("case__assigned_collector_id", 0),
            "key": Value(""),
            "amount": Sum("amount", output_field=MONEY),
        },
        # A case closed, reopened and closed again is two closures: the transition events, which never
        # change, not the case's current closed_at, which a reopening clears.
        Metric.CLOSURE: {
            "qs": CaseEvent.objects.filter(kind=CaseEvent.Kind.TRANSITION, to_stage=Stage.CLOSED),
            "day": TruncDate("created_at", tzinfo=_tz()),
            "time": "created_at",
            "recorded": "created_at",
            "collector": Value(0),
            "key": Value(""),
            "amount": Value(ZERO, output_field=MONEY),
        },
        # Completed and defaulted are final: a plan leaves active once, stamped closed_at at that moment.
        Metric.PLAN_END: {
            "qs": RepaymentPlan.objects.filter(
                status__in=[RepaymentPlan.Status.COMPLETED, RepaymentPlan.Status.DEFAULTED]
            ),
            "day": TruncDate("closed_at", tzinfo=_tz()),
            "time": "closed_at",
            "recorded": "closed_at",
            "collector": Value(0),
            "key": F("status"),
            "amount": Value(ZERO, output_field=MONEY),
        },
    }


def fact_rows(metric: str, where: Q):
    """``(day, team, collector, key, n, amount)`` of one metric's facts matching ``where``, grouped."""
    fact = _facts()[metric]
    return (
        fact["qs"]
        .filter(where)
        .annotate(
            t_day=fact["day"],
            t_team=F("case__team_id"),
            t_collector=fact["collector"],
            t_key=fact["key"],
        )
        .values_list("t_day", "t_team", "t_collector", "t_key")
        .annotate(n=Count("id"), total=fact["amount"])
        .order_by()
    )


def in_days(metric: str, date_from: dt.date, date_to: dt.date) -> Q:
    """The facts whose business day is in ``[date_from, date_to]``, days of the current time zone (the
    project's own whenever tallies are read)."""
    fact = _facts()[metric]
    if "date" in fact:
        return Q(**{f"{fact['date']}__gte": date_from, f"{fact['date']}__lte": date_to})
    starts = timezone.make_aware(dt.datetime.combine(date_from, dt.time.min))
    ends = timezone.make_aware(dt.datetime.combine(date_to + dt.timedelta(days=1), dt.time.min))
    return Q(**{f"{fact['time']}__gte": starts, f"{fact['time']}__lt": ends})


def recorded_since(metric: str, since: dt.datetime | None, before: dt.datetime | None = None) -> Q:
    recorded = _facts()[metric]["recorded"]
    where = Q()
    if since is not None:
        where &= Q(**{f"{recorded}__gte": since})
    if before is not None:
        where &= Q(**{f"{recorded}__lt": before})
    return where


# --- Writers -------------------------------------------------------------------------------------------


def _mark(name: str) -> TallyMark | None:
    return TallyMark.objects.select_for_update().filter(name=name).first()


@transaction.atomic
def day_tally_roll(*, now: dt.datetime | None = None) -> dict[str, int]:
    """Add the facts recorded since the last roll to ``DayTally`` and move the watermark; returns the
    facts added per metric. Runs are serialised on the watermark row: a second concurrent run waits,
    then finds nothing new to add."""
    now = now or timezone.now()
    upto = now - ROLL_MARGIN
    TallyMark.objects.get_or_create(name=DAY_MARK, defaults={"upto": EPOCH, "rolled_at": now})
    mark = _mark(DAY_MARK)
    since = mark.upto
    if upto <= since:
        return {}
    added: dict[str, int] = {}
    for metric in Metric.values:
        groups = {
            (day, team, collector, key or ""): (n, total or ZERO)
            for day, team, collector, key, n, total in fact_rows(metric, recorded_since(metric, since, upto))
        }
        if not groups:
            continue
        added[metric] = sum(n for n, _total in groups.values())
        existing = DayTally.objects.filter(metric=metric, day__in={key[0] for key in groups}).values_list(
            "day", "team_id", "collector_id", "key", "n", "amount"
        )
        for day, team, collector, key, n, amount in existing:
            found = groups.get((day, team, collector, key))
            if found is not None:
                groups[(day, team, collector, key)] = (found[0] + n, found[1] + amount)
        DayTally.objects.bulk_create(
            [
                DayTally(metric=metric, day=day, team_id=team, collector_id=collector, key=key, n=n, amount=total)
                for (day, team, collector, key), (n, total) in groups.items()
            ],
            batch_size=2000,
            update_conflicts=True,
            unique_fields=["day", "metric", "team_id", "collector_id", "key"],
            update_fields=["n", "amount"],
        )
    TallyMark.objects.filter(name=DAY_MARK).update(upto=upto, rolled_at=now)
    audit_log(
        actor=None,
        action="dashboard.tally.roll",
        object_type="collections_app.daytally",
        changes={"from": since.isoformat(), "upto": upto.isoformat(), "facts": added},
    )
    return added


@transaction.atomic
def state_tally_refresh(*, now: dt.datetime | None = None) -> int:
    """Replace the state tally with the current portfolio, open cases and active plans; returns the rows
    written. Readers see the old rows or the new ones, never a mix (one transaction)."""
    now = now or timezone.now()
    today = timezone.localtime(now, _tz()).date()
    rows = [
        StateTally(
            kind=StateTally.Kind.PORTFOLIO,
            branch_id=branch,
            key=bucket,
            key2=loan_class,
            n=n,
            amount=overdue or ZERO,
            amount2=outstanding or ZERO,
            taken_at=now,
            as_of=today,
        )
        for branch, bucket, loan_class, n, overdue, outstanding in portfolio_rows(None, today)
    ]
    rows += [
        StateTally(
            kind=StateTally.Kind.OPEN_CASES,
            team_id=team,
            collector_id=collector or 0,
            key=stage,
            n=n,
            taken_at=now,
            as_of=today,
        )
        for team, stage, collector, n in open_case_rows(None)
    ]
    rows += [
        StateTally(kind=StateTally.Kind.ACTIVE_PLANS, team_id=team, n=n, taken_at=now, as_of=today)
        for team, _kind, _collector, n in active_plan_rows(None)
    ]
    StateTally.objects.all().delete()
    StateTally.objects.bulk_create(rows, batch_size=2000)
    audit_log(
        actor=None,
        action="dashboard.tally.state",
        object_type="collections_app.statetally",
        changes={"taken_at": now.isoformat(), "rows": len(rows)},
    )
    return len(rows)


# --- Readers -------------------------------------------------------------------------------------------


def state_is_fresh(taken_at: dt.datetime | None, today: dt.date) -> bool:
    if taken_at is None or not tallies_apply():
        return False
    max_age = dt.timedelta(seconds=settings.DASHBOARD_STATE_MAX_AGE_SECONDS)
    return timezone.localtime(taken_at, _tz()).date() == today and timezone.now() - taken_at <= max_age


def _sums() -> defaultdict:
    return defaultdict(lambda: [0, ZERO])


def _fold(rows, extra_metrics: tuple[str, ...] = ()) -> dict[str, dict]:
    """Rows ``(metric, key, collector, week, n, amount)`` into, per metric, ``[count, amount]`` in all,
    by key (the stage left, for stays; the end, for plans), by collector and by week (payments)."""
    out = {
        metric: {"total": [0, ZERO], "key": _sums(), "collector": _sums(), "week": _sums()}
        for metric in (*Metric.values, *extra_metrics)
    }
    for metric, key, collector, week, n, amount in rows:  # a few hundred grouped rows
        amount = Decimal(amount or 0)
        out[metric]["total"][0] += n
        out[metric]["total"][1] += amount
        for name, value in (("key", key), ("collector", collector), ("week", _as_date(week))):
            if value in (None, "", 0):
                continue
            entry = out[metric][name][value]
            entry[0] += n
            entry[1] += amount
    return out


def _as_date(value):
    # SQLite hands a truncated date back as text, PostgreSQL a date or (from DATE_TRUNC) a datetime.
    if isinstance(value, str):
        return dt.date.fromisoformat(value[:10])
    if isinstance(value, dt.datetime):
        return value.date()
    return value


def _no_date():
    return Cast(Value(None), DateField())


def period_parts(scope, upto: dt.datetime | None, *, metrics: tuple = (), prefix: str = "") -> list:
    """The parts of ``period_facts``'s statement for the scope's period (all metrics, payments by week), or
    for ``metrics`` only, labelled ``prefix + metric``, without weeks (the previous period's totals)."""
    date_from, date_to = scope.filters.date_from, scope.filters.date_to
    use_tally = scope.reads_tallies and upto is not None
    weeks = not prefix
    parts = []
    if use_tally:
        tally = DayTally.objects.filter(day__gte=date_from, day__lte=date_to)
        if metrics:
            tally = tally.filter(metric__in=metrics)
        teams = scope.teams()
        if teams is not None:
            tally = tally.filter(team_id__in=teams.values("pk"))
        week = Case(When(metric=Metric.PAYMENT, then=TruncWeek("day")), default=_no_date(), output_field=DateField())
        label = Concat(Value(prefix), F("metric"), output_field=CharField()) if prefix else F("metric")
        parts.append(
            tally.annotate(
                u_metric=label, u_key=F("key"), u_collector=F("collector_id"), u_week=week if weeks else _no_date()
            )
            .values_list("u_metric", "u_key", "u_collector", "u_week")
            .annotate(u_n=Sum("n"), u_amount=Sum("amount"))
            .order_by()
        )
    for metric, fact in _facts().items():
        if metrics and metric not in metrics:
            continue
        where = in_days(metric, date_from, date_to)
        if use_tally:
            where &= Q(**{f"{fact['recorded']}__gte": upto})
        payment_weeks = weeks and metric == Metric.PAYMENT
        week = TruncWeek(fact["day"], output_field=DateField()) if payment_weeks else _no_date()
        parts.append(
            fact["qs"]
            .filter(where, scope.in_cases())
            .annotate(
                u_metric=Value(prefix + str(metric), output_field=CharField()),
                u_key=fact["key"],
                u_collector=fact["collector"],
                u_week=week,
            )
            .values_list("u_metric", "u_key", "u_collector", "u_week")
            .annotate(u_n=Count("id"), u_amount=fact["amount"])
            .order_by()
        )
    return parts


def period_facts(scope, upto: dt.datetime | None, *, extra: tuple = (), extra_metrics: tuple = ()) -> dict[str, dict]:
    """Stays, visits, contact attempts, payments, closures and plan ends of the scope's cases in the
    period, folded by
    ``_fold``, from one statement: the tally rows of the period's days ``UNION ALL`` the facts recorded
    since the watermark ``upto``, read live (a literal, so the planner walks the "recorded" indexes).
    A scope that does not read tallies, or no watermark yet, reads every fact live."""
    parts = period_parts(scope, upto)
    # Facts with no tally (``extra``, in the same row shape, e.g. ratings and complaints) are read live, in the
    # same statement.
    parts.extend(extra)
    first, *rest = parts
    return _fold(first.union(*rest, all=True), extra_metrics)
