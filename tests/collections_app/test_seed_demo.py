import datetime as dt

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from collections_app.aging import bucket_for, local_today
from collections_app.models import (
    AccountBucketSnapshot,
    Borrower,
    Branch,
    Case,
    CaseEvent,
    DelinquentAccount,
    Stage,
    Team,
    User,
)
from dashboard.forms import Filters
from dashboard.selectors import dashboard
from evidence.verify import verify_case_evidence
from repayment.models import Payment
from risk.models import Statement
from visits.models import Visit

pytestmark = pytest.mark.django_db


def _snapshot():
    accounts = DelinquentAccount.objects.select_related("borrower", "branch").order_by("account_no")
    rows = [
        (
            a.account_no,
            a.borrower.name,
            a.borrower.national_id,
            a.branch.code,
            a.product,
            a.overdue_amount,
            a.overdue_since,
        )
        for a in accounts
    ]
    cases = list(
        Case.objects.order_by("account__account_no").values_list(
            "account__account_no", "stage", "assigned_collector__username"
        )
    )
    return rows, cases


def test_seed_demo_is_deterministic_for_a_seed(settings):
    settings.DEBUG = True
    call_command("seed_demo", accounts=30, seed=7)
    first = _snapshot()
    Case.objects.all().delete()
    DelinquentAccount.objects.all().delete()
    Borrower.objects.all().delete()
    call_command("seed_demo", accounts=30, seed=7)
    assert _snapshot() == first
    call_command("seed_demo", accounts=0, seed=7)
    Case.objects.all().delete()
    DelinquentAccount.objects.all().delete()
    call_command("seed_demo", accounts=30, seed=8)
    assert _snapshot()[0] != first[0]


def test_seed_demo_rerun_creates_nothing_twice(settings):
    settings.DEBUG = True
    call_command("seed_demo", accounts=40, seed=1)
    counts = (
        User.objects.count(),
        Team.objects.count(),
        DelinquentAccount.objects.count(),
        Case.objects.count(),
        CaseEvent.objects.count(),
    )
    call_command("seed_demo", accounts=40, seed=1)
    assert counts == (
        User.objects.count(),
        Team.objects.count(),
        DelinquentAccount.objects.count(),
        Case.objects.count(),
        CaseEvent.objects.count(),
    )


def test_seed_demo_default_gives_cases_in_every_stage_and_the_demo_users(settings):
    settings.DEBUG = True
    call_command("seed_demo")
    assert set(Case.objects.values_list("stage", flat=True)) == set(Stage.values)
    names = set(User.objects.values_list("username", flat=True))
    assert {"manager", "supervisor1", "supervisor2", *(f"collector{i}" for i in range(1, 7))} <= names
    assert Branch.objects.count() == 2 and Team.objects.count() == 2
    assert User.objects.get(username="collector1").check_password("doorstep-demo")
    assert DelinquentAccount.objects.filter(cases__isnull=True).exists(), "screening pool must not be empty"


def test_seed_demo_accounts_zero_creates_only_organisation_and_users(settings):
    settings.DEBUG = True
    call_command("seed_demo", accounts=0)
    assert User.objects.filter(username="collector6").exists()
    assert DelinquentAccount.objects.count() == 0


def test_seed_demo_refuses_with_debug_off_unless_forced(settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="DEBUG off"):
        call_command("seed_demo", accounts=0)
    assert not User.objects.exists()
    call_command("seed_demo", accounts=0, force=True)
    assert User.objects.filter(username="manager").exists()


def test_seed_demo_spreads_the_cases_over_months_of_history(settings, django_capture_on_commit_callbacks):
    """The dashboard of a fresh demo shows trends: cases opened and closed over months, stays of days,
    field work and payments dated inside each case's life, daily bucket snapshots, chains that verify."""
    settings.DEBUG = True
    with django_capture_on_commit_callbacks(execute=True):  # the case chains are sealed on commit
        call_command("seed_demo", accounts=40, seed=5)
    now, today = timezone.now(), local_today()
    worked = list(Case.objects.exclude(assigned_collector=None))
    assert min(case.opened_at for case in worked) < now - dt.timedelta(days=60)
    closed = [case for case in worked if case.stage == Stage.CLOSED]
    assert len({case.closed_at.date() for case in closed}) >= 3, "closures spread over several days"
    for case in worked:
        assert case.opened_at < now
        assert case.closed_at is None or case.opened_at < case.closed_at < now
        ends = case.closed_at or now
        for visit in Visit.objects.filter(case=case):
            assert case.opened_at < visit.checked_in_at < ends
        for paid_on in Payment.objects.filter(case=case).values_list("paid_on", flat=True):
            assert timezone.localdate(case.opened_at) <= paid_on <= timezone.localdate(ends)
        assert verify_case_evidence(case.pk).ok, case.pk
    stays = CaseEvent.objects.filter(kind=CaseEvent.Kind.TRANSITION).values_list("stage_seconds", flat=True)
    stays = list(stays)
    assert stays and all(seconds > 0 for seconds in stays), "every stay has a length"
    assert sum(stays) / len(stays) > 2 * 86400, "stays of days, not seconds"
    snapshots = AccountBucketSnapshot.objects.filter(as_of=today - dt.timedelta(days=90))
    assert snapshots.count() == DelinquentAccount.objects.count()
    for snap in snapshots.select_related("account"):
        assert snap.bucket == bucket_for(snap.dpd)
        if snap.account.overdue_since and snap.account.overdue_amount > 0:
            assert snap.dpd == max((snap.as_of - snap.account.overdue_since).days, 0)
    months = set(Statement.objects.values_list("period_end", flat=True))
    assert len(months) == 6 and max(months) < today.replace(day=1)
    assert Statement.objects.count() == 6 * DelinquentAccount.objects.count()
    manager = User.objects.get(username="manager")
    data = dashboard(user=manager, filters=Filters(None, None, today - dt.timedelta(days=89), today, "90d"))
    assert data["roll"]["available"]
    assert len(data["recovery"]["weeks"]) >= 3
    assert data["stages"][Stage.CLOSED] >= 1
