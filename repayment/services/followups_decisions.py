"""The follow-up engine's decisions: pure functions over plain rows, no database.

A claimed check (``DueCheck``), the facts about its case (``CaseFacts``, read under the case's row lock) and its
promise or instalment (``Obligation``, with the payments allocated to it) and the plan's status give one
``Decision``: the check's result and every write it implies, as values. ``decide_batch`` decides a batch in claim
order, carrying forward what each decision changes (a promise resolved, an instalment paid, a plan defaulted, a
case sent back to visit), so a case's later checks see its earlier ones; ``followups_bulk`` reads the facts and
writes the decisions.
"""

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, replace
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.utils.translation import gettext_noop

from collections_app.models import Stage
from repayment.models import ZERO, FollowUpCheck, Instalment, PromiseToPay, RepaymentPlan

Kind = FollowUpCheck.Kind
PromiseStatus, InstalmentStatus, PlanStatus = PromiseToPay.Status, Instalment.Status, RepaymentPlan.Status

# The messages, untranslated: the writer translates each once per batch and a notification keeps the msgid.
REMINDER_TEXT = gettext_noop("Case #%(case)s: %(amount)s is due on %(date)s.")
REVISIT_TEXT = gettext_noop("Case #%(case)s: %(reason)s")
CARE_TEXT = gettext_noop("Case #%(case)s was cured: time for a care revisit.")
ALERT_TEXT = gettext_noop("Account %(no)s (case #%(case)s) has %(count)s broken promises.")
BROKEN_REASON = gettext_noop("promise of %(amount)s due %(date)s was broken; revisit the borrower.")
PARTLY_KEPT_REASON = gettext_noop("promise of %(amount)s due %(date)s was only partly kept; revisit the borrower.")
DEFAULTED_REASON = gettext_noop(
    "instalment %(seq)s of %(amount)s due %(date)s was missed; the plan defaulted. Revisit the borrower."
)


@dataclass(frozen=True, slots=True)
class DueCheck:
    pk: int
    kind: str
    due_at: dt.datetime
    case_id: int
    promise_id: int | None
    instalment_id: int | None
    dedupe_key: str


@dataclass(frozen=True, slots=True)
class CaseFacts:
    pk: int
    stage: str
    stage_changed_at: dt.datetime | None
    account_id: int
    collector_id: int | None
    supervisor_id: int | None
    timezone: str  # the branch's, else the site's: due dates are the borrower's local days
    currency: str  # the account's, for the amounts in its notifications
    account_no: str

    @property
    def is_open(self) -> bool:
        return self.stage != Stage.CLOSED


@dataclass(frozen=True, slots=True)
class Obligation:
    """A promise or an instalment; ``payments`` are its allocations as (amount, paid on)."""

    pk: int
    status: str
    amount: Decimal
    paid_amount: Decimal
    due_date: dt.date
    grace_days: int  # the promise's, or the instalment's plan's
    payments: tuple[tuple[Decimal, dt.date], ...] = ()
    plan_id: int | None = None
    seq: int | None = None

    @property
    def remaining(self) -> Decimal:
        return max(self.amount - self.paid_amount, ZERO)

    @property
    def paid_in_time(self) -> Decimal:
        """Allocated from payments made by the due date + grace: the measure of kept."""
        last_day = self.due_date + dt.timedelta(days=self.grace_days)
        return sum((amount for amount, paid_on in self.payments if paid_on <= last_day), ZERO)


@dataclass(frozen=True, slots=True)
class Facts:
    cases: dict[int, CaseFacts]
    promises: dict[int, Obligation]
    instalments: dict[int, Obligation]
    plans: dict[int, str]  # plan id → status


@dataclass(frozen=True, slots=True)
class Notice:
    """A notification to create once (``dedupe_key``): ``template`` untranslated, with its ``values``."""

    recipient_id: int
    kind: str
    template: str
    values: dict
    dedupe_key: str


@dataclass(frozen=True, slots=True)
class Revisit:
    """Send the case back for a revisit: a next action and a notification for the collector, and from
    follow-up the move to visit. ``reason`` is untranslated, with its ``values``."""

    reason: str
    values: dict
    to_visit: bool


@dataclass(frozen=True, slots=True)
class Decision:
    check: DueCheck
    result: str
    promise_status: str | None = None  # pending → this, resolved now
    instalment_status: str | None = None  # pending → this, resolved now
    defaults_plan: int | None = None  # active → defaulted; its pending instalments and checks cancelled
    cancels_reminders: bool = False  # the promise's pending reminders
    event: dict | None = None  # the follow-up event's payload
    counts_broken: bool = False  # one more broken promise on the account
    revisit: Revisit | None = None
    notices: tuple[Notice, ...] = ()


def _event(check: DueCheck, outcome: str, **extra) -> dict:
    return {"check": check.pk, "kind": check.kind, "outcome": outcome, **extra}


