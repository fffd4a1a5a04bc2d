"""Dashboard reads. Every block is one grouped query computed in the database, scoped through
``DelinquentAccount.objects.visible_to`` / ``Case.objects.visible_to``; Python only folds the
handful of grouped rows into the shape the page and the API need. See README, "Dashboard"."""

import datetime as dt
from decimal import Decimal

from django.db import models
from django.db.models import Avg, Count, DurationField, ExpressionWrapper, F, Max, OuterRef, Q, Subquery, Sum, Value
from django.db.models.fields.json import KT
from django.db.models.functions import Coalesce

from collections_app.aging import BUCKET_RANGES, CLASS_RANGES, AgingBucket, LoanClass, local_today, overdue_since_range
from collections_app.dashboard import recovery
from collections_app.dashboard.forms import Filters
from collections_app.dashboard.scope import Scope, cents, rate
from collections_app.models import AccountBucketSnapshot, CaseEvent, Stage, User
from collections_app.rules import ATTEMPT_CAP, QUIET_HOURS, THIRD_PARTY

ZERO = Decimal("0.00")
BUCKETS: tuple[str, ...] = tuple(str(bucket) for _low, _high, bucket in BUCKET_RANGES)
CLASSES: tuple[str, ...] = tuple(str(loan_class) for _low, _high, loan_class in CLASS_RANGES)
COMPLIANCE_RULES: tuple[str, ...] = (QUIET_HOURS, ATTEMPT_CAP, THIRD_PARTY)
# A missed night is tolerated: the period start uses the latest snapshot at most this many days earlier.
SNAPSHOT_START_TOLERANCE_DAYS = 3


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


def stage_counts(scope: Scope) -> dict[str, int]:
    """Open cases per stage now; ``closed`` counts the cases closed during the period."""
    in_period = Q(closed_at__gte=scope.starts, closed_at__lt=scope.ends)
    rows = dict(
        scope.cases().filter(~Q(stage=Stage.CLOSED) | in_period).values_list("stage").annotate(n=Count("id")).order_by()
    )
    return {stage: rows.get(stage, 0) for stage in Stage.values}


def stage_average_days(scope: Scope) -> dict[str, float | None]:
    """Average days a case stayed in each stage, over the stays that ended during the period.

    A stay ends with a ``transition`` event leaving the stage; it began at the latest ``opened`` or
    ``transition`` event of the same case that entered that stage before it.
    """
    entered = (
        CaseEvent.objects.filter(
            case_id=OuterRef("case_id"),
            to_stage=OuterRef("from_stage"),
            kind__in=(CaseEvent.Kind.OPENED, CaseEvent.Kind.TRANSITION),
            created_at__lte=OuterRef("created_at"),
        )
        .exclude(pk=OuterRef("pk"))
        .order_by("-created_at", "-id")
        .values("created_at")[:1]
    )
    rows = (
        CaseEvent.objects.filter(
            kind=CaseEvent.Kind.TRANSITION,
            case__in=scope.cases().values("pk"),
            created_at__gte=scope.starts,
            created_at__lt=scope.ends,
        )
        .exclude(from_stage="")
        .annotate(entered_at=Subquery(entered))
        .filter(entered_at__isnull=False)
        .values("from_stage")
        .annotate(stay=Avg(ExpressionWrapper(F("created_at") - F("entered_at"), output_field=DurationField())))
        .order_by()
    )
    averages = {row["from_stage"]: row["stay"] for row in rows}
    result: dict[str, float | None] = {}
    for stage in Stage.values:
        if stage == Stage.CLOSED:
            continue
        stay = averages.get(stage)
        result[stage] = round(stay.total_seconds() / 86400, 1) if stay is not None else None
    return result


