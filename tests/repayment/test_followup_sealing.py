"""The follow-up sweep leaves the events it writes unsealed and the hash chain's beat task seals them: until
then a verification counts them as not yet sealed (never as tampering); after it every chain verifies whole,
and a backlog larger than one run drains run after run."""

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from collections_app import chain
from collections_app.models import AuditLog, CaseEvent, Stage
from collections_app.services.bulk_rows import insert_rows
from collections_app.tasks import seal_chains
from repayment.models import Payment, PaymentAllocation, PromiseToPay
from repayment.services import promise_create
from repayment.services.followups import followups_sweep_all
from tests.factories import case_walked_to

pytestmark = pytest.mark.django_db
SH = ZoneInfo("Asia/Shanghai")
DUE = dt.date(2026, 3, 5)  # grace 3: the checks fall due on 9 March 00:00 local
NOW = dt.datetime(2026, 4, 2, 10, 0, tzinfo=SH)


def _promise(case, cast, amount: str) -> PromiseToPay:
    return promise_create(case=case, actor=cast.collector_a, amount=Decimal(amount), due_date=DUE, grace_days=3)


@pytest.fixture
def swept(cast, time_machine, django_capture_on_commit_callbacks):
    """Two cases in follow-up, one promise broken and one kept, swept with every commit hook run; the users'
    own writes were sealed before the sweep, so what is left unsealed is the sweep's."""
    time_machine.move_to(dt.datetime(2026, 3, 2, 10, tzinfo=SH), tick=False)
    broken, kept = case_walked_to(cast), case_walked_to(cast)
    _promise(broken, cast, "10.00")
    promise = _promise(kept, cast, "10.00")
    payment = Payment.objects.create(
        case=kept, amount=Decimal("10.00"), paid_on=DUE, channel="cash", recorded_by=cast.collector_a
    )
    PaymentAllocation.objects.create(payment=payment, promise=promise, amount=Decimal("10.00"))
    PromiseToPay.objects.filter(pk=promise.pk).update(paid_amount=Decimal("10.00"))
    chain.seal_pending()
    assert not CaseEvent.objects.filter(chain_hash="").exists()
    time_machine.move_to(NOW, tick=False)
    with django_capture_on_commit_callbacks(execute=True):
        outcomes = followups_sweep_all(now=NOW)
    assert (outcomes["broken"], outcomes["kept"]) == (1, 1)  # and the two reminders, too late or not needed
    broken.refresh_from_db()
    assert broken.stage == Stage.VISIT
    return broken, kept


def test_the_sweep_leaves_its_events_unsealed_and_verification_counts_them_as_pending(swept):
    broken, kept = swept
    left = CaseEvent.objects.filter(chain_hash="")
    assert set(left.values_list("case_id", flat=True)) == {broken.pk, kept.pk}
    assert left.filter(case=broken, kind=CaseEvent.Kind.TRANSITION, to_stage=Stage.VISIT).exists()
    assert left.filter(case=kept, kind=CaseEvent.Kind.FOLLOW_UP).exists()
    for case in (broken, kept):
        report = chain.verify_case(case.pk)
        assert report.ok and report.unsealed == left.filter(case=case).count()
        assert report.links == CaseEvent.objects.filter(case=case).count() - report.unsealed


def test_the_beat_task_seals_everything_the_sweep_left(swept):
    pending = CaseEvent.objects.filter(chain_hash="").count() + AuditLog.objects.filter(chain_hash="").count()
    assert pending > 0
    assert seal_chains() == pending
    assert not CaseEvent.objects.filter(chain_hash="").exists() and not AuditLog.objects.filter(chain_hash="").exists()
    for case in swept:
        report = chain.verify_case(case.pk)
        assert report.ok and report.unsealed == 0 and report.links == CaseEvent.objects.filter(case=case).count()
    assert chain.verify_audit().ok
    assert seal_chains() == 0


def test_a_backlog_larger_than_one_run_drains_run_after_run(swept, cast, monkeypatch):
    """Each run seals at least one batch and commits it, so whatever was left is sealed by a later run."""
    third = case_walked_to(cast)
    insert_rows(CaseEvent, [{"case_id": third.pk, "kind": CaseEvent.Kind.NOTE, "payload": {"n": n}} for n in range(3)])
    cases_left = CaseEvent.objects.filter(chain_hash="").values("case_id").distinct().count()
    assert cases_left == 3
    monkeypatch.setattr(chain, "SWEEP_CASES", 1)  # one case a batch; no time for a second batch in a run
    runs = 0
    while chain.seal_pending(max_seconds=0):
        runs += 1
    assert runs == cases_left
    assert not CaseEvent.objects.filter(chain_hash="").exists() and not AuditLog.objects.filter(chain_hash="").exists()
    for case in (*swept, third):
        assert chain.verify_case(case.pk).ok
