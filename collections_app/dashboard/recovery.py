"""Dashboard blocks over the field work: recovery, promises, plans and the collector scorecard.

Each block is one grouped query (or a fixed few) over the scoped cases; see README, "Dashboard"."""

from decimal import Decimal

from django.db.models import Count, DecimalField, Exists, Func, OuterRef, Q, Subquery, Sum, Value
from django.db.models.functions import TruncWeek

from collections_app.dashboard.scope import Scope, cents, rate
from collections_app.models import Role, User
from repayment.models import Payment, PromiseToPay, RepaymentPlan
from visits.models import ContactAttempt, Visit

ZERO = Decimal("0.00")
MONEY = DecimalField(max_digits=18, decimal_places=2)
RESOLVED_PROMISES = (
    PromiseToPay.Status.KEPT,
    PromiseToPay.Status.PARTIALLY_KEPT,
    PromiseToPay.Status.BROKEN,
)


def _in_period_dates(scope: Scope, field: str) -> Q:
    return Q(**{f"{field}__gte": scope.filters.date_from, f"{field}__lte": scope.filters.date_to})


def _in_period_times(scope: Scope, field: str) -> Q:
    return Q(**{f"{field}__gte": scope.starts, f"{field}__lt": scope.ends})


def payment_blocks(scope: Scope) -> tuple[dict, dict[int, Decimal]]:
    """Payments dated in the period on the scoped cases, by week, and the recovery rate: recovered ÷ the
    overdue amount at opening of the cases paid into during the period; and the amount recovered per
    assigned collector. One query grouped by (week, collector), the base as a scalar subquery."""
    in_period = _in_period_dates(scope, "paid_on")
    paid_into = Payment.objects.filter(in_period, case_id=OuterRef("pk"))
    base = (
        scope.cases()
        .filter(Exists(paid_into))
        .order_by()
        .annotate(total=Func("overdue_amount_at_open", function="SUM", output_field=MONEY))
        .values("total")
    )
    rows = (
        Payment.objects.filter(in_period, scope.in_cases())
        .annotate(week=TruncWeek("paid_on"), base=Subquery(base, output_field=MONEY))
        .values("week", "case__assigned_collector_id", "base")
        .annotate(total=Sum("amount"), n=Count("id"))
        .order_by("week")
    )
    weeks: dict = {}
    per_collector: dict[int, Decimal] = {}
    base_total = ZERO
    for row in rows:  # one row per (week, collector)
        week = weeks.setdefault(row["week"], {"week": row["week"], "recovered_amount": ZERO, "payments": 0})
        week["recovered_amount"] += cents(row["total"])
        week["payments"] += row["n"]
        collector_id = row["case__assigned_collector_id"]
        if collector_id is not None:
            per_collector[collector_id] = per_collector.get(collector_id, ZERO) + cents(row["total"])
        base_total = cents(row["base"])
    recovered = sum((week["recovered_amount"] for week in weeks.values()), ZERO)
    block = {
        "recovered_amount": recovered,
        "overdue_at_open": base_total,
        "recovery_rate": rate(recovered, base_total),
        "weeks": list(weeks.values()),
    }
    return block, per_collector


