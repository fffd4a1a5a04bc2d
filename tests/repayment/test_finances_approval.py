"""A plan whose instalment exceeds the verified capacity needs the supervisor's note, on the page and in the
API; the plan approval page shows the unverified figures and the discrepancy flags."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from collections_app.models import AuditLog
from repayment.models import RepaymentPlan
from repayment.selectors import plan_fit
from repayment.services import plan_approve, plan_propose
from repayment.services.plans import PlanRefused
from tests.repayment.finances_helpers import D, declare, figure, verify
from tests.repayment.test_views import login

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def _pending_plan(case, actor, today):
    # 24,000 over 24 months: 1,000 a month, and 24 months is above the term threshold.
    plan = plan_propose(
        case=case,
        actor=actor,
        kind=RepaymentPlan.Kind.INSTALMENTS,
        base_amount=D("24000.00"),
        instalment_count=24,
        first_due_date=today + dt.timedelta(days=10),
    )
    assert plan.status == RepaymentPlan.Status.PENDING_APPROVAL
    return plan


def _declared(case, cast, salary_verified_at, employer=""):
    """Salary 4,000 + other income 2,000 declared, rent 1,000: capacity 2,500 on the borrower's word."""
    declaration = declare(
        case, cast.collector_a, ("salary", "4000.00", employer), ("other_income", "2000.00"), ("rent", "1000.00")
    )
    if salary_verified_at is not None:
        verify(figure(declaration, "salary"), cast.collector_a, amount=salary_verified_at)
    return declaration


def test_an_instalment_within_the_verified_capacity_is_approved_without_a_note(negotiation_case, cast, today):
    _declared(negotiation_case, cast, "4000.00")  # verified: (4,000 - 1,000) x 50 % = 1,500
    plan = _pending_plan(negotiation_case, cast.collector_a, today)
    fit = plan_fit(plan)
    assert (fit.capacity, fit.verified_capacity, fit.fits, fit.fits_verified) == (D("2500"), D("1500"), True, True)
    assert plan_approve(plan=plan, actor=cast.supervisor_x).status == RepaymentPlan.Status.ACTIVE


def test_an_instalment_above_the_verified_capacity_needs_a_note(negotiation_case, cast, today):
    _declared(negotiation_case, cast, "2500.00")  # verified: (2,500 - 1,000) x 50 % = 750 < 1,000
    plan = _pending_plan(negotiation_case, cast.collector_a, today)
    fit = plan_fit(plan)
    assert (fit.fits, fit.fits_verified, fit.verified_capacity) == (True, False, D("750"))
    with pytest.raises(PlanRefused, match="verified monthly capacity"):
        plan_approve(plan=plan, actor=cast.supervisor_x, note="   ")
    plan.refresh_from_db()
    assert plan.status == RepaymentPlan.Status.PENDING_APPROVAL
    approved = plan_approve(plan=plan, actor=cast.supervisor_x, note="Son pays the rent.")
    assert approved.status == RepaymentPlan.Status.ACTIVE and approved.decision_note == "Son pays the rent."


def test_an_instalment_exactly_at_the_verified_capacity_needs_no_note(negotiation_case, cast, today):
    _declared(negotiation_case, cast, "3000.00")  # verified: (3,000 - 1,000) x 50 % = 1,000 = the instalment
    plan = _pending_plan(negotiation_case, cast.collector_a, today)
    assert plan_fit(plan).fits_verified is True
    assert plan_approve(plan=plan, actor=cast.supervisor_x).status == RepaymentPlan.Status.ACTIVE


def test_nothing_verified_means_approving_needs_a_note(negotiation_case, cast, today):
    _declared(negotiation_case, cast, None)
    plan = _pending_plan(negotiation_case, cast.collector_a, today)
    assert plan_fit(plan).verified_capacity == D("0")
    with pytest.raises(PlanRefused):
        plan_approve(plan=plan, actor=cast.supervisor_x)


def test_the_approval_page_warns_lists_unverified_figures_and_flags(client, negotiation_case, cast, today):
    borrower = negotiation_case.account.borrower
    borrower.employer = "Suzhou Steel Works"
    borrower.save(update_fields=["employer"])
    _declared(negotiation_case, cast, "2500.00", employer="Wuxi Textiles")
    plan = _pending_plan(negotiation_case, cast.collector_a, today)
    login(client, cast.supervisor_x)
    page = client.get(reverse("plan-detail", args=[plan.pk])).content.decode()
    facts = page[page.index('id="plan-facts"') : page.index('id="decision"')]
    assert 'data-warning="unverified-capacity"' in facts and "data-verified-capacity" in facts
    assert 'data-unverified="2"' in facts and "Other income" in facts and "Rent" in facts
    assert 'data-flag="employer"' in facts and "Suzhou Steel Works" in facts

    refused = client.post(reverse("plan-approve", args=[plan.pk]), {"note": ""}, follow=True).content.decode()
    assert "verified monthly capacity" in refused
    plan.refresh_from_db()
    assert plan.status == RepaymentPlan.Status.PENDING_APPROVAL
    client.post(reverse("plan-approve", args=[plan.pk]), {"note": "Payslip is last month's"})
    plan.refresh_from_db()
    assert plan.status == RepaymentPlan.Status.ACTIVE


def test_the_api_refuses_approval_above_the_verified_capacity_without_a_note(client, negotiation_case, cast, today):
    _declared(negotiation_case, cast, "2500.00")
    plan = _pending_plan(negotiation_case, cast.collector_a, today)
    client.force_login(cast.supervisor_x)
    url = reverse("api:plan-approve", args=[plan.pk])
    refused = client.post(url, {"note": ""}, content_type="application/json")
    assert refused.status_code == 409 and "verified monthly capacity" in refused.json()["detail"]
    plan.refresh_from_db()
    assert plan.status == RepaymentPlan.Status.PENDING_APPROVAL
    assert not AuditLog.objects.filter(action__startswith="plan.approve").exists()
    done = client.post(url, {"note": "Family helps"}, content_type="application/json")
    assert done.status_code == 200 and done.json()["status"] == "active"


def test_figures_only_from_a_visit_are_unverified_so_approving_needs_a_note(negotiation_case, cast, today):
    import uuid

    from visits.models import Party, Visit

    Visit.objects.create(
        case=negotiation_case,
        collector=cast.collector_a,
        idempotency_key=uuid.uuid4(),
        checked_in_at=timezone.now(),
        identity_confirmed=True,
        met=Party.BORROWER,
        outcome="other",
        monthly_income=D("9000.00"),
        monthly_expenses=D("1000.00"),
    )
    plan = _pending_plan(negotiation_case, cast.collector_a, today)
    fit = plan_fit(plan)
    assert (fit.fits, fit.verified_capacity, fit.fits_verified) == (True, D("0"), False)
    with pytest.raises(PlanRefused):
        plan_approve(plan=plan, actor=cast.supervisor_x)
    approved = plan_approve(plan=plan, actor=cast.supervisor_x, note="Payslip seen at the door; not copied.")
    assert approved.status == RepaymentPlan.Status.ACTIVE
