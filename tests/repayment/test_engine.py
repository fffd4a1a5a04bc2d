"""The follow-up engine with frozen time: grace boundaries, revisits, alerts, reminders, care, idempotency."""

import datetime as dt
from decimal import Decimal
from io import StringIO
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command

from collections_app.models import Branch, CaseEvent, DelinquentAccount, Notification, Stage
from repayment.models import FollowUpCheck, Instalment, PromiseToPay, RepaymentPlan
from repayment.services import followup_evaluate, followups_sweep, payment_record, plan_propose, promise_create
from tests.factories import case_walked_to

pytestmark = pytest.mark.django_db
D = Decimal
SH = ZoneInfo("Asia/Shanghai")
DUE = dt.date(2026, 3, 5)  # grace 3 → the last grace day is 8 March; the deadline is 9 March 00:00 local


def at(day: int, hour: int = 0, minute: int = 0, second: int = 0) -> dt.datetime:
    return dt.datetime(2026, 3, day, hour, minute, second, tzinfo=SH)


@pytest.fixture
def promise(negotiation_case, cast, time_machine):
    time_machine.move_to(at(2, 10), tick=False)
    return promise_create(case=negotiation_case, actor=cast.collector_a, amount=D("100.00"), due_date=DUE, grace_days=3)


def _pay(case, actor, amount, paid_on):
    return payment_record(case=case, actor=actor, amount=D(amount), paid_on=paid_on, channel="cash")


def test_promise_moves_case_to_follow_up_and_schedules_its_check(promise, negotiation_case):
    negotiation_case.refresh_from_db()
    assert negotiation_case.stage == Stage.FOLLOW_UP
    check = FollowUpCheck.objects.get(promise=promise, kind=FollowUpCheck.Kind.PROMISE_DUE)
    assert check.due_at == at(9)


def test_not_evaluated_before_the_end_of_the_last_grace_day(promise, time_machine):
    time_machine.move_to(at(8, 23, 59, 59), tick=False)
    followups_sweep()
    promise.refresh_from_db()
    assert promise.status == PromiseToPay.Status.PENDING


def test_unpaid_promise_broken_at_deadline_and_case_sent_for_revisit(promise, negotiation_case, cast, time_machine):
    time_machine.move_to(at(9), tick=False)
    outcomes = followups_sweep()
    assert outcomes.get("broken") == 1
    promise.refresh_from_db()
    negotiation_case.refresh_from_db()
    account = DelinquentAccount.objects.get(pk=negotiation_case.account_id)
    assert promise.status == PromiseToPay.Status.BROKEN
    assert negotiation_case.stage == Stage.VISIT
    assert negotiation_case.next_action and negotiation_case.next_action_due == at(9)
    assert account.broken_promises == 1
    assert Notification.objects.filter(recipient=cast.collector_a, kind="revisit").count() == 1
    # the threshold (2) is not reached yet
    assert not Notification.objects.filter(recipient=cast.supervisor_x).exists()


def test_paid_on_the_last_grace_day_is_kept(promise, negotiation_case, cast, time_machine):
    time_machine.move_to(at(8, 18), tick=False)
    _pay(negotiation_case, cast.collector_a, "100.00", dt.date(2026, 3, 8))
    time_machine.move_to(at(9, 0, 1), tick=False)
    followups_sweep()
    promise.refresh_from_db()
    negotiation_case.refresh_from_db()
    assert promise.status == PromiseToPay.Status.KEPT
    assert negotiation_case.stage != Stage.VISIT
    assert DelinquentAccount.objects.get(pk=negotiation_case.account_id).broken_promises == 0


def test_partly_paid_in_time_is_partially_kept_and_revisited(promise, negotiation_case, cast, time_machine):
    time_machine.move_to(at(8, 18), tick=False)
    _pay(negotiation_case, cast.collector_a, "40.00", dt.date(2026, 3, 8))
    time_machine.move_to(at(9), tick=False)
    followups_sweep()
    promise.refresh_from_db()
    negotiation_case.refresh_from_db()
    assert promise.status == PromiseToPay.Status.PARTIALLY_KEPT
    assert promise.paid_amount == D("40.00")
    assert negotiation_case.stage == Stage.VISIT
    assert DelinquentAccount.objects.get(pk=negotiation_case.account_id).broken_promises == 0


def test_paid_the_day_after_grace_is_broken_even_if_recorded_before_the_sweep(
    promise, negotiation_case, cast, time_machine
):
    time_machine.move_to(at(9, 8), tick=False)
    _pay(negotiation_case, cast.collector_a, "100.00", dt.date(2026, 3, 9))
    promise.refresh_from_db()
    assert promise.status == PromiseToPay.Status.PENDING  # late: the engine decides
    followups_sweep()
    promise.refresh_from_db()
    assert promise.status == PromiseToPay.Status.BROKEN


def test_sweep_twice_marks_alerts_and_revisits_once(promise, negotiation_case, cast, time_machine):
    time_machine.move_to(at(9), tick=False)
    followups_sweep()
    assert followups_sweep() == {}
    check = FollowUpCheck.objects.get(promise=promise, kind=FollowUpCheck.Kind.PROMISE_DUE)
    assert followup_evaluate(check_id=check.pk) is None
    check.refresh_from_db()
    assert (check.status, check.attempts, check.result) == (FollowUpCheck.Status.DONE, 1, "broken")
    assert DelinquentAccount.objects.get(pk=negotiation_case.account_id).broken_promises == 1
    assert Notification.objects.filter(kind="revisit").count() == 1
    transitions = negotiation_case.events.filter(
        kind=CaseEvent.Kind.TRANSITION, from_stage=Stage.FOLLOW_UP, to_stage=Stage.VISIT
    )
    assert transitions.count() == 1


