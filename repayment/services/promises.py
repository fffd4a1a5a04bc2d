"""Promises to pay: recording and cancelling. The engine (``followups``) decides kept or broken."""

import datetime as dt
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from collections_app.exceptions import CaseRuleError, DoorstepError, TransitionNotAllowed
from collections_app.models import Case, CaseEvent, User
from collections_app.services.audit import audit_log
from collections_app.services.authority import case_lock, require_open_case
from collections_app.services.cases import case_event_add
from repayment import conf
from repayment.models import FollowUpCheck, PromiseToPay
from repayment.services.common import (
    cancel_checks,
    deadline_at,
    move_to_follow_up,
    reminder_at,
    require_field_actor,
    require_negotiable,
    schedule_check,
)
from repayment.services.payments import apply_held_credit
from repayment.services.statuses import promise_status_move

MAX_PROMISE_DAYS = 366


class PromiseRefused(DoorstepError):
    pass


def schedule_promise_checks(*, promise: PromiseToPay) -> None:
    case = promise.case
    schedule_check(
        kind=FollowUpCheck.Kind.PROMISE_DUE,
        case=case,
        promise=promise,
        due_at=deadline_at(case, promise.due_date, promise.grace_days),
        key=f"promise_due:{promise.pk}",
    )
    remind = reminder_at(case, promise.due_date)
    if remind > timezone.now():
        schedule_check(
            kind=FollowUpCheck.Kind.REMINDER,
            case=case,
            promise=promise,
            due_at=remind,
            key=f"reminder:promise:{promise.pk}",
        )


def promise_create(**values) -> PromiseToPay:
    """Record a promise to pay and return it; takes the keywords of ``promise_create_once``."""
    return promise_create_once(**values)[0]


@transaction.atomic
def promise_create_once(
    *,
    case: Case,
    actor: User,
    amount: Decimal,
    due_date: dt.date,
    grace_days: int | None = None,
    note: str = "",
    idempotency_key: str | None = None,
) -> tuple[PromiseToPay, bool]:
    """Record a promise to pay ``amount`` by ``due_date`` (+ grace); the case moves to follow-up.
    Returns ``(promise, created)``; a replay of ``idempotency_key`` returns the first promise."""
    case_lock(case, require_open=False)
    if idempotency_key:
        existing = PromiseToPay.objects.filter(idempotency_key=idempotency_key, case=case).first()
        if existing:
            return existing, False
    require_open_case(case)
    require_field_actor(case, actor)
    require_negotiable(case)
    today = timezone.localdate()
    if amount <= 0:
        raise PromiseRefused(_("A promise is for an amount above zero."))
    if amount > case.account.outstanding_balance:
        raise PromiseRefused(
            _("The promise exceeds the outstanding balance of %(balance)s.")
            % {"balance": case.account.outstanding_balance}
        )
    if due_date < today or due_date > today + dt.timedelta(days=MAX_PROMISE_DAYS):
        raise PromiseRefused(_("The promised date must be between today and one year from now."))
    grace = conf.grace_days() if grace_days is None else grace_days
    try:
        with transaction.atomic():
            promise = PromiseToPay.objects.create(
                case=case,
                amount=amount,
                due_date=due_date,
                grace_days=grace,
                note=note.strip(),
                created_by=actor,
                idempotency_key=idempotency_key or None,
            )
    except IntegrityError as exc:  # the key was used on another case
        raise CaseRuleError(
            _("This idempotency key was already used for another promise."), rule="idempotency_key", conflict=True
        ) from exc
    schedule_promise_checks(promise=promise)
    payload = {"promise": promise.pk, "amount": str(amount), "due_date": due_date.isoformat(), "grace_days": grace}
    case_event_add(case=case, actor=actor, kind=CaseEvent.Kind.PROMISE, payload=payload)
    audit_log(actor=actor, action="promise.create", obj=promise, changes=payload)
    move_to_follow_up(case=case, actor=actor)
    apply_held_credit(case=case, actor=actor)
    promise.refresh_from_db()
    return promise, True


@transaction.atomic
def promise_cancel(*, promise: PromiseToPay, actor: User, note: str = "") -> PromiseToPay:
    case = case_lock(promise.case, require_open=False)
    require_field_actor(case, actor)
    updated = promise_status_move(
        rows=[promise.pk],
        source=PromiseToPay.Status.PENDING,
        target=PromiseToPay.Status.CANCELLED,
        resolved_at=timezone.now(),
    )
    if not updated:
        raise TransitionNotAllowed(_("Only a pending promise can be cancelled."))
    promise.refresh_from_db()
    cancel_checks(promise=promise, result="cancelled")
    payload = {"promise": promise.pk, "status": promise.status, "note": note.strip()}
    case_event_add(case=case, actor=actor, kind=CaseEvent.Kind.PROMISE, payload=payload)
    audit_log(actor=actor, action="promise.cancel", obj=promise, changes=payload)
    return promise
