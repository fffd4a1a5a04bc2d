"""The status tables of promises, instalments and plans, and their one writer each."""

import datetime as dt
from decimal import Decimal

import pytest

from repayment.models import Instalment, PromiseToPay, RepaymentPlan
from repayment.services.statuses import (
    StatusMoveRefused,
    instalment_status_move,
    plan_status_move,
    promise_status_move,
)

pytestmark = pytest.mark.django_db
D = Decimal
DUE = dt.date(2026, 3, 5)
NOW = dt.datetime(2026, 3, 9, tzinfo=dt.UTC)
P, Inst, Plan = PromiseToPay.Status, Instalment.Status, RepaymentPlan.Status


def test_the_tables_of_allowed_moves():
    tables = {model.__name__: model.MOVES for model in (PromiseToPay, Instalment, RepaymentPlan)}
    assert tables == {
        "PromiseToPay": {P.PENDING: {P.KEPT, P.PARTIALLY_KEPT, P.BROKEN, P.CANCELLED}},
        "Instalment": {Inst.PENDING: {Inst.PAID, Inst.MISSED, Inst.CANCELLED}},
        "RepaymentPlan": {
            Plan.DRAFT: {Plan.PENDING_APPROVAL, Plan.ACTIVE, Plan.CANCELLED},
            Plan.PENDING_APPROVAL: {Plan.ACTIVE, Plan.CANCELLED},
            Plan.ACTIVE: {Plan.COMPLETED, Plan.DEFAULTED, Plan.CANCELLED},
        },
    }


def _promises(case, cast, *statuses):
    return [
        PromiseToPay.objects.create(
            case=case, amount=D("10.00"), due_date=DUE, grace_days=3, status=status, created_by=cast.collector_a
        )
        for status in statuses
    ]


def _plan(case, cast, status, instalments=("pending", "pending")) -> RepaymentPlan:
    plan = RepaymentPlan.objects.create(
        case=case,
        kind=RepaymentPlan.Kind.INSTALMENTS,
        status=status,
        base_amount=D("400.00"),
        amount=D("400.00"),
        instalment_count=len(instalments),
        first_due_date=DUE,
        grace_days=3,
        created_by=cast.collector_a,
    )
    for seq, instalment_status in enumerate(instalments, start=1):
        Instalment.objects.create(plan=plan, seq=seq, due_date=DUE, amount=D("200.00"), status=instalment_status)
    return plan


def test_a_move_moves_only_the_rows_still_in_the_from_status(negotiation_case, cast):
    pending, kept, other = _promises(negotiation_case, cast, P.PENDING, P.KEPT, P.PENDING)

    moved = promise_status_move(rows=[pending.pk, kept.pk], source=P.PENDING, target=P.BROKEN, resolved_at=NOW)

    assert moved == 1
    rows = dict(PromiseToPay.objects.values_list("pk", "status"))
    assert rows == {pending.pk: P.BROKEN, kept.pk: P.KEPT, other.pk: P.PENDING}
    assert PromiseToPay.objects.get(pk=pending.pk).resolved_at == NOW


@pytest.mark.parametrize(
    ("source", "target"),
    [(P.KEPT, P.PENDING), (P.BROKEN, P.KEPT), (P.CANCELLED, P.PENDING), (P.PENDING, P.PENDING)],
)
def test_a_promise_move_not_in_the_table_is_refused_and_changes_nothing(negotiation_case, cast, source, target):
    (promise,) = _promises(negotiation_case, cast, source)
    with pytest.raises(StatusMoveRefused):
        promise_status_move(rows=[promise.pk], source=source, target=target, resolved_at=NOW)
    promise.refresh_from_db()
    assert (promise.status, promise.resolved_at) == (source, None)


def test_an_instalment_move_not_in_the_table_is_refused_and_changes_nothing(negotiation_case, cast):
    plan = _plan(negotiation_case, cast, Plan.ACTIVE, instalments=("paid", "missed"))
    with pytest.raises(StatusMoveRefused):
        instalment_status_move(rows=plan.instalments.all(), source=Inst.PAID, target=Inst.MISSED)
    with pytest.raises(StatusMoveRefused):
        instalment_status_move(rows=plan.instalments.all(), source=Inst.MISSED, target=Inst.CANCELLED)
    assert list(plan.instalments.values_list("status", flat=True)) == [Inst.PAID, Inst.MISSED]


def test_a_plan_move_from_several_sources_is_refused_whole_when_one_is_not_allowed(negotiation_case, cast):
    draft = _plan(negotiation_case, cast, Plan.DRAFT)
    with pytest.raises(StatusMoveRefused, match=r"^A repayment plan cannot move from Completed to Cancelled\.$"):
        plan_status_move(rows=[draft.pk], source=[Plan.DRAFT, Plan.COMPLETED], target=Plan.CANCELLED)
    draft.refresh_from_db()
    assert draft.status == Plan.DRAFT
    assert plan_status_move(rows=[draft.pk], source=[Plan.DRAFT, Plan.ACTIVE], target=Plan.CANCELLED) == 1
    with pytest.raises(StatusMoveRefused):
        plan_status_move(rows=[draft.pk], source=Plan.CANCELLED, target=Plan.ACTIVE)
    draft.refresh_from_db()
    assert draft.status == Plan.CANCELLED


def test_the_status_is_the_target_never_a_change(negotiation_case, cast):
    (promise,) = _promises(negotiation_case, cast, P.PENDING)
    with pytest.raises(ValueError, match="give the status as the target"):
        promise_status_move(rows=[promise.pk], source=P.PENDING, target=P.KEPT, status=P.BROKEN)
    assert PromiseToPay.objects.get(pk=promise.pk).status == P.PENDING
