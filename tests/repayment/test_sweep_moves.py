"""Case-moving outcomes written set-based for a whole batch (``repayment.services.followups_bulk``): every row
each outcome writes, a case's second revisit in one batch, a case moved by a user before its lock, a constant
statement count; and ``cases_transition_bulk``, which moves the cases."""

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from collections_app.exceptions import TransitionNotAllowed
from collections_app.models import AuditLog, Case, CaseEvent, DelinquentAccount, Notification, Stage
from collections_app.services.cases import case_transition, cases_transition_bulk
from collections_app.workflow import NEXT_STEPS
from repayment.models import FollowUpCheck, Instalment, Payment, PaymentAllocation, PromiseToPay, RepaymentPlan
from repayment.services import followups, followups_sweep, payment_record, plan_propose, promise_create
from repayment.services.followups import followups_sweep_all
from tests.factories import case_walked_to

pytestmark = pytest.mark.django_db
D = Decimal
SH = ZoneInfo("Asia/Shanghai")
DUE = dt.date(2026, 3, 5)  # grace 3: the due checks fall due on 9 March 00:00 local
NOW = dt.datetime(2026, 4, 2, 10, 0, tzinfo=SH)  # past every due check below, and the care revisit (1 April)


def at(day: int, hour: int = 0) -> dt.datetime:
    return dt.datetime(2026, 3, day, hour, tzinfo=SH)


def _promise(case, cast, amount: str, due: dt.date = DUE) -> PromiseToPay:
    return promise_create(case=case, actor=cast.collector_a, amount=D(amount), due_date=due, grace_days=3)


def _paid(case, cast, promise: PromiseToPay, amount: str, paid_on: dt.date) -> None:
    """Paid in time, the way an import or a late-arriving allocation leaves it (the promise still pending)."""
    payment = Payment.objects.create(
        case=case, amount=D(amount), paid_on=paid_on, channel="cash", recorded_by=cast.collector_a
    )
    PaymentAllocation.objects.create(payment=payment, promise=promise, amount=D(amount))
    PromiseToPay.objects.filter(pk=promise.pk).update(paid_amount=D(amount))


def _plan(case, cast) -> RepaymentPlan:
    return plan_propose(
        case=case,
        actor=cast.collector_a,
        kind=RepaymentPlan.Kind.INSTALMENTS,
        base_amount=D("600.00"),
        instalment_count=3,
        first_due_date=DUE,
        grace_days=3,
    )


@pytest.fixture
def book(cast, time_machine, settings):
    """Every kind of due check, on six cases of collector A (built on 2 March, swept on 2 April):

    * ``two`` (follow-up): a broken promise and a partly kept one, due together: two case-moving checks
      on one case;
    * ``plan`` (follow-up): a plan whose first instalment is missed: it defaults; the account had one broken
      promise already, so the supervisor is alerted at the second (``REPAYMENT_BROKEN_PROMISES_ALERT`` = 2);
    * ``cured``: paid in full on 2 March, closed: its care revisit is due;
    * ``kept`` (follow-up): a promise paid in full by its deadline, and a later promise whose reminder is due;
    * ``moved``: a broken promise on a case the collector took back to negotiation before the sweep;
    * ``bare`` (follow-up, no collector): a broken promise whose reminder failed once and waits for its
      retry (not due): resolving the promise cancels it.
    """
    settings.REPAYMENT_BROKEN_PROMISES_ALERT = 2
    time_machine.move_to(at(2, 10), tick=False)
    cases = {name: case_walked_to(cast) for name in ("two", "plan", "cured", "kept", "moved", "bare")}
    _promise(cases["two"], cast, "10.00")
    partly = _promise(cases["two"], cast, "100.00")
    _plan(cases["plan"], cast)
    DelinquentAccount.objects.filter(pk=cases["plan"].account_id).update(broken_promises=1)
    payment_record(
        case=cases["cured"], actor=cast.collector_a, amount=D("5000.00"), paid_on=at(2).date(), channel="cash"
    )
    kept = _promise(cases["kept"], cast, "100.00")
    _promise(cases["kept"], cast, "20.00", due=dt.date(2026, 4, 3))
    _promise(cases["moved"], cast, "50.00")
    case_transition(case=cases["moved"], target=Stage.NEGOTIATION, actor=cast.collector_a)
    bare = _promise(cases["bare"], cast, "30.00")
    Case.objects.filter(pk=cases["bare"].pk).update(assigned_collector=None)
    retry = NOW + dt.timedelta(minutes=2)
    FollowUpCheck.objects.filter(promise=bare, kind=FollowUpCheck.Kind.REMINDER).update(due_at=retry, attempts=1)
    time_machine.move_to(at(4, 12), tick=False)
    _paid(cases["two"], cast, partly, "40.00", at(4).date())
    _paid(cases["kept"], cast, kept, "100.00", DUE)
    time_machine.move_to(NOW, tick=False)
    for case in cases.values():
        case.refresh_from_db()
    return cases