def promise_blocks(scope: Scope) -> tuple[dict, dict[int, dict]]:
    """Promises whose due date falls in the period. ``due`` counts those with an outcome (kept, partially
    kept, broken); ``pending`` ones are still inside their grace days; cancelled ones are left out.
    With it, per creator: promises recorded in the period, and their due and kept ones. One query
    grouped by creator."""
    created = _in_period_times(scope, "created_at")
    due = _in_period_dates(scope, "due_date")
    rows = (
        PromiseToPay.objects.filter(created | due, scope.in_cases())
        .values("created_by_id")
        .annotate(
            made=Count("id", filter=created),
            due=Count("id", filter=due & Q(status__in=RESOLVED_PROMISES)),
            kept=Count("id", filter=due & Q(status=PromiseToPay.Status.KEPT)),
            partially_kept=Count("id", filter=due & Q(status=PromiseToPay.Status.PARTIALLY_KEPT)),
            broken=Count("id", filter=due & Q(status=PromiseToPay.Status.BROKEN)),
            pending=Count("id", filter=due & Q(status=PromiseToPay.Status.PENDING)),
        )
        .order_by()
    )
    counts = dict.fromkeys(("due", "kept", "partially_kept", "broken", "pending"), 0)
    per_creator: dict[int, dict] = {}
    for row in rows:
        for key in counts:
            counts[key] += row[key]
        if row["created_by_id"] is not None:
            per_creator[row["created_by_id"]] = row
    counts["kept_rate"] = rate(counts["kept"], counts["due"])
    return counts, per_creator


def plan_block(scope: Scope) -> dict:
    """Plans active now, and plans completed or defaulted during the period."""
    ended = _in_period_times(scope, "closed_at")
    return RepaymentPlan.objects.filter(case__in=scope.cases().values("pk")).aggregate(
        active=Count("id", filter=Q(status=RepaymentPlan.Status.ACTIVE)),
        completed=Count("id", filter=Q(status=RepaymentPlan.Status.COMPLETED) & ended),
        defaulted=Count("id", filter=Q(status=RepaymentPlan.Status.DEFAULTED) & ended),
    )


def scope_collectors(scope: Scope):
    """The collectors the user may see: a supervisor's team members; everyone for a manager."""
    qs = User.objects.filter(role=Role.COLLECTOR, is_active=True)
    if not scope.user.sees_everything:
        qs = qs.filter(team__supervisor=scope.user)
    if scope.filters.branch is not None:
        qs = qs.filter(team__branch_id=scope.filters.branch.pk)
    if scope.filters.team is not None:
        qs = qs.filter(team_id=scope.filters.team.pk)
    return qs.order_by("username")


def collector_block(
    scope: Scope, *, open_cases: dict[int, int], promises: dict[int, dict], recovered: dict[int, Decimal]
) -> list[dict]:
    """A balanced scorecard per collector, never recovered amount alone: open cases assigned now; visits
    checked in and contact attempts made in the period; promises recorded in the period; kept rate of
    their promises due in the period; payments dated in the period on the cases assigned to them.

    Open cases, promises and payments come grouped from the stage, promise and payment blocks; visits
    and contacts are one ``UNION ALL`` of two grouped queries."""
    collectors = list(scope_collectors(scope).values("pk", "username", "first_name", "last_name"))
    ids = [c["pk"] for c in collectors]
    visits = (
        Visit.objects.filter(_in_period_times(scope, "checked_in_at"), scope.in_cases(), collector_id__in=ids)
        .annotate(what=Value("visits"))
        .values_list("what", "collector_id")
        .annotate(n=Count("id"))
        .order_by()
    )
    contacts = (
        ContactAttempt.objects.filter(_in_period_times(scope, "attempted_at"), scope.in_cases(), actor_id__in=ids)
        .annotate(what=Value("contacts"))
        .values_list("what", "actor_id")
        .annotate(n=Count("id"))
        .order_by()
    )
    field_work = {(what, pk): n for what, pk, n in visits.union(contacts, all=True)} if ids else {}
    rows = []
    for collector in collectors:
        pk = collector["pk"]
        made = promises.get(pk, {})
        rows.append(
            {
                "username": collector["username"],
                "name": " ".join(filter(None, (collector["first_name"], collector["last_name"]))),
                "cases": open_cases.get(pk, 0),
                "visits": field_work.get(("visits", pk), 0),
                "contacts": field_work.get(("contacts", pk), 0),
                "promises": made.get("made", 0),
                "promises_due": made.get("due", 0),
                "kept_rate": rate(made.get("kept", 0), made.get("due", 0)),
                "recovered_amount": cents(recovered.get(pk)),
            }
        )
    return rows
