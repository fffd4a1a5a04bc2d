"""The follow-up engine: evaluate due ``FollowUpCheck`` rows, exactly once each.

The sweep works a batch at a time (``repayment.services.followups_bulk``): every outcome is settled set-based
(those that move a case by ``repayment.services.followups_moves``, which writes what the evaluators below
write); the evaluators handle, inside the batch's transaction, a case's second and later case-moving checks
in a batch and a case a user moved since the claim. ``followup_evaluate`` evaluates a single check in a
transaction of its own (a batch that fails falls back to it). Each check is evaluated and marked done in one
transaction, under a row lock taken with ``select_for_update(skip_locked=True)`` (PostgreSQL), plus a
compare-and-set on the status when marking done (SQLite has no row locks). A worker killed mid-evaluation
rolls its transaction back, so the check stays pending and the next sweep evaluates it: no effect is ever
applied twice.
"""

import datetime as dt
import logging
import time
from collections import Counter
from pathlib import Path

from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from collections_app.models import Case, CaseEvent, Stage
from collections_app.services.cases import case_event_add, case_transition
from repayment import conf
from repayment.models import FollowUpCheck, Instalment, PromiseToPay, RepaymentPlan
from repayment.services.common import (
    BROKEN_REASON,
    CARE_TEXT,
    DEFAULTED_REASON,
    PARTLY_KEPT_REASON,
    REMINDER_TEXT,
    REVISIT_TEXT,
    cancel_checks,
    case_tz,
    message_params,
    notify,
    record_broken_promise,
    revisit_params,
)
from repayment.services.followups_bulk import followups_sweep_batch
from repayment.services.payments import paid_in_time

logger = logging.getLogger(__name__)
MAX_ATTEMPTS = 5
Kind, CheckStatus = FollowUpCheck.Kind, FollowUpCheck.Status


class _LostRace(Exception):
    """Another worker marked the check done first; roll this evaluation back."""


def _event(check: FollowUpCheck, outcome: str, **extra) -> None:
    payload = {"check": check.pk, "kind": check.kind, "outcome": outcome, **extra}
    case_event_add(case=check.case, actor=None, kind=CaseEvent.Kind.FOLLOW_UP, payload=payload)


def _revisit(*, case: Case, check: FollowUpCheck, now: dt.datetime, reason: str, values: dict) -> None:
    """Send the case back for a revisit: stage follow-up → visit, a next action for the collector, a notification.

    ``reason`` is an untranslated msgid with its ``values``."""
    text = _(reason) % values
    if case.stage == Stage.FOLLOW_UP:
        case_transition(case=case, target=Stage.VISIT, actor=None, note=text, payload={"check": check.pk})
    Case.objects.filter(pk=case.pk).update(next_action=text[:200], next_action_due=now)
    notify(
        recipient=case.assigned_collector,
        case=case,
        kind="revisit",
        message=_(REVISIT_TEXT) % {"case": case.pk, "reason": text},
        template=REVISIT_TEXT,
        params=revisit_params(case_id=case.pk, reason=reason, values=values, currency=case.account.currency),
        dedupe_key=f"revisit:{check.dedupe_key}",
    )


def _evaluate_promise(check: FollowUpCheck, now: dt.datetime) -> str:
    promise = PromiseToPay.objects.select_for_update().get(pk=check.promise_id)
    case = check.case
    if promise.status != PromiseToPay.Status.PENDING:
        return f"already_{promise.status}"
    if not case.is_open:
        PromiseToPay.objects.filter(pk=promise.pk).update(status=PromiseToPay.Status.CANCELLED, resolved_at=now)
        return "case_closed"
    paid = paid_in_time(promise=promise)
    if paid >= promise.amount:
        status = PromiseToPay.Status.KEPT
    elif paid > 0:
        status = PromiseToPay.Status.PARTIALLY_KEPT
    else:
        status = PromiseToPay.Status.BROKEN
    PromiseToPay.objects.filter(pk=promise.pk).update(status=status, resolved_at=now)
    _event(check, status, promise=promise.pk, paid=str(paid), amount=str(promise.amount))
    if status == PromiseToPay.Status.BROKEN:
        record_broken_promise(case=case, source_key=check.dedupe_key)
        reason = BROKEN_REASON
    elif status == PromiseToPay.Status.PARTIALLY_KEPT:
        reason = PARTLY_KEPT_REASON
    else:
        return status
    cancel_checks(promise=promise, kind=Kind.REMINDER, result="promise_resolved", except_pk=check.pk)
    values = {"amount": promise.amount, "date": promise.due_date}
    _revisit(case=case, check=check, now=now, reason=reason, values=values)
    return status


def _evaluate_instalment(check: FollowUpCheck, now: dt.datetime) -> str:
    instalment = Instalment.objects.select_for_update(of=("self",)).select_related("plan").get(pk=check.instalment_id)
    plan = instalment.plan
    case = check.case
    if plan.status != RepaymentPlan.Status.ACTIVE:
        return f"plan_{plan.status}"
    if instalment.status != Instalment.Status.PENDING:
        return f"already_{instalment.status}"
    paid = paid_in_time(instalment=instalment)
    if paid >= instalment.amount:
        Instalment.objects.filter(pk=instalment.pk).update(status=Instalment.Status.PAID, resolved_at=now)
        _event(check, "kept", instalment=instalment.pk)
        return "kept"
    Instalment.objects.filter(pk=instalment.pk).update(status=Instalment.Status.MISSED, resolved_at=now)
    plan.instalments.filter(status=Instalment.Status.PENDING).update(status=Instalment.Status.CANCELLED)
    RepaymentPlan.objects.filter(pk=plan.pk, status=RepaymentPlan.Status.ACTIVE).update(
        status=RepaymentPlan.Status.DEFAULTED, closed_at=now
    )
    cancel_checks(instalment__plan=plan, result="plan_defaulted", except_pk=check.pk)
    _event(check, "defaulted", plan=plan.pk, instalment=instalment.pk, paid=str(paid))
    case_event_add(case=case, actor=None, kind=CaseEvent.Kind.PLAN, payload={"plan": plan.pk, "status": "defaulted"})
    if case.is_open:
        record_broken_promise(case=case, source_key=check.dedupe_key)
        values = {"seq": instalment.seq, "amount": instalment.amount, "date": instalment.due_date}
        _revisit(case=case, check=check, now=now, reason=DEFAULTED_REASON, values=values)
    return "defaulted"