def _marks() -> tuple[int, int, int]:
    last = [
        model.objects.order_by("-id").values_list("id", flat=True).first() or 0
        for model in (CaseEvent, Notification, AuditLog)
    ]
    return tuple(last)


def test_a_batch_of_every_kind_writes_each_outcome(book, cast):
    marks = _marks()

    outcomes = followups_sweep_all(now=NOW)

    assert outcomes == {
        "broken": 3,
        "partially_kept": 1,
        "defaulted": 1,
        "care_revisit_due": 1,
        "kept": 1,
        "reminded": 1,
        "not_needed": 1,  # the kept promise's reminder
        "too_late": 4,  # the unpaid promises' and the first instalment's reminders
    }
    promises = {
        (case.pk, amount): (status, resolved_at)
        for case in book.values()
        for amount, status, resolved_at in PromiseToPay.objects.filter(case=case).values_list(
            "amount", "status", "resolved_at"
        )
    }
    assert promises == {
        (book["two"].pk, D("10.00")): (PromiseToPay.Status.BROKEN, NOW),
        (book["two"].pk, D("100.00")): (PromiseToPay.Status.PARTIALLY_KEPT, NOW),
        (book["kept"].pk, D("100.00")): (PromiseToPay.Status.KEPT, NOW),
        (book["kept"].pk, D("20.00")): (PromiseToPay.Status.PENDING, None),
        (book["moved"].pk, D("50.00")): (PromiseToPay.Status.BROKEN, NOW),
        (book["bare"].pk, D("30.00")): (PromiseToPay.Status.BROKEN, NOW),
    }
    plan = RepaymentPlan.objects.get(case=book["plan"])
    assert (plan.status, plan.closed_at) == (RepaymentPlan.Status.DEFAULTED, NOW)
    assert list(plan.instalments.values_list("seq", "status", "resolved_at")) == [
        (1, Instalment.Status.MISSED, NOW),
        (2, Instalment.Status.CANCELLED, None),
        (3, Instalment.Status.CANCELLED, None),
    ]
    cases = {name: Case.objects.get(pk=case.pk) for name, case in book.items()}
    assert {name: (case.stage, case.next_action, case.next_action_due) for name, case in cases.items()} == {
        # two revisits of one case in one batch: moved once, the next action is the later reason
        "two": (Stage.VISIT, "promise of 100.00 due 2026-03-05 was only partly kept; revisit the borrower.", NOW),
        "plan": (
            Stage.VISIT,
            "instalment 1 of 200.00 due 2026-03-05 was missed; the plan defaulted. Revisit the borrower.",
            NOW,
        ),
        "cured": (Stage.CLOSED, "", None),
        # a kept promise leaves the follow-up step the move to follow-up wrote (undated)
        "kept": (Stage.FOLLOW_UP, NEXT_STEPS[Stage.FOLLOW_UP], None),
        "moved": (Stage.NEGOTIATION, "promise of 50.00 due 2026-03-05 was broken; revisit the borrower.", NOW),
        "bare": (Stage.VISIT, "promise of 30.00 due 2026-03-05 was broken; revisit the borrower.", NOW),
    }
    moves = CaseEvent.objects.filter(pk__gt=marks[0], kind=CaseEvent.Kind.TRANSITION)
    assert sorted(moves.values_list("case_id", "from_stage", "to_stage", "stage_seconds", "payload__note")) == sorted(
        [
            # the first revisit moves the case, with its reason as the transition's note
            (
                book["two"].pk,
                Stage.FOLLOW_UP,
                Stage.VISIT,
                31 * 86400,
                "promise of 10.00 due 2026-03-05 was broken; revisit the borrower.",
            ),
            (book["plan"].pk, Stage.FOLLOW_UP, Stage.VISIT, 31 * 86400, cases["plan"].next_action),
            (book["bare"].pk, Stage.FOLLOW_UP, Stage.VISIT, 31 * 86400, cases["bare"].next_action),
        ]
    )
    follow_ups = CaseEvent.objects.filter(pk__gt=marks[0], case=book["two"], kind=CaseEvent.Kind.FOLLOW_UP)
    assert [
        (e["outcome"], e["paid"], e["amount"]) for e in follow_ups.order_by("id").values_list("payload", flat=True)
    ] == [
        ("broken", "0.00", "10.00"),
        ("partially_kept", "40.00", "100.00"),
    ]
    plan_events = CaseEvent.objects.filter(pk__gt=marks[0], case=book["plan"], kind=CaseEvent.Kind.PLAN)
    assert list(plan_events.values_list("payload", flat=True)) == [{"plan": plan.pk, "status": "defaulted"}]
    counts = dict(DelinquentAccount.objects.filter(cases__in=book.values()).values_list("cases__id", "broken_promises"))
    assert counts == {
        book["two"].pk: 1,
        book["plan"].pk: 2,
        book["cured"].pk: 0,
        book["kept"].pk: 0,
        book["moved"].pk: 1,
        book["bare"].pk: 1,
    }
    notes = Notification.objects.filter(pk__gt=marks[1])
    assert sorted(notes.values_list("recipient__username", "kind")) == sorted(
        [("collector_a", "revisit")] * 4  # two, two, plan, moved (bare has no collector)
        + [("supervisor_x", "broken_promises"), ("collector_a", "care_revisit"), ("collector_a", "reminder")]
    )
    # Each message keeps its msgid and values, down to the revisit reason's own.
    revisit = notes.get(kind="revisit", case=book["plan"])
    assert revisit.template == "Case #%(case)s: %(reason)s"
    assert revisit.params == {
        "case": book["plan"].pk,
        "reason": {
            "template": (
                "instalment %(seq)s of %(amount)s due %(date)s was missed; the plan defaulted. Revisit the borrower."
            ),
            "params": {"seq": 1, "amount": {"money": "200.00", "currency": "CNY"}, "date": {"date": "2026-03-05"}},
        },
    }
    reminder = notes.get(kind="reminder")
    assert reminder.params == {
        "case": book["kept"].pk,
        "amount": {"money": "20.00", "currency": "CNY"},
        "date": {"date": "2026-04-03"},
    }
    alert = notes.get(kind="broken_promises")
    assert alert.template == "Account %(no)s (case #%(case)s) has %(count)s broken promises."
    assert alert.params == {"no": book["plan"].account.account_no, "case": book["plan"].pk, "count": 2}
    assert alert.dedupe_key == f"broken-promises:{book['plan'].account_id}:2"
    assert notes.get(kind="care_revisit").params == {"case": book["cured"].pk}
    (audit,) = AuditLog.objects.filter(action="followups.sweep_batch", pk__gt=marks[2])
    assert audit.changes["moved_to_visit"] == sorted([book["plan"].pk, book["bare"].pk, book["two"].pk])
    assert len(audit.changes["broken_promises"]) == 3 and audit.changes["defaulted_plans"] == [plan.pk]
    transitions = AuditLog.objects.filter(pk__gt=marks[2], action="case.transition")
    assert sorted(transitions.values_list("object_id", "changes", "actor_id")) == sorted(
        (str(book[name].pk), {"stage": [Stage.FOLLOW_UP, Stage.VISIT]}, None) for name in ("two", "plan", "bare")
    )
    cancelled = FollowUpCheck.objects.filter(status=FollowUpCheck.Status.CANCELLED)
    assert sorted(cancelled.values_list("kind", "result")) == [
        (FollowUpCheck.Kind.INSTALMENT_DUE, "plan_defaulted"),
        (FollowUpCheck.Kind.INSTALMENT_DUE, "plan_defaulted"),
        (FollowUpCheck.Kind.REMINDER, "plan_defaulted"),
        (FollowUpCheck.Kind.REMINDER, "plan_defaulted"),
        (FollowUpCheck.Kind.REMINDER, "promise_resolved"),
    ]
    assert followups_sweep(now=NOW) == {}


