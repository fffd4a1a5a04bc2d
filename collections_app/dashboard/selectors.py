"""Dashboard reads. Every block is one grouped query computed in the database, scoped through
``DelinquentAccount.objects.visible_to`` / ``Case.objects.visible_to``; Python only folds the
handful of grouped rows into the shape the page and the API need. See README, "Dashboard"."""

import datetime as dt
from decimal import Decimal

from django.db import models
from django.db.models import Count, Q, Sum, Value
from django.db.models.fields.json import KT

from collections_app.aging import BUCKET_RANGES, CLASS_RANGES, AgingBucket, LoanClass, local_today, overdue_since_range
from collections_app.dashboard import recovery, roll
from collections_app.dashboard.forms import Filters
from collections_app.dashboard.scope import Scope, cents, rate
from collections_app.models import CaseEvent, Stage, User
from collections_app.rules import ATTEMPT_CAP, QUIET_HOURS, THIRD_PARTY

ZERO = Decimal("0.00")
BUCKETS: tuple[str, ...] = tuple(str(bucket) for _low, _high, bucket in BUCKET_RANGES)
CLASSES: tuple[str, ...] = tuple(str(loan_class) for _low, _high, loan_class in CLASS_RANGES)
COMPLIANCE_RULES: tuple[str, ...] = (QUIET_HOURS, ATTEMPT_CAP, THIRD_PARTY)


def bucket_expression(today: dt.date) -> models.Case:
    """The aging bucket of an account as a SQL CASE on ``overdue_since`` (DPD is never stored)."""
    whens = [
        models.When(Q(**overdue_since_range(low, high, today)), then=Value(str(bucket)))
        for low, high, bucket in BUCKET_RANGES
    ]
    return models.Case(*whens, default=Value(str(AgingBucket.CURRENT)))


def class_expression(today: dt.date) -> models.Case:
    """The five-category class as a SQL CASE; DPD 0 (incl. no or a future ``overdue_since``) is normal."""
    whens = [
        models.When(Q(**overdue_since_range(low, high, today)), then=Value(str(loan_class)))
        for low, high, loan_class in CLASS_RANGES
        if low > 0
    ]
    return models.Case(*whens, default=Value(str(LoanClass.NORMAL)))


def portfolio_blocks(scope: Scope) -> tuple[dict, list[dict], list[dict]]:
    """Portfolio totals, aging buckets and classes of the delinquent accounts (overdue amount > 0)
    as of today, from one query grouped by (bucket, class)."""
    rows = (
        scope.accounts()
        .filter(overdue_amount__gt=0)
        .annotate(dash_bucket=bucket_expression(scope.today), dash_class=class_expression(scope.today))
        .values("dash_bucket", "dash_class")
        .annotate(n=Count("id"), overdue=Sum("overdue_amount"), outstanding=Sum("outstanding_balance"))
        .order_by()
    )
    portfolio = {"accounts": 0, "outstanding_balance": ZERO, "overdue_amount": ZERO}
    aging = {bucket: {"bucket": bucket, "accounts": 0, "overdue_amount": ZERO} for bucket in BUCKETS}
    classes = {name: {"class": name, "accounts": 0, "overdue_amount": ZERO} for name in CLASSES}
    for row in rows:  # at most a dozen (bucket, class) pairs
        portfolio["accounts"] += row["n"]
        portfolio["overdue_amount"] += row["overdue"] or ZERO
        portfolio["outstanding_balance"] += row["outstanding"] or ZERO
        for block, key in ((aging, row["dash_bucket"]), (classes, row["dash_class"])):
            if key in block:
                block[key]["accounts"] += row["n"]
                block[key]["overdue_amount"] += row["overdue"] or ZERO
    for entry in (portfolio, *aging.values(), *classes.values()):
        for key in ("overdue_amount", "outstanding_balance"):
            if key in entry:
                entry[key] = cents(entry[key])
    return portfolio, list(aging.values()), list(classes.values())


def case_blocks(scope: Scope) -> tuple[dict[str, int], dict[int, int]]:
    """Open cases per stage now (``closed`` counts the cases closed during the period), and open cases
    per assigned collector, from one query grouped by (stage, collector)."""
    in_period = Q(closed_at__gte=scope.starts, closed_at__lt=scope.ends)
    rows = (
        scope.cases()
        .filter(~Q(stage=Stage.CLOSED) | in_period)
        .values_list("stage", "assigned_collector_id")
        .annotate(n=Count("id"))
        .order_by()
    )
    stages = dict.fromkeys(Stage.values, 0)
    open_cases: dict[int, int] = {}
    for stage, collector_id, n in rows:  # one row per (stage, collector): a few hundred at most
        if stage in stages:
            stages[stage] += n
        if stage != Stage.CLOSED and collector_id is not None:
            open_cases[collector_id] = open_cases.get(collector_id, 0) + n
    return stages, open_cases


