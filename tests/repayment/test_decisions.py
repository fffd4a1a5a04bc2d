"""The follow-up engine's decisions as pure functions: plain rows in, a decision value out, no database."""

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

from collections_app.models import Stage
from repayment.services.followups_decisions import (
    BROKEN_REASON,
    CARE_TEXT,
    DEFAULTED_REASON,
    REMINDER_TEXT,
    CaseFacts,
    Decision,
    DueCheck,
    Facts,
    Notice,
    Obligation,
    Revisit,
    decide_batch,
    decide_care,
    decide_instalment,
    decide_promise,
    decide_reminder,
)

D = Decimal
SH = ZoneInfo("Asia/Shanghai")
DUE = dt.date(2026, 3, 5)  # grace 3: the last grace day is 8 March
NOW = dt.datetime(2026, 3, 9, 0, 0, tzinfo=SH)


def _check(pk=1, kind="promise_due", promise_id=10, instalment_id=None, case_id=7) -> DueCheck:
    return DueCheck(pk, kind, NOW, case_id, promise_id, instalment_id, f"{kind}:{pk}")


def _case(stage=Stage.FOLLOW_UP, collector_id=3, supervisor_id=4, pk=7) -> CaseFacts:
    return CaseFacts(pk, stage, NOW, 70, collector_id, supervisor_id, "Asia/Shanghai", "CNY", "AC-70")


def _promise(payments=(), status="pending", pk=10, amount="100.00") -> Obligation:
    return Obligation(pk, status, D(amount), sum((a for a, _d in payments), D("0.00")), DUE, 3, tuple(payments))


def _instalment(pk, seq, payments=(), status="pending", plan_id=50) -> Obligation:
    return Obligation(pk, status, D("200.00"), D("0.00"), DUE, 3, tuple(payments), plan_id=plan_id, seq=seq)


def test_paid_in_full_on_the_last_grace_day_is_kept_with_its_event():
    check = _check()
    decision = decide_promise(check, _case(), _promise([(D("100.00"), dt.date(2026, 3, 8))]))
    assert decision == Decision(
        check,
        "kept",
        promise_status="kept",
        event={
            "check": 1,
            "kind": "promise_due",
            "outcome": "kept",
            "promise": 10,
            "paid": "100.00",
            "amount": "100.00",
        },
    )


def test_paid_the_day_after_grace_is_broken_and_sends_the_case_back_to_visit():
    check = _check()
    decision = decide_promise(check, _case(), _promise([(D("100.00"), dt.date(2026, 3, 9))]))
    assert decision == Decision(
        check,
        "broken",
        promise_status="broken",
        cancels_reminders=True,
        event={
            "check": 1,
            "kind": "promise_due",
            "outcome": "broken",
            "promise": 10,
            "paid": "0.00",
            "amount": "100.00",
        },
        counts_broken=True,
        revisit=Revisit(BROKEN_REASON, {"amount": D("100.00"), "date": DUE}, to_visit=True),
    )


def test_partly_paid_in_time_is_partially_kept_and_not_counted_as_broken():
    decision = decide_promise(_check(), _case(Stage.NEGOTIATION), _promise([(D("40.00"), DUE)]))
    assert (decision.result, decision.counts_broken, decision.event["paid"]) == ("partially_kept", False, "40.00")
    assert decision.revisit.to_visit is False  # a case not in follow-up keeps its stage; it gets a next action


def test_a_promise_on_a_closed_case_is_cancelled_and_a_resolved_one_left_alone():
    check = _check()
    assert decide_promise(check, _case(Stage.CLOSED), _promise()) == Decision(
        check, "case_closed", promise_status="cancelled"
    )
    assert decide_promise(check, _case(), _promise(status="kept")) == Decision(check, "already_kept")


def test_a_missed_instalment_defaults_the_plan_and_counts_only_on_an_open_case():
    check = _check(kind="instalment_due", promise_id=None, instalment_id=21)
    open_case = decide_instalment(check, _case(), _instalment(21, 1, [(D("150.00"), DUE)]), "active")
    assert (open_case.result, open_case.instalment_status, open_case.defaults_plan) == ("defaulted", "missed", 50)
    assert open_case.counts_broken is True
    assert open_case.revisit == Revisit(DEFAULTED_REASON, {"seq": 1, "amount": D("200.00"), "date": DUE}, True)
    closed = decide_instalment(check, _case(Stage.CLOSED), _instalment(21, 1), "active")
    assert (closed.defaults_plan, closed.counts_broken, closed.revisit) == (50, False, None)
    assert decide_instalment(check, _case(), _instalment(21, 1), "cancelled") == Decision(check, "plan_cancelled")


def test_a_reminder_is_too_late_once_the_due_day_has_begun_in_the_branchs_zone():
    check = _check(kind="reminder")
    # 4 March 16:30 UTC is 5 March 00:30 in Shanghai: the due day itself, still in time.
    on_the_day = dt.datetime(2026, 3, 4, 16, 30, tzinfo=dt.UTC)
    assert decide_reminder(check, _case(), _promise(), on_the_day) == Decision(
        check,
        "reminded",
        notices=(Notice(3, "reminder", REMINDER_TEXT, {"case": 7, "amount": D("100.00"), "date": DUE}, "reminder:1"),),
    )
    assert decide_reminder(check, _case(), _promise(), NOW).result == "too_late"
    assert decide_reminder(check, _case(collector_id=None), _promise(), on_the_day) == Decision(check, "reminded")
    assert decide_reminder(check, _case(), _promise([(D("100.00"), DUE)]), on_the_day).result == "not_needed"


def test_a_care_revisit_goes_to_the_supervisor_when_no_collector_is_assigned():
    check = _check(kind="care_revisit", promise_id=None)
    decision = decide_care(check, _case(Stage.CLOSED, collector_id=None))
    assert decision.notices == (Notice(4, "care_revisit", CARE_TEXT, {"case": 7}, "care:1"),)
    assert decision.event == {"check": 1, "kind": "care_revisit", "outcome": "care_revisit_due"}


def test_a_batch_carries_each_decision_forward_to_the_cases_later_checks():
    """Two broken promises on one case in follow-up: only the first sends it to visit. A plan defaulted by its
    first instalment: the second instalment's check finds the plan defaulted, its reminder nothing to remind."""
    facts = Facts(
        cases={7: _case()},
        promises={10: _promise(pk=10), 11: _promise(pk=11, amount="20.00")},
        instalments={21: _instalment(21, 1), 22: _instalment(22, 2)},
        plans={50: "active"},
    )
    checks = [
        _check(1, promise_id=10),
        _check(2, promise_id=11),
        _check(3, kind="instalment_due", promise_id=None, instalment_id=21),
        _check(4, kind="reminder", promise_id=None, instalment_id=22),
        _check(5, kind="instalment_due", promise_id=None, instalment_id=22),
    ]
    before = repr(facts)
    decisions = decide_batch(checks, facts, NOW)
    assert [(d.result, d.revisit.to_visit if d.revisit else None) for d in decisions] == [
        ("broken", True),
        ("broken", False),
        ("defaulted", False),
        ("not_needed", None),
        ("plan_defaulted", None),
    ]
    assert repr(facts) == before  # the facts as read are left as they were
