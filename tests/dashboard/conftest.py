"""A small fixed data set whose every KPI is computed by hand in the tests."""

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

import pytest
from django.core.cache import caches
from django.utils import timezone

from collections_app.aging import local_today
from collections_app.models import Case, CaseEvent, Stage
from collections_app.services.cases import case_assign, case_open, case_transition
from dashboard.forms import Filters
from repayment.models import Payment, PromiseToPay, RepaymentPlan
from repayment.services.payments import case_note_paid_on
from tests.factories import AccountFactory, visit_plan_ready
from visits.models import ContactAttempt, Visit

# DPD at each bucket and class boundary; each account's overdue amount is DPD + 0.50.
BOUNDARY_DPDS = (0, 1, 30, 31, 60, 61, 90, 91, 180, 181, 270, 271, 360, 361)


@pytest.fixture(autouse=True)
def dashboard_cache(settings, tmp_path):
    """Each test gets its own empty file cache for the roll matrices (the shared var/ one would carry
    matrices between tests and test runs that reuse the same days and branch ids)."""
    settings.CACHES = {
        **settings.CACHES,
        "dashboard": {"BACKEND": "django.core.cache.backends.filebased.FileBasedCache", "LOCATION": str(tmp_path)},
    }
    return caches["dashboard"]


def money(value) -> Decimal:
    return Decimal(value).quantize(Decimal("0.01"))


@dataclass
class DataSet:
    today: dt.date
    period: Filters
    accounts: dict
    cases: dict


def _at(day: dt.date, hour: int = 12) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time(hour, 0)))


def _since(today: dt.date, dpd: int) -> dt.date:
    return today - dt.timedelta(days=dpd)


