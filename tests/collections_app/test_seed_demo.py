import pytest
from django.core.management import CommandError, call_command

from collections_app.models import Borrower, Branch, Case, CaseEvent, DelinquentAccount, Stage, Team, User

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
