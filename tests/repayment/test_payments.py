import datetime as dt
from decimal import Decimal

import pytest

from collections_app.exceptions import DoorstepError
from collections_app.models import CaseEvent, CloseReason, DelinquentAccount, Stage
from repayment.models import FollowUpCheck, Instalment, Payment, PromiseToPay, RepaymentPlan
from repayment.services import payment_record, plan_propose, promise_create

pytestmark = pytest.mark.django_db
D = Decimal


def _pay(case, actor, amount, paid_on, **kw):
    return payment_record(case=case, actor=actor, amount=D(amount), paid_on=paid_on, channel="cash", **kw)


def test_payment_goes_to_oldest_due_first_and_partial_stays_partial(negotiation_case, cast, today):
    case, collector = negotiation_case, cast.collector_a
    later = promise_create(case=case, actor=collector, amount=D("300.00"), due_date=today + dt.timedelta(days=20))
    sooner = promise_create(case=case, actor=collector, amount=D("200.00"), due_date=today + dt.timedelta(days=5))
    payment = _pay(case, collector, "250.00", today)
    sooner.refresh_from_db()
    later.refresh_from_db()
    assert (sooner.paid_amount, sooner.status) == (D("200.00"), PromiseToPay.Status.KEPT)
    assert (later.paid_amount, later.status) == (D("50.00"), PromiseToPay.Status.PENDING)
    assert payment.held_amount == D("0.00")
    assert [a.amount for a in payment.allocations.order_by("id")] == [D("200.00"), D("50.00")]
    assert payment.receipt_no.startswith("RC")
    # the kept promise's checks are settled; the partial one is still followed
    assert not FollowUpCheck.objects.filter(promise=sooner, status=FollowUpCheck.Status.PENDING).exists()
    assert FollowUpCheck.objects.filter(promise=later, status=FollowUpCheck.Status.PENDING).exists()


def test_payment_reduces_account_and_writes_event(negotiation_case, cast, today):
    _pay(negotiation_case, cast.collector_a, "1200.50", today)
    account = DelinquentAccount.objects.get(pk=negotiation_case.account_id)
    assert account.overdue_amount == D("3799.50")
    assert account.outstanding_balance == D("78799.50")
    assert account.last_payment_date == today
    event = negotiation_case.events.filter(kind=CaseEvent.Kind.PAYMENT).get()
    assert event.payload["amount"] == "1200.50"


def test_overpayment_beyond_obligations_is_held_and_applied_to_next_promise(negotiation_case, cast, today):
    case, collector = negotiation_case, cast.collector_a
    promise_create(case=case, actor=collector, amount=D("100.00"), due_date=today + dt.timedelta(days=3))
    payment = _pay(case, collector, "400.00", today)
    assert payment.held_amount == D("300.00")
    later = promise_create(case=case, actor=collector, amount=D("500.00"), due_date=today + dt.timedelta(days=30))
    payment.refresh_from_db()
    assert payment.held_amount == D("0.00")
    assert later.paid_amount == D("300.00")
    assert later.status == PromiseToPay.Status.PENDING
    assert sum(a.amount for a in payment.allocations.all()) == D("400.00")


def test_payment_above_the_outstanding_balance_is_refused(negotiation_case, cast, today):
    with pytest.raises(DoorstepError, match="outstanding balance"):
        _pay(negotiation_case, cast.collector_a, "80000.01", today)
    assert not Payment.objects.exists()
    assert DelinquentAccount.objects.get(pk=negotiation_case.account_id).overdue_amount == D("5000.00")


@pytest.mark.parametrize(
    ("amount", "paid_on_days", "message"),
    [("0", 0, "above zero"), ("10.00", 1, "future"), ("10.00", -400, "days ago")],
)
def test_invalid_payments_refused(negotiation_case, cast, today, amount, paid_on_days, message):
    with pytest.raises(DoorstepError, match=message):
        _pay(negotiation_case, cast.collector_a, amount, today + dt.timedelta(days=paid_on_days))


def test_manager_and_other_team_cannot_record(negotiation_case, cast, today):
    for user in (cast.manager, cast.collector_b, cast.supervisor_y, cast.collector_a2):
        with pytest.raises(DoorstepError):
            _pay(negotiation_case, user, "10.00", today)


def test_double_submit_records_one_payment(negotiation_case, cast, today):
    a = _pay(negotiation_case, cast.collector_a, "10.00", today, idempotency_key="abc")
    b = _pay(negotiation_case, cast.collector_a, "10.00", today, idempotency_key="abc")
    assert a.pk == b.pk
    assert DelinquentAccount.objects.get(pk=negotiation_case.account_id).overdue_amount == D("4990.00")


def test_paying_the_whole_plan_completes_it_and_cures_the_case(negotiation_case, cast, today):
    case, collector = negotiation_case, cast.collector_a
    plan = plan_propose(
        case=case,
        actor=collector,
        kind=RepaymentPlan.Kind.INSTALMENTS,
        base_amount=D("5000.00"),
        instalment_count=2,
        first_due_date=today + dt.timedelta(days=10),
    )
    _pay(case, collector, "2500.00", today)
    plan.refresh_from_db()
    assert plan.status == RepaymentPlan.Status.ACTIVE
    assert list(plan.instalments.values_list("status", flat=True)) == [
        Instalment.Status.PAID,
        Instalment.Status.PENDING,
    ]
    _pay(case, collector, "2500.00", today)
    plan.refresh_from_db()
    case.refresh_from_db()
    assert plan.status == RepaymentPlan.Status.COMPLETED
    assert (case.stage, case.close_reason) == (Stage.CLOSED, CloseReason.CURED)
    care = FollowUpCheck.objects.get(case=case, kind=FollowUpCheck.Kind.CARE_REVISIT)
    assert care.status == FollowUpCheck.Status.PENDING
    assert (care.due_at.date() - today).days in (29, 30)
    assert not FollowUpCheck.objects.filter(
        case=case, status=FollowUpCheck.Status.PENDING, kind=FollowUpCheck.Kind.REMINDER
    ).exists()


def test_completed_settlement_writes_off_the_waiver_and_closes_settled(negotiation_case, cast, today):
    case = negotiation_case
    plan_propose(
        case=case,
        actor=cast.collector_a,
        kind=RepaymentPlan.Kind.SETTLEMENT,
        base_amount=D("5000.00"),
        waiver_amount=D("400.00"),
        instalment_count=1,
        first_due_date=today + dt.timedelta(days=10),
    )
    _pay(case, cast.collector_a, "4600.00", today)
    account = DelinquentAccount.objects.get(pk=case.account_id)
    case.refresh_from_db()
    assert account.overdue_amount == 0
    assert account.outstanding_balance == D("80000.00") - D("4600.00") - D("400.00")
    assert (case.stage, case.close_reason) == (Stage.CLOSED, CloseReason.SETTLED)


def test_closed_case_refuses_payment(negotiation_case, cast, today):
    _pay(negotiation_case, cast.collector_a, "5000.00", today)
    negotiation_case.refresh_from_db()
    assert negotiation_case.stage == Stage.CLOSED
    with pytest.raises(DoorstepError, match="closed"):
        _pay(negotiation_case, cast.collector_a, "1.00", today)
