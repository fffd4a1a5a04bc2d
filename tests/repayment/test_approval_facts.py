"""The approval page leads with affordability and the borrower's promise record; approving a plan whose
instalment is above the monthly capacity needs a note, through the page and the API alike."""

import datetime as dt
import uuid
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from repayment.models import PromiseToPay, RepaymentPlan
from repayment.selectors import plan_fit, promise_record
from repayment.services import plan_approve, plan_propose
from repayment.services.plans import PlanRefused
from tests.repayment.test_views import login
from visits.models import Party, Visit

pytestmark = pytest.mark.django_db
D = Decimal


def _finances(case, actor, income, expenses="0.00", debts="0.00"):
    Visit.objects.create(
        case=case,
        collector=actor,
        idempotency_key=uuid.uuid4(),
        checked_in_at=timezone.now() - dt.timedelta(days=1),
        identity_confirmed=True,
        met=Party.BORROWER,
        outcome=Visit.Outcome.AGREED_PLAN,
        monthly_income=D(income),
        monthly_expenses=D(expenses),
        other_debt_payments=D(debts),
    )


def _pending_plan(case, actor, today, count=24, amount="24000.00"):
    plan = plan_propose(
        case=case,
        actor=actor,
        kind=RepaymentPlan.Kind.INSTALMENTS,
        base_amount=D(amount),
        instalment_count=count,
        first_due_date=today + dt.timedelta(days=10),
    )
    assert plan.status == RepaymentPlan.Status.PENDING_APPROVAL  # 24 months is above the term threshold
    return plan


def test_the_fit_compares_the_largest_instalment_with_the_capacity(negotiation_case, cast, today):
    # income 4,000 - expenses 2,000 = 2,000 disposable; half of it = 1,000 a month; 24,000 / 24 = 1,000.
    _finances(negotiation_case, cast.collector_a, "4000.00", "2000.00")
    plan = _pending_plan(negotiation_case, cast.collector_a, today)
    fit = plan_fit(plan)
    assert (fit.instalment, fit.capacity, fit.fits) == (D("1000.00"), D("1000"), True)

    _finances(negotiation_case, cast.collector_a, "3000.00", "2000.00")  # a later visit: 500 a month
    fit = plan_fit(plan)
    assert (fit.capacity, fit.fits) == (D("500"), False)


def test_no_recorded_income_leaves_the_fit_unknown_and_approval_free(negotiation_case, cast, today):
    plan = _pending_plan(negotiation_case, cast.collector_a, today)
    assert plan_fit(plan).fits is None
    assert plan_approve(plan=plan, actor=cast.supervisor_x).status == RepaymentPlan.Status.ACTIVE


def test_approving_against_the_warning_needs_a_note_on_the_page(client, negotiation_case, cast, today):
    _finances(negotiation_case, cast.collector_a, "3000.00", "2000.00")
    plan = _pending_plan(negotiation_case, cast.collector_a, today)
    login(client, cast.supervisor_x)
    page = client.get(reverse("plan-detail", args=[plan.pk])).content.decode()
    assert 'data-fits="no"' in page and 'data-warning="unaffordable"' in page
    assert page.index('id="plan-facts"') < page.index("data-schedule") < page.index('id="decision"')
    assert "<details" in page[page.index('id="plan-facts"') : page.index("data-schedule")]  # schedule folded

    refused = client.post(reverse("plan-approve", args=[plan.pk]), {"note": ""}, follow=True).content.decode()
    assert "say in the note why you approve it" in refused
    plan.refresh_from_db()
    assert plan.status == RepaymentPlan.Status.PENDING_APPROVAL

    done = client.post(reverse("plan-approve", args=[plan.pk]), {"note": "Family helps"}, follow=True)
    html = done.content.decode()
    plan.refresh_from_db()
    assert plan.status == RepaymentPlan.Status.ACTIVE and plan.decision_note == "Family helps"
    assert "Plan approved: it is active now." in html
    assert "Needs a supervisor&#x27;s approval" not in html and "Needs a supervisor's approval" not in html


def test_the_service_refuses_without_a_note(negotiation_case, cast, today):
    _finances(negotiation_case, cast.collector_a, "3000.00", "2000.00")
    plan = _pending_plan(negotiation_case, cast.collector_a, today)
    with pytest.raises(PlanRefused):
        plan_approve(plan=plan, actor=cast.supervisor_x, note="  ")


def test_the_promise_record_counts_every_status_on_the_account(negotiation_case, cast, today):
    for status in ("kept", "kept", "broken", "pending"):
        PromiseToPay.objects.create(
            case=negotiation_case,
            amount=D("100.00"),
            due_date=today,
            status=status,
            grace_days=0,
            created_by=cast.collector_a,
        )
    assert promise_record(negotiation_case) == {
        "pending": 1,
        "kept": 2,
        "partially_kept": 0,
        "broken": 1,
        "cancelled": 0,
    }
