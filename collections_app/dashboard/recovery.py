"""Dashboard blocks over the field work: recovery, promises, plans and the collector scorecard.

Each block is one grouped query (or a fixed few) over the scoped cases; see README, "Dashboard"."""

from decimal import Decimal

from django.db.models import Count, Exists, OuterRef, Q, Sum
from django.db.models.functions import TruncWeek

from collections_app.dashboard.scope import Scope, cents, rate
from collections_app.models import Role, User
from repayment.models import Payment, PromiseToPay, RepaymentPlan
from visits.models import ContactAttempt, Visit

ZERO = Decimal("0.00")
RESOLVED_PROMISES = (
    PromiseToPay.Status.KEPT,
    PromiseToPay.Status.PARTIALLY_KEPT,
    PromiseToPay.Status.BROKEN,
)


def _in_period_dates(scope: Scope, field: str) -> Q:
    return Q(**{f"{field}__gte": scope.filters.date_from, f"{field}__lte": scope.filters.date_to})


def _in_period_times(scope: Scope, field: str) -> Q:
    return Q(**{f"{field}__gte": scope.starts, f"{field}__lt": scope.ends})


def recovery_block(scope: Scope) -> dict:
    """Payments dated in the period on the scoped cases, by week, and the recovery rate: recovered ÷ the
    overdue amount at opening of the cases paid into during the period."""
    payments = Payment.objects.filter(_in_period_dates(scope, "paid_on"), case__in=scope.cases().values("pk"))
    weeks = [
        {"week": row["week"], "recovered_amount": cents(row["total"]), "payments": row["n"]}
        for row in payments.annotate(week=TruncWeek("paid_on"))
        .values("week")
        .annotate(total=Sum("amount"), n=Count("id"))
        .order_by("week")
    ]
    recovered = sum((week["recovered_amount"] for week in weeks), ZERO)
    paid_into = Payment.objects.filter(_in_period_dates(scope, "paid_on"), case_id=OuterRef("pk"))
    base = cents(scope.cases().filter(Exists(paid_into)).aggregate(total=Sum("overdue_amount_at_open"))["total"])
    return {
        "recovered_amount": recovered,
        "overdue_at_open": base,
        "recovery_rate": rate(recovered, base),
        "weeks": weeks,
    }


def promise_block(scope: Scope) -> dict:
    """Promises whose due date falls in the period. ``due`` counts those with an outcome (kept, partially
    kept, broken); ``pending`` ones are still inside their grace days; cancelled ones are left out."""
    counts = PromiseToPay.objects.filter(
        _in_period_dates(scope, "due_date"), case__in=scope.cases().values("pk")
    ).aggregate(
        due=Count("id", filter=Q(status__in=RESOLVED_PROMISES)),
        kept=Count("id", filter=Q(status=PromiseToPay.Status.KEPT)),
        partially_kept=Count("id", filter=Q(status=PromiseToPay.Status.PARTIALLY_KEPT)),
        broken=Count("id", filter=Q(status=PromiseToPay.Status.BROKEN)),
        pending=Count("id", filter=Q(status=PromiseToPay.Status.PENDING)),
    )
    counts["kept_rate"] = rate(counts["kept"], counts["due"])
    return counts


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


def _grouped(queryset, key: str, **aggregates) -> dict:
    return {row[key]: row for row in queryset.values(key).annotate(**aggregates).order_by()}


def collector_block(scope: Scope) -> list[dict]:
    """A balanced scorecard per collector, never recovered amount alone. Each measure is one grouped
    query over the scoped cases: open cases assigned now; visits checked in and contact attempts made
    in the period; promises recorded in the period; kept rate of their promises due in the period;
    payments dated in the period on the cases assigned to them."""
    collectors = list(scope_collectors(scope).values("pk", "username", "first_name", "last_name"))
    ids = [c["pk"] for c in collectors]
    cases = scope.cases().values("pk")
    open_cases = _grouped(
        scope.cases().open().filter(assigned_collector_id__in=ids), "assigned_collector_id", n=Count("id")
    )
    visits = _grouped(
        Visit.objects.filter(_in_period_times(scope, "checked_in_at"), case__in=cases, collector_id__in=ids),
        "collector_id",
        n=Count("id"),
    )
    contacts = _grouped(
        ContactAttempt.objects.filter(_in_period_times(scope, "attempted_at"), case__in=cases, actor_id__in=ids),
        "actor_id",
        n=Count("id"),
    )
    created = _in_period_times(scope, "created_at")
    due = _in_period_dates(scope, "due_date")
    promises = _grouped(
        PromiseToPay.objects.filter(created | due, case__in=cases, created_by_id__in=ids),
        "created_by_id",
        made=Count("id", filter=created),
        due=Count("id", filter=due & Q(status__in=RESOLVED_PROMISES)),
        kept=Count("id", filter=due & Q(status=PromiseToPay.Status.KEPT)),
    )
    recovered = _grouped(
        Payment.objects.filter(_in_period_dates(scope, "paid_on"), case__in=cases, case__assigned_collector_id__in=ids),
        "case__assigned_collector_id",
        total=Sum("amount"),
    )
    rows = []
    for collector in collectors:
        pk = collector["pk"]
        made = promises.get(pk, {})
        rows.append(
            {
                "username": collector["username"],
                "name": " ".join(filter(None, (collector["first_name"], collector["last_name"]))),
                "cases": open_cases.get(pk, {}).get("n", 0),
                "visits": visits.get(pk, {}).get("n", 0),
                "contacts": contacts.get(pk, {}).get("n", 0),
                "promises": made.get("made", 0),
                "promises_due": made.get("due", 0),
                "kept_rate": rate(made.get("kept", 0), made.get("due", 0)),
                "recovered_amount": cents(recovered.get(pk, {}).get("total")),
            }
        )
    return rows
