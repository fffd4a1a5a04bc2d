import pytest

from collections_app.models import Case, DelinquentAccount
from tests.factories import AccountFactory, CaseFactory

pytestmark = pytest.mark.django_db


def test_case_visibility_collector_own_supervisor_team_manager_all(cast, case_a):
    other = CaseFactory(
        account=AccountFactory(branch=cast.branch_b), team=cast.team_y, assigned_collector=cast.collector_b
    )
    assert list(Case.objects.visible_to(cast.collector_a)) == [case_a]
    assert list(Case.objects.visible_to(cast.collector_a2)) == []
    assert list(Case.objects.visible_to(cast.supervisor_x)) == [case_a]
    assert list(Case.objects.visible_to(cast.supervisor_y)) == [other]
    assert set(Case.objects.visible_to(cast.manager)) == {case_a, other}


def test_account_visibility_follows_branch_for_supervisors(cast, case_a):
    AccountFactory(branch=cast.branch_b)
    assert set(DelinquentAccount.objects.visible_to(cast.supervisor_x)) == {case_a.account}
    assert list(DelinquentAccount.objects.visible_to(cast.collector_a)) == [case_a.account]
    assert DelinquentAccount.objects.visible_to(cast.collector_b).count() == 0
    assert DelinquentAccount.objects.visible_to(cast.manager).count() == 2
