import pytest
from django.core.management import call_command

from collections_app.models import Borrower, Case, DelinquentAccount, Stage
from visits.models import ContactAttempt, Visit, VisitPlan

pytestmark = pytest.mark.django_db


def _field_work():
    visits = list(
        Visit.objects.order_by("case__account__account_no").values_list(
            "case__account__account_no", "outcome", "monthly_income", "attitude"
        )
    )
    plans = list(VisitPlan.objects.order_by("case__account__account_no").values_list("case__account__account_no"))
    return visits, plans, ContactAttempt.objects.count()


def test_demo_cases_get_field_work_fitting_their_stage_deterministically(settings):
    settings.DEBUG = True
    call_command("seed_demo", accounts=40, seed=3)
    worked = Case.objects.exclude(assigned_collector=None)
    assert worked.exists()
    for case in worked:
        has_visit = Visit.objects.filter(case=case).exists()
        assert has_visit == (case.stage in (Stage.NEGOTIATION, Stage.FOLLOW_UP, Stage.CLOSED)), case.stage
        assert VisitPlan.objects.filter(case=case).exists()
        assert (case.next_action_due is not None) == (case.stage != Stage.CLOSED)
    first = _field_work()
    Case.objects.all().delete()
    DelinquentAccount.objects.all().delete()
    Borrower.objects.all().delete()
    call_command("seed_demo", accounts=40, seed=3)
    assert _field_work() == first