def test_supervisor_alerted_once_at_the_threshold(negotiation_case, cast, time_machine, settings):
    settings.REPAYMENT_BROKEN_PROMISES_ALERT = 2
    time_machine.move_to(at(2, 10), tick=False)
    for _ in range(2):
        promise_create(case=negotiation_case, actor=cast.collector_a, amount=D("10.00"), due_date=DUE, grace_days=3)
    time_machine.move_to(at(9), tick=False)
    followups_sweep()
    followups_sweep()
    assert DelinquentAccount.objects.get(pk=negotiation_case.account_id).broken_promises == 2
    alerts = Notification.objects.filter(recipient=cast.supervisor_x, kind="broken_promises")
    assert alerts.count() == 1
    # the second revisit of the same case: one notification per broken promise, stage moved once
    assert Notification.objects.filter(recipient=cast.collector_a, kind="revisit").count() == 2


def test_reminder_before_the_due_date(promise, cast, time_machine, settings):
    reminder = FollowUpCheck.objects.get(promise=promise, kind=FollowUpCheck.Kind.REMINDER)
    assert reminder.due_at == at(3, 9)  # two lead days before 5 March, 09:00 local
    time_machine.move_to(at(3, 9), tick=False)
    assert followups_sweep() == {"reminded": 1}
    followups_sweep()
    assert Notification.objects.filter(recipient=cast.collector_a, kind="reminder").count() == 1


def test_missed_instalment_defaults_the_plan(negotiation_case, cast, time_machine):
    time_machine.move_to(at(2, 10), tick=False)
    plan = plan_propose(
        case=negotiation_case,
        actor=cast.collector_a,
        kind=RepaymentPlan.Kind.INSTALMENTS,
        base_amount=D("600.00"),
        instalment_count=3,
        first_due_date=DUE,
        grace_days=3,
    )
    time_machine.move_to(at(8, 12), tick=False)
    _pay(negotiation_case, cast.collector_a, "150.00", dt.date(2026, 3, 8))
    time_machine.move_to(at(9), tick=False)
    assert followups_sweep() == {"too_late": 1, "defaulted": 1}
    plan.refresh_from_db()
    negotiation_case.refresh_from_db()
    assert plan.status == RepaymentPlan.Status.DEFAULTED
    statuses = list(plan.instalments.values_list("status", flat=True))
    assert statuses == [Instalment.Status.MISSED, Instalment.Status.CANCELLED, Instalment.Status.CANCELLED]
    assert negotiation_case.stage == Stage.VISIT
    assert not FollowUpCheck.objects.filter(instalment__plan=plan, status=FollowUpCheck.Status.PENDING).exists()
    assert DelinquentAccount.objects.get(pk=negotiation_case.account_id).broken_promises == 1


def test_care_revisit_after_cure(negotiation_case, cast, time_machine):
    time_machine.move_to(at(2, 10), tick=False)
    _pay(negotiation_case, cast.collector_a, "5000.00", dt.date(2026, 3, 2))
    negotiation_case.refresh_from_db()
    assert negotiation_case.stage == Stage.CLOSED
    time_machine.move_to(dt.datetime(2026, 4, 1, 9, 0, tzinfo=SH), tick=False)
    assert followups_sweep() == {"care_revisit_due": 1}
    assert Notification.objects.filter(recipient=cast.collector_a, kind="care_revisit").count() == 1


def test_a_check_that_fails_is_retried_with_backoff_and_the_rest_of_its_batch_settles(cast, time_machine):
    """A branch whose time zone is not a zone name breaks its reminders: the batch falls back to batches of one,
    the other branch's reminder is sent, the broken one waits two minutes for its retry."""
    time_machine.move_to(at(2, 10), tick=False)
    broken_case, good_case = case_walked_to(cast), case_walked_to(cast)
    DelinquentAccount.objects.filter(pk=good_case.account_id).update(branch=cast.branch_b)
    for case in (broken_case, good_case):
        promise_create(case=case, actor=cast.collector_a, amount=D("10.00"), due_date=DUE, grace_days=3)
    Branch.objects.filter(pk=cast.branch_a.pk).update(timezone="Mars/Olympus_Mons")
    time_machine.move_to(at(3, 9), tick=False)

    assert followups_sweep() == {"error": 1, "reminded": 1}

    checks = FollowUpCheck.objects.filter(kind=FollowUpCheck.Kind.REMINDER)
    failed = checks.get(case=broken_case)
    assert (failed.status, failed.attempts, failed.due_at) == (FollowUpCheck.Status.PENDING, 1, at(3, 9, 2))
    assert failed.last_error == "ZoneInfoNotFoundError: 'No time zone found with key Mars/Olympus_Mons'"
    sent = checks.get(case=good_case)
    assert (sent.status, sent.result, sent.attempts) == (FollowUpCheck.Status.DONE, "reminded", 1)
    assert list(Notification.objects.values_list("case_id", "kind")) == [(good_case.pk, "reminder")]
    assert followups_sweep() == {}  # the retry is not due yet


def test_management_command_runs_one_sweep(promise, time_machine):
    time_machine.move_to(at(9), tick=False)
    out = StringIO()
    call_command("followups", "--run-once", stdout=out)
    assert "broken: 1" in out.getvalue()
    promise.refresh_from_db()
    assert promise.status == PromiseToPay.Status.BROKEN