def test_a_case_moved_by_a_user_after_the_claim_is_decided_on_its_locked_stage(cast, time_machine, monkeypatch):
    time_machine.move_to(at(2, 10), tick=False)
    case = case_walked_to(cast)
    promise = _promise(case, cast, "10.00")
    time_machine.move_to(at(9, 8), tick=False)
    claim = followups.claim

    def claim_then_user_moves_the_case(now, size, check_id=None):
        checks = claim(now, size, check_id)
        # The collector takes the case back to negotiation between the claim and the batch's case lock.
        Case.objects.filter(pk=case.pk).update(stage=Stage.NEGOTIATION)
        return checks

    monkeypatch.setattr(followups, "claim", claim_then_user_moves_the_case)
    marks = _marks()
    assert followups_sweep() == {"too_late": 1, "broken": 1}

    promise.refresh_from_db()
    case.refresh_from_db()
    assert promise.status == PromiseToPay.Status.BROKEN
    assert case.stage == Stage.NEGOTIATION  # not sent to visit over the user's move
    assert case.next_action == "promise of 10.00 due 2026-03-05 was broken; revisit the borrower."
    assert case.next_action_due == at(9, 8)
    assert not CaseEvent.objects.filter(pk__gt=marks[0], kind=CaseEvent.Kind.TRANSITION).exists()
    assert DelinquentAccount.objects.get(pk=case.account_id).broken_promises == 1
    assert Notification.objects.filter(kind="revisit", case=case).count() == 1
    (audit,) = AuditLog.objects.filter(action="followups.sweep_batch")
    assert audit.changes["moved_to_visit"] == [] and audit.changes["broken_promises"] == [promise.pk]