def decide_promise(check: DueCheck, case: CaseFacts, promise: Obligation) -> Decision:
    if promise.status != PromiseStatus.PENDING:
        return Decision(check, f"already_{promise.status}")
    if not case.is_open:
        return Decision(check, "case_closed", promise_status=PromiseStatus.CANCELLED)
    paid = promise.paid_in_time
    if paid >= promise.amount:
        status = PromiseStatus.KEPT
    elif paid > 0:
        status = PromiseStatus.PARTIALLY_KEPT
    else:
        status = PromiseStatus.BROKEN
    event = _event(check, status, promise=promise.pk, paid=str(paid), amount=str(promise.amount))
    if status == PromiseStatus.KEPT:
        return Decision(check, status, promise_status=status, event=event)
    reason = BROKEN_REASON if status == PromiseStatus.BROKEN else PARTLY_KEPT_REASON
    return Decision(
        check,
        status,
        promise_status=status,
        cancels_reminders=True,
        event=event,
        counts_broken=status == PromiseStatus.BROKEN,
        revisit=Revisit(reason, {"amount": promise.amount, "date": promise.due_date}, case.stage == Stage.FOLLOW_UP),
    )


def decide_instalment(check: DueCheck, case: CaseFacts, instalment: Obligation, plan_status: str) -> Decision:
    if plan_status != PlanStatus.ACTIVE:
        return Decision(check, f"plan_{plan_status}")
    if instalment.status != InstalmentStatus.PENDING:
        return Decision(check, f"already_{instalment.status}")
    paid = instalment.paid_in_time
    if paid >= instalment.amount:
        return Decision(
            check,
            "kept",
            instalment_status=InstalmentStatus.PAID,
            event=_event(check, "kept", instalment=instalment.pk),
        )
    event = _event(check, "defaulted", plan=instalment.plan_id, instalment=instalment.pk, paid=str(paid))
    revisit = None
    if case.is_open:
        values = {"seq": instalment.seq, "amount": instalment.amount, "date": instalment.due_date}
        revisit = Revisit(DEFAULTED_REASON, values, case.stage == Stage.FOLLOW_UP)
    return Decision(
        check,
        "defaulted",
        instalment_status=InstalmentStatus.MISSED,
        defaults_plan=instalment.plan_id,
        event=event,
        counts_broken=case.is_open,
        revisit=revisit,
    )


def decide_reminder(check: DueCheck, case: CaseFacts, target: Obligation, now: dt.datetime) -> Decision:
    pending = PromiseStatus.PENDING if check.promise_id else InstalmentStatus.PENDING
    if target.status != pending or target.remaining <= 0 or not case.is_open:
        return Decision(check, "not_needed")
    if now.astimezone(ZoneInfo(case.timezone)).date() > target.due_date:
        return Decision(check, "too_late")  # the sweep was down past the due date; the due check decides
    notices = ()
    if case.collector_id is not None:
        values = {"case": case.pk, "amount": target.remaining, "date": target.due_date}
        notices = (Notice(case.collector_id, "reminder", REMINDER_TEXT, values, f"reminder:{check.pk}"),)
    return Decision(check, "reminded", notices=notices)


def decide_care(check: DueCheck, case: CaseFacts) -> Decision:
    recipient = case.collector_id or case.supervisor_id
    notices = ()
    if recipient is not None:
        notices = (Notice(recipient, "care_revisit", CARE_TEXT, {"case": case.pk}, f"care:{check.pk}"),)
    return Decision(check, "care_revisit_due", event=_event(check, "care_revisit_due"), notices=notices)


def decide(check: DueCheck, facts: Facts, now: dt.datetime) -> Decision:
    case = facts.cases[check.case_id]
    if check.kind == Kind.PROMISE_DUE:
        return decide_promise(check, case, facts.promises[check.promise_id])
    if check.kind == Kind.INSTALMENT_DUE:
        instalment = facts.instalments[check.instalment_id]
        return decide_instalment(check, case, instalment, facts.plans[instalment.plan_id])
    if check.kind == Kind.REMINDER:
        target = facts.promises[check.promise_id] if check.promise_id else facts.instalments[check.instalment_id]
        return decide_reminder(check, case, target, now)
    return decide_care(check, case)


def decide_batch(checks: Iterable[DueCheck], facts: Facts, now: dt.datetime) -> list[Decision]:
    """Decide ``checks`` in order; each sees the facts as the decisions before it left them (``facts`` itself
    is not changed)."""
    cases, promises, instalments, plans = (
        dict(facts.cases),
        dict(facts.promises),
        dict(facts.instalments),
        dict(facts.plans),
    )
    current = Facts(cases, promises, instalments, plans)
    by_plan: dict[int, list[int]] = {}
    for pk, row in instalments.items():
        by_plan.setdefault(row.plan_id, []).append(pk)
    decisions = []
    for check in checks:
        decision = decide(check, current, now)
        decisions.append(decision)
        if decision.promise_status:
            promises[check.promise_id] = replace(promises[check.promise_id], status=decision.promise_status)
        if decision.instalment_status:
            instalments[check.instalment_id] = replace(
                instalments[check.instalment_id], status=decision.instalment_status
            )
        if decision.defaults_plan:
            plans[decision.defaults_plan] = PlanStatus.DEFAULTED
            for pk in by_plan[decision.defaults_plan]:
                if instalments[pk].status == InstalmentStatus.PENDING:
                    instalments[pk] = replace(instalments[pk], status=InstalmentStatus.CANCELLED)
        if decision.revisit and decision.revisit.to_visit:
            cases[check.case_id] = replace(cases[check.case_id], stage=Stage.VISIT)
    return decisions