def _evaluate_reminder(check: FollowUpCheck, now: dt.datetime) -> str:
    target = check.promise or check.instalment
    pending = PromiseToPay.Status.PENDING if check.promise_id else Instalment.Status.PENDING
    if target.status != pending or target.remaining <= 0 or not check.case.is_open:
        return "not_needed"
    if timezone.localdate(now, case_tz(check.case)) > target.due_date:
        return "too_late"  # the sweep was down past the due date; the due check handles it
    values = {"case": check.case_id, "amount": target.remaining, "date": target.due_date}
    notify(
        recipient=check.case.assigned_collector,
        case=check.case,
        kind="reminder",
        message=_(REMINDER_TEXT) % values,
        template=REMINDER_TEXT,
        params=message_params(values, check.case.account.currency),
        dedupe_key=f"reminder:{check.pk}",
    )
    return "reminded"


def _evaluate_care(check: FollowUpCheck, now: dt.datetime) -> str:
    case = check.case
    notify(
        recipient=case.assigned_collector or case.team.supervisor,
        case=case,
        kind="care_revisit",
        message=_(CARE_TEXT) % {"case": case.pk},
        template=CARE_TEXT,
        params={"case": case.pk},
        dedupe_key=f"care:{check.pk}",
    )
    _event(check, "care_revisit_due")
    return "care_revisit_due"


EVALUATORS = {
    Kind.PROMISE_DUE: _evaluate_promise,
    Kind.INSTALMENT_DUE: _evaluate_instalment,
    Kind.REMINDER: _evaluate_reminder,
    Kind.CARE_REVISIT: _evaluate_care,
}


def _test_pause() -> None:
    seconds = conf.test_pause_seconds()
    if seconds <= 0:
        return
    marker = conf.test_pause_marker()
    if marker:
        Path(marker).write_text("paused")
    time.sleep(seconds)


def followup_evaluate(*, check_id: int, now: dt.datetime | None = None) -> str | None:
    """Evaluate one due check; ``None`` when it is not due, already done, or held by another worker."""
    now = now or timezone.now()
    try:
        with transaction.atomic():
            check = (
                FollowUpCheck.objects.select_for_update(skip_locked=True, of=("self",))
                .select_related("case__team", "case__account__branch", "case__assigned_collector")
                .filter(pk=check_id, status=CheckStatus.PENDING, due_at__lte=now)
                .first()
            )
            if check is None:
                return None
            result = EVALUATORS[check.kind](check, now)
            _test_pause()
            done = FollowUpCheck.objects.filter(pk=check.pk, status=CheckStatus.PENDING).update(
                status=CheckStatus.DONE,
                result=result,
                evaluated_at=now,
                claimed_at=now,
                attempts=F("attempts") + 1,
                last_error="",
            )
            if not done:
                raise _LostRace
            return result
    except _LostRace:
        return None
    except Exception as exc:  # one bad row must not stop the sweep; it is retried with backoff
        logger.exception("follow-up check %s failed", check_id)
        _record_failure(check_id, now, exc)
        return "error"


def _record_failure(check_id: int, now: dt.datetime, exc: Exception) -> None:
    check = FollowUpCheck.objects.filter(pk=check_id).first()
    if check is None:
        return
    attempts = check.attempts + 1
    changes = {"attempts": attempts, "claimed_at": now, "last_error": f"{exc.__class__.__name__}: {exc}"[:500]}
    if attempts >= MAX_ATTEMPTS:
        changes["status"] = CheckStatus.FAILED
    else:
        changes["due_at"] = now + dt.timedelta(minutes=2**attempts)
    FollowUpCheck.objects.filter(pk=check_id, status=CheckStatus.PENDING).update(**changes)


def followups_sweep(*, now: dt.datetime | None = None, limit: int | None = None) -> dict[str, int]:
    """Evaluate one batch of due pending checks (oldest first; ``limit`` or ``REPAYMENT_SWEEP_BATCH``) in one
    transaction (``followups_bulk``); ``{}`` when none is due. Safe to run concurrently and repeatedly."""
    return followups_sweep_batch(now=now or timezone.now(), size=limit or conf.sweep_batch())


def followups_sweep_all(
    *, now: dt.datetime | None = None, limit: int | None = None, max_seconds: float | None = None
) -> dict[str, int]:
    """Sweep batch after batch until nothing is due, ``limit`` checks are done or ``max_seconds`` have passed
    (the beat's next run picks up the rest)."""
    now = now or timezone.now()
    size, started = conf.sweep_batch(), time.monotonic()
    outcomes: Counter = Counter()
    while limit is None or outcomes.total() < limit:
        batch = followups_sweep_batch(now=now, size=size if limit is None else min(size, limit - outcomes.total()))
        outcomes.update(batch)
        if not batch or set(batch) == {"skipped"}:  # nothing due, or only rows another worker holds
            break
        if max_seconds is not None and time.monotonic() - started >= max_seconds:
            break
    return dict(outcomes)