def snapshot_days(scope: Scope) -> tuple[dt.date | None, dt.date | None]:
    """The snapshot days standing for the period's start and end, or None where history is missing."""
    date_from, date_to = scope.filters.date_from, scope.filters.date_to
    found = AccountBucketSnapshot.objects.aggregate(
        start=Max(
            "as_of",
            filter=Q(as_of__lte=date_from, as_of__gte=date_from - dt.timedelta(days=SNAPSHOT_START_TOLERANCE_DAYS)),
        ),
        end=Max("as_of", filter=Q(as_of__gt=date_from, as_of__lte=date_to)),
    )
    return found["start"], found["end"]


def roll_block(scope: Scope) -> dict:
    """Roll and cure rates between the period's start and end snapshots (README, "Dashboard").

    Roll rate of bucket k: accounts in k at the start that are in a worse bucket (k+1 or beyond) at the
    end ÷ accounts in k at the start. Cure rate: accounts delinquent at the start that are current
    (overdue 0) or gone from the snapshot at the end ÷ accounts delinquent at the start.
    """
    start_day, end_day = snapshot_days(scope)
    if start_day is None or end_day is None:
        return {"available": False, "start": start_day, "end": end_day, "rows": [], "cure_rate": None}
    end_bucket = AccountBucketSnapshot.objects.filter(account_id=OuterRef("account_id"), as_of=end_day).values(
        "bucket"
    )[:1]
    grouped = (
        scope.snapshots()
        .filter(as_of=start_day)
        .exclude(bucket=AgingBucket.CURRENT)
        .annotate(end_bucket=Coalesce(Subquery(end_bucket), Value(str(AgingBucket.CURRENT))))
        .values("bucket", "end_bucket")
        .annotate(n=Count("id"))
        .order_by()
    )
    order = {bucket: index for index, bucket in enumerate(BUCKETS)}
    per_bucket = {bucket: {"bucket": bucket, "accounts": 0, "cured": 0, "rolled": 0} for bucket in BUCKETS}
    for row in grouped:
        entry = per_bucket.get(row["bucket"])
        if entry is None:
            continue
        entry["accounts"] += row["n"]
        if row["end_bucket"] == AgingBucket.CURRENT:
            entry["cured"] += row["n"]
        elif order.get(row["end_bucket"], -1) > order[row["bucket"]]:
            entry["rolled"] += row["n"]
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


def compliance_block(scope: Scope) -> list[dict]:
    """Refused actions (``refused`` case events) per actor and rule during the period."""
    rows = (
        CaseEvent.objects.filter(
            kind=CaseEvent.Kind.REFUSED,
            case__in=scope.cases().values("pk"),
            created_at__gte=scope.starts,
            created_at__lt=scope.ends,
        )
        .values("actor__username", rule=KT("payload__rule"))
        .annotate(n=Count("id"))
        .order_by()
    )
    per_actor: dict[str, dict] = {}
    for row in rows:
        username = row["actor__username"] or ""
        entry = per_actor.setdefault(
            username, {"username": username, **dict.fromkeys(COMPLIANCE_RULES, 0), "other": 0, "total": 0}
        )
        key = row["rule"] if row["rule"] in COMPLIANCE_RULES else "other"
        entry[key] += row["n"]
        entry["total"] += row["n"]
    return sorted(per_actor.values(), key=lambda entry: (-entry["total"], entry["username"]))


def dashboard(*, user: User, filters: Filters) -> dict:
    """Every block of the dashboard, in a constant number of queries."""
    scope = Scope(user=user, filters=filters, today=local_today())
    portfolio, aging, classification = portfolio_blocks(scope)
    return {
        "as_of": scope.today,
        "filters": filters,
        "portfolio": portfolio,
        "aging": aging,
        "classification": classification,
        "stages": stage_counts(scope),
        "stage_days": stage_average_days(scope),
        "roll": roll_block(scope),
        "compliance": compliance_block(scope),
        "recovery": recovery.recovery_block(scope),
        "promises": recovery.promise_block(scope),
        "plans": recovery.plan_block(scope),
        "collectors": recovery.collector_block(scope),
    }
