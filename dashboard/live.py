"""The dashboard's current-state numbers computed from the live rows, grouped finely enough that the
state tally can store them and any scope can be cut from them. ``scope`` None means every row (what
``tallies.state_tally_refresh`` stores); otherwise the rows the scope may see."""

import datetime as dt

from django.db import models
from django.db.models import Count, IntegerField, Q, Sum, Value

from collections_app.aging import BUCKET_RANGES, CLASS_RANGES, AgingBucket, LoanClass, overdue_since_range
from collections_app.models import Case, DelinquentAccount, Stage


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


def portfolio_rows(scope, today: dt.date):
    """``(branch, bucket, class, accounts, overdue, outstanding)`` of the accounts with an overdue amount."""
    accounts = DelinquentAccount.objects.all() if scope is None else scope.accounts()
    return (
        accounts.filter(overdue_amount__gt=0)
        .annotate(dash_bucket=bucket_expression(today), dash_class=class_expression(today))
        .values_list("branch_id", "dash_bucket", "dash_class")
        .annotate(n=Count("id"), overdue=Sum("overdue_amount"), outstanding=Sum("outstanding_balance"))
        .order_by()
    )


def open_case_rows(scope):
    """``(team, stage, collector, cases)`` of the open cases."""
    cases = Case.objects.all() if scope is None else scope.cases()
    return (
        cases.exclude(stage=Stage.CLOSED)
        .values_list("team_id", "stage", "assigned_collector_id")
        .annotate(n=Count("id"))
        .order_by()
    )


ACTIVE_PLANS = "active_plans"  # the second column of ``active_plan_rows``: never a stage


def active_plan_rows(scope):
    """``(team, ACTIVE_PLANS, None, active plans)``: shaped like ``open_case_rows`` so both come in one
    ``UNION ALL``."""
    from repayment.models import RepaymentPlan

    return (
        _plans(scope)
        .filter(status=RepaymentPlan.Status.ACTIVE)
        .annotate(p_kind=Value(ACTIVE_PLANS), p_collector=Value(None, output_field=IntegerField()))
        .values_list("case__team_id", "p_kind", "p_collector")
        .annotate(n=Count("id"))
        .order_by()
    )


def _plans(scope):
    from repayment.models import RepaymentPlan

    plans = RepaymentPlan.objects.all()
    if scope is not None and scope.narrowed:
        plans = plans.filter(case__in=scope.cases().values("pk"))
    return plans
