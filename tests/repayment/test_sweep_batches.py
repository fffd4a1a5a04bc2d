"""The batched sweep: a batch mixing set-based outcomes (kept, reminder, no-ops) and a case-moving one
(broken) settles each check exactly once; a second sweep changes nothing; claimed rows are skipped."""

import datetime as dt
import threading
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.db import connection, transaction

from collections_app.models import AuditLog, CaseEvent, DelinquentAccount, Notification, Stage
from repayment.models import FollowUpCheck, Payment, PaymentAllocation, PromiseToPay
from repayment.services import followups_sweep, promise_create
from repayment.services.followups import followups_sweep_all
from repayment.services.followups_bulk import claim

D = Decimal
SH = ZoneInfo("Asia/Shanghai")
DUE = dt.date(2026, 3, 5)  # grace 3: the due checks fall due on 9 March 00:00 local


def at(day: int, hour: int = 0) -> dt.datetime:
    return dt.datetime(2026, 3, day, hour, tzinfo=SH)


@pytest.fixture
def mixed(negotiation_case, cast, time_machine):
    """Three promises on one case: ``kept`` paid in full by its deadline (recorded the way an import or
    a late-arriving allocation leaves it: paid, still pending), ``broken`` unpaid, and ``later`` due on
    10 March whose reminder (8 March 09:00) is due."""
    time_machine.move_to(at(2, 10), tick=False)
    make = {"case": negotiation_case, "actor": cast.collector_a, "grace_days": 3}
    kept = promise_create(amount=D("100.00"), due_date=DUE, **make)
    broken = promise_create(amount=D("10.00"), due_date=DUE, **make)
    later = promise_create(amount=D("20.00"), due_date=dt.date(2026, 3, 10), **make)
    payment = Payment.objects.create(
        case=negotiation_case, amount=D("100.00"), paid_on=DUE, channel="cash", recorded_by=cast.collector_a
    )
    PaymentAllocation.objects.create(payment=payment, promise=kept, amount=D("100.00"))
    PromiseToPay.objects.filter(pk=kept.pk).update(paid_amount=D("100.00"))
    time_machine.move_to(at(9, 10), tick=False)
    return {"kept": kept, "broken": broken, "later": later}


def _state() -> dict:
    return {
        "checks": sorted(FollowUpCheck.objects.values_list("id", "status", "result", "attempts", "evaluated_at")),
        "promises": sorted(PromiseToPay.objects.values_list("id", "status", "resolved_at")),
        "events": CaseEvent.objects.count(),
        "notifications": sorted(Notification.objects.values_list("kind", "dedupe_key")),
        "audit": AuditLog.objects.count(),
        "broken_promises": list(DelinquentAccount.objects.values_list("broken_promises", flat=True)),
    }


@pytest.mark.django_db
@pytest.mark.parametrize("batch", [500, 2])
def test_mixed_batch_settles_each_check_once_and_a_second_sweep_changes_nothing(
    mixed, negotiation_case, cast, settings, batch
):
    settings.REPAYMENT_SWEEP_BATCH = batch
    outcomes = followups_sweep_all()
    # reminders of the two 5 March promises: paid → not needed, unpaid → too late (the due check decides)
    assert outcomes == {"not_needed": 1, "too_late": 1, "reminded": 1, "kept": 1, "broken": 1}
    due = FollowUpCheck.objects.filter(due_at__lte=at(9, 10))
    assert set(due.values_list("status", "attempts")) == {(FollowUpCheck.Status.DONE, 1)}
    statuses = dict(PromiseToPay.objects.values_list("id", "status"))
    assert statuses[mixed["kept"].pk] == PromiseToPay.Status.KEPT
    assert statuses[mixed["broken"].pk] == PromiseToPay.Status.BROKEN
    assert statuses[mixed["later"].pk] == PromiseToPay.Status.PENDING
    reminder = FollowUpCheck.objects.get(promise=mixed["later"], kind=FollowUpCheck.Kind.REMINDER)
    notes = Notification.objects.filter(recipient=cast.collector_a)
    assert list(notes.filter(kind="reminder").values_list("dedupe_key", flat=True)) == [f"reminder:{reminder.pk}"]
    assert notes.filter(kind="revisit").count() == 1
    for promise, outcome in ((mixed["kept"], "kept"), (mixed["broken"], "broken")):
        check = FollowUpCheck.objects.get(promise=promise, kind=FollowUpCheck.Kind.PROMISE_DUE)
        events = negotiation_case.events.filter(kind=CaseEvent.Kind.FOLLOW_UP, payload__check=check.pk)
        assert list(events.values_list("payload__outcome", flat=True)) == [outcome]
    negotiation_case.refresh_from_db()
    assert negotiation_case.stage == Stage.VISIT
    assert DelinquentAccount.objects.get(pk=negotiation_case.account_id).broken_promises == 1
    audits = AuditLog.objects.filter(action="followups.sweep_batch")
    assert audits.count() == (1 if batch == 500 else 3)
    assert any(mixed["kept"].pk in row.changes["kept_promises"] for row in audits)

    before = _state()
    assert followups_sweep_all() == {}
    assert followups_sweep() == {}
    assert _state() == before


@pytest.mark.django_db
def test_closed_case_cancels_its_pending_promise_in_the_batch(mixed, negotiation_case):
    from collections_app.models import Case

    Case.objects.filter(pk=negotiation_case.pk).update(stage=Stage.CLOSED)
    outcomes = followups_sweep()
    assert outcomes == {"not_needed": 3, "case_closed": 2}
    assert set(PromiseToPay.objects.filter(due_date=DUE).values_list("status", flat=True)) == {
        PromiseToPay.Status.CANCELLED
    }
    assert not Notification.objects.exists()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_rows_claimed_by_one_worker_are_skipped_by_another(mixed):
    """skip_locked: while one transaction holds the first due check, a concurrent sweep takes the rest."""
    now = at(9, 10)
    assert connection.vendor == "postgresql"
    seen: dict = {}

    def other_worker():
        try:
            seen["outcomes"] = followups_sweep(now=now)
        finally:
            from django.db import connections

            connections.close_all()

    with transaction.atomic():
        held = claim(now, 1)[0]
        worker = threading.Thread(target=other_worker)
        worker.start()
        worker.join(60)
    assert sum(seen["outcomes"].values()) == 4
    held = FollowUpCheck.objects.get(pk=held.pk)
    assert (held.status, held.attempts) == (FollowUpCheck.Status.PENDING, 0)
    assert followups_sweep(now=now) == {"not_needed": 1}
    assert followups_sweep(now=now) == {}


@pytest.mark.django_db
def test_one_sweep_is_one_batch_and_sweep_all_stops_at_its_limit(mixed, settings):
    settings.REPAYMENT_SWEEP_BATCH = 2
    assert sum(followups_sweep().values()) == 2
    assert sum(followups_sweep_all(limit=1).values()) == 1
    assert sum(followups_sweep_all().values()) == 2
    assert not FollowUpCheck.objects.filter(status=FollowUpCheck.Status.PENDING, due_at__lte=at(9, 10)).exists()
