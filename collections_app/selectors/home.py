"""Reads for the case domain, always scoped through ``visible_to``."""

from decimal import Decimal

from django.db.models import Count, F, Q, Sum

from collections_app.aging import local_today
from collections_app.models import Case, DelinquentAccount, Stage, User


def stage_counts(user: User) -> list[dict]:
    rows = dict(Case.objects.visible_to(user).values_list("stage").annotate(n=Count("id")).order_by())
    return [{"stage": stage, "label": label, "count": rows.get(stage, 0)} for stage, label in Stage.choices]


def home_summary(user: User) -> dict:
    """Numbers for the role's home page, in a constant number of queries."""
    cases = Case.objects.visible_to(user)
    today = local_today()
    summary = cases.open().aggregate(
        open_cases=Count("id"),
        due_today=Count("id", filter=Q(next_action_due__date__lte=today)),
        unassigned=Count("id", filter=Q(assigned_collector__isnull=True)),
        overdue_total=Sum("account__overdue_amount"),
    )
    summary["overdue_total"] = summary["overdue_total"] or Decimal("0.00")
    summary["stages"] = stage_counts(user)
    if user.sees_everything:
        portfolio = DelinquentAccount.objects.filter(overdue_amount__gt=0).aggregate(
            accounts=Count("id"), overdue=Sum("overdue_amount"), outstanding=Sum("outstanding_balance")
        )
        summary["portfolio"] = {k: v or 0 for k, v in portfolio.items()}
    return summary


def next_cases(user: User, limit: int = 10):
    """The user's open cases whose next action is due soonest."""
    return (
        Case.objects.visible_to(user)
        .open()
        .select_related("account__borrower", "assigned_collector")
        # Undated next actions last on every database (SQLite sorts NULL first by default).
        .order_by(F("next_action_due").asc(nulls_last=True), "id")[:limit]
    )