@pytest.fixture
def dataset(cast) -> DataSet:
    """Branch A (team X, supervisor X): 14 boundary accounts, one overdue with no date (DPD 0), one
    fully paid (not delinquent). Branch B (team Y): two accounts at DPD 45 that supervisor X never sees.

    Period: the last 20 days. Cases in branch A: one per stage walk, with payments, promises, plans,
    visits, contacts and refusals placed inside and outside the period.
    """
    today = local_today()
    accounts = {}
    for dpd in BOUNDARY_DPDS:
        accounts[dpd] = AccountFactory(
            branch=cast.branch_a,
            overdue_since=_since(today, dpd),
            overdue_amount=money(dpd) + Decimal("0.50"),
            outstanding_balance=Decimal("1000.00"),
        )
    accounts["no_date"] = AccountFactory(
        branch=cast.branch_a, overdue_since=None, overdue_amount=Decimal("7.00"), outstanding_balance=Decimal("500.00")
    )
    accounts["paid_up"] = AccountFactory(
        branch=cast.branch_a, overdue_since=_since(today, 40), overdue_amount=Decimal("0.00")
    )
    accounts["b1"] = AccountFactory(
        branch=cast.branch_b, overdue_since=_since(today, 45), overdue_amount=Decimal("2000.00")
    )
    accounts["b2"] = AccountFactory(
        branch=cast.branch_b, overdue_since=_since(today, 45), overdue_amount=Decimal("3000.00")
    )

    sup_x, col_a, col_a2 = cast.supervisor_x, cast.collector_a, cast.collector_a2

    def opened(account, collector, team=cast.team_x, supervisor=sup_x):
        case = case_open(account=account, actor=supervisor, team=team)
        return case_assign(case=case, collector=collector, actor=supervisor)

    cases = {
        # collector A: one case walked to follow-up, one in screening
        "follow_up": opened(accounts[61], col_a),
        "screening": opened(accounts[1], col_a),
        # collector A2: a case closed (cured) inside the period
        "closed": opened(accounts[91], col_a2),
        # team Y
        "team_y": opened(accounts["b1"], cast.collector_b, team=cast.team_y, supervisor=cast.supervisor_y),
    }

    # Plans: one active (the follow-up case's agreement), one completed in the period, one defaulted before it.
    def plan(case, status, closed_days_ago=None):
        RepaymentPlan.objects.create(
            case=case,
            kind="instalments",
            status=status,
            base_amount=Decimal("500.00"),
            amount=Decimal("500.00"),
            first_due_date=today,
            grace_days=3,
            created_by=col_a,
            closed_at=_at(today - dt.timedelta(days=closed_days_ago)) if closed_days_ago is not None else None,
        )

    for target in (Stage.PREPARATION, Stage.VISIT, Stage.NEGOTIATION, Stage.FOLLOW_UP):
        if target == Stage.FOLLOW_UP:  # its active plan is the agreement follow-up needs
            plan(cases["follow_up"], "active")
        if target == Stage.VISIT:
            visit_plan_ready(cases["follow_up"], col_a)
        case_transition(case=cases["follow_up"], target=target, actor=col_a)
    case_transition(case=cases["closed"], target=Stage.PREPARATION, actor=col_a2)
    case_transition(case=cases["closed"], target=Stage.CLOSED, actor=col_a2, close_reason="cured")
    # Stay lengths: the follow-up case spent 2 days in screening, 3 in preparation, 1 in visit and
    # 4 in negotiation; the closed case 4 days in screening and 1 in preparation (left the period's
    # start 10 days ago).
    _place_events(cases["follow_up"], today, [0, 2, 5, 6, 10], start_days_ago=12)
    _place_events(cases["closed"], today, [0, 4, 5], start_days_ago=15)

    # Payments: in the period 30.00 + 20.00 on the follow-up case (opened with 61.50 overdue),
    # 50.00 on the closed case (91.50 at opening); one outside the period; one on team Y's case.
    def pay(case, amount, days_ago):
        paid_on = today - dt.timedelta(days=days_ago)
        Payment.objects.create(case=case, amount=Decimal(amount), paid_on=paid_on, channel="cash", recorded_by=col_a)
        case_note_paid_on(case=case, paid_on=paid_on)

    pay(cases["follow_up"], "30.00", 3)
    pay(cases["follow_up"], "20.00", 10)
    pay(cases["closed"], "50.00", 1)
    pay(cases["follow_up"], "999.00", 40)
    pay(cases["team_y"], "777.00", 2)

    # Promises (by due date in the period): kept 2, partially kept 1, broken 1, pending 1, cancelled 1;
    # one kept promise due before the period; one on team Y.
    def promise(case, status, due_days_ago, by, created_days_ago=None):
        p = PromiseToPay.objects.create(
            case=case,
            amount=Decimal("100.00"),
            due_date=today - dt.timedelta(days=due_days_ago),
            grace_days=3,
            status=status,
            created_by=by,
        )
        if created_days_ago is not None:
            PromiseToPay.objects.filter(pk=p.pk).update(created_at=_at(today - dt.timedelta(days=created_days_ago)))
        return p

    promise(cases["follow_up"], "kept", 5, col_a)
    promise(cases["follow_up"], "kept", 8, col_a)
    promise(cases["follow_up"], "broken", 9, col_a)
    promise(cases["closed"], "partially_kept", 4, col_a2)
    promise(cases["screening"], "pending", 0, col_a)
    promise(cases["screening"], "cancelled", 2, col_a)
    promise(cases["follow_up"], "kept", 30, col_a, created_days_ago=35)
    promise(cases["team_y"], "broken", 3, cast.collector_b)

    plan(cases["closed"], "completed", closed_days_ago=2)
    plan(cases["screening"], "defaulted", closed_days_ago=30)

    # Visits and contacts: collector A 2 visits + 3 contacts in the period, 1 visit before it;
    # collector A2 1 visit.
    for case, who, days_ago in (
        (cases["follow_up"], col_a, 2),
        (cases["screening"], col_a, 4),
        (cases["follow_up"], col_a, 25),
        (cases["closed"], col_a2, 6),
    ):
        Visit.objects.create(
            case=case, collector=who, checked_in_at=_at(today - dt.timedelta(days=days_ago)), outcome="promised"
        )
    for days_ago in (1, 2, 3):
        ContactAttempt.objects.create(
            case=cases["screening"],
            actor=col_a,
            result="no_answer",
            attempted_at=_at(today - dt.timedelta(days=days_ago)),
        )
    ContactAttempt.objects.create(
        case=cases["team_y"], actor=cast.collector_b, result="answered", attempted_at=_at(today - dt.timedelta(days=1))
    )

    # Refusals: collector A quiet hours x2 + third party x1, collector A2 attempt cap x1; one older.
    for who, rule, days_ago in (
        (col_a, "quiet_hours", 1),
        (col_a, "quiet_hours", 2),
        (col_a, "third_party", 3),
        (col_a2, "attempt_cap", 4),
        (col_a, "quiet_hours", 40),
    ):
        event = CaseEvent.objects.create(
            case=cases["screening"], actor=who, kind=CaseEvent.Kind.REFUSED, payload={"rule": rule, "action": "visit"}
        )
        CaseEvent.objects.filter(pk=event.pk).update(created_at=_at(today - dt.timedelta(days=days_ago)))
    for c in cases.values():
        c.refresh_from_db()
    period = Filters(branch=None, team=None, date_from=today - dt.timedelta(days=19), date_to=today, period="custom")
    return DataSet(today=today, period=period, accounts=accounts, cases=cases)


def _place_events(case: Case, today: dt.date, offsets: list[int], *, start_days_ago: int) -> None:
    """Put the case's opened/transition events at the given day offsets from ``start_days_ago`` days ago,
    each transition carrying the stay it ends, as ``case_transition`` records it at that moment."""
    events = list(
        CaseEvent.objects.filter(case=case, kind__in=(CaseEvent.Kind.OPENED, CaseEvent.Kind.TRANSITION)).order_by(
            "created_at", "id"
        )
    )
    assert len(events) == len(offsets)
    start = today - dt.timedelta(days=start_days_ago)
    previous = None
    for event, offset in zip(events, offsets, strict=True):
        stay = (offset - previous) * 86400 if previous is not None else None
        CaseEvent.objects.filter(pk=event.pk).update(
            created_at=_at(start + dt.timedelta(days=offset)), stage_seconds=stay
        )
        previous = offset