def _slow_book(cast, per_kind: int) -> None:
    """``per_kind`` follow-up cases each with one broken, one partly kept, one defaulted plan; and as many
    cured cases with a care revisit (built on 2 March, all due by ``NOW``)."""
    for _n in range(per_kind):
        _promise(case_walked_to(cast), cast, "10.00")
        partly_case = case_walked_to(cast)
        partly = _promise(partly_case, cast, "100.00")
        _paid(partly_case, cast, partly, "40.00", at(2).date())
        _plan(case_walked_to(cast), cast)
        payment_record(
            case=case_walked_to(cast), actor=cast.collector_a, amount=D("5000.00"), paid_on=at(2).date(), channel="cash"
        )


def test_statement_count_of_a_batch_does_not_grow_with_its_case_moving_checks(cast, time_machine):
    counts, outcomes = [], []
    for per_kind in (1, 12):  # 4, then 48 case-moving checks
        time_machine.move_to(at(2, 10), tick=False)
        _slow_book(cast, per_kind)
        time_machine.move_to(NOW, tick=False)
        with CaptureQueriesContext(connection) as queries:
            outcomes.append(followups_sweep(now=NOW))
        counts.append(len(queries))
    assert outcomes == [
        {"broken": n, "partially_kept": n, "defaulted": n, "care_revisit_due": n, "too_late": 3 * n} for n in (1, 12)
    ]
    assert counts[0] == counts[1]
    assert counts[1] <= 31  # claim, locks, one statement per kind of write, savepoints, audit


def test_bulk_transition_moves_only_the_cases_still_in_the_stage_read(cast, time_machine):
    """``cases_transition_bulk``: compare-and-set per case; the moved ones get their event (with the time
    spent in the stage left) and audit row, a case moved since the caller's read is left out untouched."""
    time_machine.move_to(at(2, 10), tick=False)
    fresh, stale = case_walked_to(cast, Stage.VISIT), case_walked_to(cast, Stage.VISIT)
    time_machine.move_to(at(3, 10), tick=False)
    case_transition(case=Case.objects.get(pk=stale.pk), target=Stage.PREPARATION, actor=cast.collector_a)
    time_machine.move_to(at(4, 10), tick=False)
    marks = _marks()

    moved = cases_transition_bulk(
        cases=[fresh, stale],  # both as read on 2 March, in visit
        target=Stage.NEGOTIATION,
        actor=cast.collector_a,
        notes={fresh.pk: "agreed to talk"},
        fields={pk: {"next_action": "call back", "next_action_due": at(5, 9)} for pk in (fresh.pk, stale.pk)},
    )

    assert moved == [fresh]
    rows = dict(Case.objects.filter(pk__in=[fresh.pk, stale.pk]).values_list("pk", "stage"))
    assert rows == {fresh.pk: Stage.NEGOTIATION, stale.pk: Stage.PREPARATION}
    fresh.refresh_from_db()
    assert (fresh.stage_changed_at, fresh.next_action, fresh.next_action_due) == (at(4, 10), "call back", at(5, 9))
    events = CaseEvent.objects.filter(pk__gt=marks[0])
    assert list(events.values_list("case_id", "from_stage", "to_stage", "stage_seconds", "payload", "actor_id")) == [
        (fresh.pk, Stage.VISIT, Stage.NEGOTIATION, 2 * 86400, {"note": "agreed to talk"}, cast.collector_a.pk)
    ]
    audits = AuditLog.objects.filter(pk__gt=marks[2])
    assert list(audits.values_list("action", "object_id", "changes", "actor_id")) == [
        ("case.transition", str(fresh.pk), {"stage": [Stage.VISIT, Stage.NEGOTIATION]}, cast.collector_a.pk)
    ]


def test_bulk_transition_refuses_what_case_transition_refuses(cast):
    case = case_walked_to(cast, Stage.VISIT)
    with pytest.raises(TransitionNotAllowed):
        cases_transition_bulk(cases=[case], target=Stage.CLOSED, actor=None)  # closing stays one by one
    with pytest.raises(TransitionNotAllowed):
        cases_transition_bulk(cases=[case], target=Stage.SCREENING, actor=cast.collector_a)  # not in the table
    with pytest.raises(TransitionNotAllowed):
        cases_transition_bulk(cases=[case], target=Stage.NEGOTIATION, actor=cast.collector_b)  # not their case
    assert Case.objects.get(pk=case.pk).stage == Stage.VISIT