def event_blocks(scope: Scope) -> tuple[dict[str, float | None], list[dict]]:
    """Average days per stage and the compliance table, from one statement over the period's
    ``transition`` and ``refused`` events (``event_kind_time_idx``).

    Average days in a stage: over the stays that ended during the period, i.e. the transitions leaving
    it, each carrying the stay's length (``CaseEvent.stage_seconds``, written by ``case_transition``).
    Compliance: refused actions per actor and rule.
    """
    in_period = Q(scope.in_cases(), created_at__gte=scope.starts, created_at__lt=scope.ends)
    # A UNION ALL of two grouped queries rather than one grouped by both shapes: each part gets its own
    # (small) group estimate, so PostgreSQL hashes instead of sorting ~600k rows to disk at 1M accounts.
    stays = (
        CaseEvent.objects.filter(in_period, kind=CaseEvent.Kind.TRANSITION, stage_seconds__isnull=False)
        .annotate(what=Value("stay"), rule=Value(""))
        .values_list("what", "from_stage", "rule")
        .annotate(n=Count("id"), seconds=Sum("stage_seconds"))
        .order_by()
    )
    refusals = (
        CaseEvent.objects.filter(in_period, kind=CaseEvent.Kind.REFUSED)
        .annotate(what=Value("refused"), rule=KT("payload__rule"))
        .values_list("what", "actor__username", "rule")
        .annotate(n=Count("id"), seconds=Value(0))
        .order_by()
    )
    totals: dict[str, list[int]] = {}
    per_actor: dict[str, dict] = {}
    for what, name, rule, n, seconds in stays.union(refusals, all=True):
        if what == "stay":
            total = totals.setdefault(name, [0, 0])
            total[0] += seconds or 0
            total[1] += n
            continue
        username = name or ""
        entry = per_actor.setdefault(
            username, {"username": username, **dict.fromkeys(COMPLIANCE_RULES, 0), "other": 0, "total": 0}
        )
        key = rule if rule in COMPLIANCE_RULES else "other"
        entry[key] += n
        entry["total"] += n
    stage_days: dict[str, float | None] = {}
    for stage in Stage.values:
        if stage == Stage.CLOSED:
            continue
        seconds, timed = totals.get(stage, (0, 0))
        stage_days[stage] = round(seconds / timed / 86400, 1) if timed else None
    compliance = sorted(per_actor.values(), key=lambda entry: (-entry["total"], entry["username"]))
    return stage_days, compliance


def roll_block(scope: Scope) -> dict:
    """Roll and cure rates between the period's start and end snapshots (README, "Dashboard").

    Roll rate of bucket k: accounts in k at the start that are in a worse bucket (k+1 or beyond) at the
    end ÷ accounts in k at the start. Cure rate: accounts delinquent at the start that are current
    (overdue 0) or gone from the snapshot at the end ÷ accounts delinquent at the start. The matrix
    behind them is history, cached (``collections_app.dashboard.roll``).
    """
    start_day, end_day = roll.snapshot_days(scope)
    if start_day is None or end_day is None:
        return {"available": False, "start": start_day, "end": end_day, "rows": [], "cure_rate": None}
    order = {bucket: index for index, bucket in enumerate(BUCKETS)}
    per_bucket = {bucket: {"bucket": bucket, "accounts": 0, "cured": 0, "rolled": 0} for bucket in BUCKETS}
    for from_bucket, to_bucket, n in roll.roll_matrix(scope, start_day, end_day):
        entry = per_bucket.get(from_bucket)
        if entry is None:
            continue
        entry["accounts"] += n
        if to_bucket == AgingBucket.CURRENT:
            entry["cured"] += n
        elif order.get(to_bucket, -1) > order[from_bucket]:
            entry["rolled"] += n
    rows = []
    for index, entry in enumerate(per_bucket.values()):
        last = index == len(BUCKETS) - 1
        entry["to_bucket"] = None if last else BUCKETS[index + 1]
        entry["roll_rate"] = None if last else rate(entry["rolled"], entry["accounts"])
        entry["cure_rate"] = rate(entry["cured"], entry["accounts"])
        rows.append(entry)
    delinquent = sum(entry["accounts"] for entry in rows)
    cured = sum(entry["cured"] for entry in rows)
    return {
        "available": True,
        "start": start_day,
        "end": end_day,
        "rows": rows,
        "delinquent_at_start": delinquent,
        "cured": cured,
        "cure_rate": rate(cured, delinquent),
    }


def dashboard(*, user: User, filters: Filters) -> dict:
    """Every block of the dashboard, in a constant number of queries."""
    scope = Scope(user=user, filters=filters, today=local_today())
    portfolio, aging, classification = portfolio_blocks(scope)
    stages, open_cases = case_blocks(scope)
    stage_days, compliance = event_blocks(scope)
    promises, promises_by_creator = recovery.promise_blocks(scope)
    recovered, recovered_by_collector = recovery.payment_blocks(scope)
    return {
        "as_of": scope.today,
        "filters": filters,
        "portfolio": portfolio,
        "aging": aging,
        "classification": classification,
        "stages": stages,
        "stage_days": stage_days,
        "roll": roll_block(scope),
        "compliance": compliance,
        "recovery": recovered,
        "promises": promises,
        "plans": recovery.plan_block(scope),
        "collectors": recovery.collector_block(
            scope, open_cases=open_cases, promises=promises_by_creator, recovered=recovered_by_collector
        ),
    }
