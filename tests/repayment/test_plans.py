import datetime as dt
from decimal import Decimal

import pytest

from collections_app.exceptions import DoorstepError, NotPermitted
from collections_app.models import Notification, Stage
from repayment.models import FollowUpCheck, Instalment, RepaymentPlan
from repayment.services import plan_approve, plan_cancel, plan_propose, plan_reject

pytestmark = pytest.mark.django_db
D = Decimal


def _plan(case, actor, today, **kw):
    values = {
        "kind": RepaymentPlan.Kind.INSTALMENTS,
        "base_amount": D("5000.00"),
        "instalment_count": 3,
        "first_due_date": today + dt.timedelta(days=10),
    }
    values.update(kw)
    return plan_propose(case=case, actor=actor, **values)


def test_small_plan_activates_and_moves_case_to_follow_up(negotiation_case, cast, today):
    plan = _plan(negotiation_case, cast.collector_a, today, base_amount=D("100.00"))
    assert plan.status == RepaymentPlan.Status.ACTIVE
    assert [i.amount for i in plan.instalments.all()] == [D("33.33"), D("33.33"), D("33.34")]
    negotiation_case.refresh_from_db()
    assert negotiation_case.stage == Stage.FOLLOW_UP
    # one due check per instalment (+ reminders for future due dates)
    assert FollowUpCheck.objects.filter(kind=FollowUpCheck.Kind.INSTALMENT_DUE, case=negotiation_case).count() == 3


def test_large_waiver_needs_approval_and_maker_cannot_approve(negotiation_case, cast, today, settings):
    settings.REPAYMENT_WAIVER_APPROVAL_PERCENT = "10"
    plan = _plan(
        negotiation_case,
        cast.supervisor_x,
        today,
        kind=RepaymentPlan.Kind.SETTLEMENT,
        instalment_count=1,
        base_amount=D("5000.00"),
        waiver_amount=D("1000.00"),
    )
    assert plan.status == RepaymentPlan.Status.PENDING_APPROVAL
    assert plan.approval_reasons == ["waiver"]
    with pytest.raises(NotPermitted, match="maker-checker"):
        plan_approve(plan=plan, actor=cast.supervisor_x)
    plan.refresh_from_db()
    assert plan.status == RepaymentPlan.Status.PENDING_APPROVAL
    assert not FollowUpCheck.objects.filter(instalment__plan=plan).exists()


def test_collector_cannot_approve_and_supervisor_of_team_can(negotiation_case, cast, today):
    plan = _plan(negotiation_case, cast.collector_a, today, instalment_count=24)
    assert plan.status == RepaymentPlan.Status.PENDING_APPROVAL
    assert plan.approval_reasons == ["term"]
    assert Notification.objects.filter(recipient=cast.supervisor_x, kind="plan_approval").count() == 1
    with pytest.raises(NotPermitted):
        plan_approve(plan=plan, actor=cast.collector_a)
    with pytest.raises(NotPermitted):
        plan_approve(plan=plan, actor=cast.supervisor_y)
    plan = plan_approve(plan=plan, actor=cast.supervisor_x, note="ok")
    assert plan.status == RepaymentPlan.Status.ACTIVE
    assert plan.decided_by == cast.supervisor_x
    negotiation_case.refresh_from_db()
    assert negotiation_case.stage == Stage.FOLLOW_UP


def test_waiver_at_threshold_needs_no_approval(negotiation_case, cast, today, settings):
    settings.REPAYMENT_WAIVER_APPROVAL_PERCENT = "10"
    plan = _plan(
        negotiation_case,
        cast.collector_a,
        today,
        kind=RepaymentPlan.Kind.SETTLEMENT,
        instalment_count=1,
        waiver_amount=D("500.00"),
    )
    assert plan.status == RepaymentPlan.Status.ACTIVE
    assert plan.amount == D("4500.00")


def test_reject_needs_a_reason_and_cancels(negotiation_case, cast, today):
    plan = _plan(negotiation_case, cast.collector_a, today, instalment_count=24)
    with pytest.raises(DoorstepError):
        plan_reject(plan=plan, actor=cast.supervisor_x, note=" ")
    plan = plan_reject(plan=plan, actor=cast.supervisor_x, note="too long")
    assert plan.status == RepaymentPlan.Status.CANCELLED
    assert set(plan.instalments.values_list("status", flat=True)) == {Instalment.Status.CANCELLED}


def test_one_open_plan_per_case(negotiation_case, cast, today):
    plan = _plan(negotiation_case, cast.collector_a, today)
    with pytest.raises(DoorstepError, match="already has a plan"):
        _plan(negotiation_case, cast.collector_a, today)
    plan_cancel(plan=plan, actor=cast.collector_a)
    assert not FollowUpCheck.objects.filter(instalment__plan=plan, status=FollowUpCheck.Status.PENDING).exists()
    assert _plan(negotiation_case, cast.collector_a, today).status == RepaymentPlan.Status.ACTIVE


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"base_amount": D("90000.00")}, "outstanding balance"),
        ({"waiver_amount": D("10.00")}, "Only a settlement"),
        ({"kind": RepaymentPlan.Kind.DEFERRAL}, "at least one month"),
        ({"deferral_months": 2}, "Only a deferral"),
        ({"first_due_date": dt.date(2000, 1, 1)}, "first due date"),
        ({"base_amount": D("0.02"), "instalment_count": 3}, "cannot be split"),
    ],
)
def test_invalid_plans_are_refused_with_a_reason(negotiation_case, cast, today, changes, message):
    with pytest.raises(DoorstepError, match=message):
        _plan(negotiation_case, cast.collector_a, today, **changes)
    assert not RepaymentPlan.objects.exists()


def test_deferral_shifts_schedule(negotiation_case, cast, today):
    first = today + dt.timedelta(days=5)
    plan = _plan(negotiation_case, cast.collector_a, today, kind=RepaymentPlan.Kind.DEFERRAL, deferral_months=3)
    dates = list(plan.instalments.values_list("due_date", flat=True))
    assert dates[0] > first + dt.timedelta(days=80)
    assert plan.term_months == 6


def test_idempotency_key_creates_one_plan(negotiation_case, cast, today):
    a = _plan(negotiation_case, cast.collector_a, today, idempotency_key="k1")
    b = _plan(negotiation_case, cast.collector_a, today, idempotency_key="k1")
    assert a.pk == b.pk
    assert RepaymentPlan.objects.count() == 1


def test_plan_refused_outside_negotiation_stages(case_in_stage, cast, today):
    case = case_in_stage(Stage.PREPARATION)
    with pytest.raises(DoorstepError, match="visit, negotiation or follow-up"):
        _plan(case, cast.collector_a, today)


def test_anonymising_the_borrower_clears_plan_and_promise_notes(negotiation_case, cast, today):
    from collections_app import retention
    from repayment.services import promise_create

    plan = _plan(negotiation_case, cast.collector_a, today, note="lost job at ACME")
    promise = promise_create(
        case=negotiation_case, actor=cast.collector_a, amount=D("10.00"), due_date=today, note="pays from wife's salary"
    )
    retention.borrower_anonymised.send(
        sender=type(negotiation_case.account.borrower),
        borrower_id=negotiation_case.account.borrower_id,
        case_ids=[negotiation_case.pk],
    )
    plan.refresh_from_db()
    promise.refresh_from_db()
    assert (plan.note, promise.note) == ("", "")
    assert plan.amount == D("5000.00")
