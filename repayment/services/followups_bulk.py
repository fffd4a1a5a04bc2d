"""The follow-up sweep, a batch at a time: claim due checks, settle the common outcomes set-based.

One transaction per batch: the due checks are claimed oldest first under
``select_for_update(skip_locked=True)`` (PostgreSQL; two workers never take the same rows), then

* outcomes that need no case change are settled with a few set-based statements: promises and
  instalments paid in full by the deadline → kept/paid (one bulk UPDATE each, one ``CaseEvent`` per
  item in one INSERT), reminders → notifications (one INSERT that skips a ``dedupe_key`` already
  there), and the no-ops (already resolved, plan ended, case closed, not needed, too late);
* outcomes that move a case (broken or partly kept promise, defaulted plan, care revisit) are settled
  set-based too, by ``repayment.services.followups_moves`` (its docstring lists every write), for the first
  such check of each case; the case's later checks in the batch, and the checks whose case a user moved
  since the claim, run the one-by-one evaluators of ``repayment.services.followups`` afterwards, each in a
  savepoint of the same transaction (a failing row is rolled back to its savepoint and retried later with
  backoff);
* every claimed check is marked done with a compare-and-set on its status, and one ``AuditLog`` row per
  batch names the settled promises, instalments, plans and moved cases and the checks by outcome.

The statements a batch runs do not grow with its size (``tests/repayment/test_sweep_moves.py`` pins it);
the rows are read as plain values and written with ``collections_app.services.bulk_rows``, because building
a model instance or an ORM expression per row cost more than the statements themselves.

A worker killed mid-batch rolls the whole batch back; it is claimed again by the next sweep. Should the
batch itself fail (a database error in a set-based statement), its checks are evaluated one by one
instead, so one bad row never blocks the rest.
"""

import datetime as dt
import logging
from collections import Counter, defaultdict
from dataclasses import dataclass
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from collections_app.models import CaseEvent, Notification, Stage
from collections_app.services.audit import audit_log
from collections_app.services.bulk_rows import id_list, insert_rows
from repayment.models import ZERO, FollowUpCheck, Instalment, PaymentAllocation, PromiseToPay, RepaymentPlan
from repayment.services.common import REMINDER_TEXT, message_params
from repayment.services.followups_moves import CaseMoves, settles_set_based

logger = logging.getLogger(__name__)
Kind, CheckStatus = FollowUpCheck.Kind, FollowUpCheck.Status
SLOW = "slow"  # the outcome moves a case: settled by followups_moves, or one by one


class _LostRace(Exception):
    """Another worker settled one of the batch's checks first; roll the batch back."""


@dataclass(frozen=True, slots=True)
class DueCheck:
    """A claimed check as the batch reads it, with what it needs of the case and its branch: plain rows,
    not model instances (a batch claims up to a thousand)."""

    pk: int
    kind: str
    due_at: dt.datetime
    case_id: int
    promise_id: int | None
    instalment_id: int | None
    dedupe_key: str
    case_stage: str
    collector_id: int | None
    branch_timezone: str
    currency: str  # the account's, for the amounts in its notifications


def _claim(now: dt.datetime, size: int) -> list[DueCheck]:
    """The oldest due checks, in (due_at, id) order, read straight off ``followup_due_id_idx`` (pending
    checks by due time and id) and stopping at ``size``: with ``FOR UPDATE`` PostgreSQL cannot bound a sort,
    so the order must be the index's own."""
    rows = (
        FollowUpCheck.objects.select_for_update(skip_locked=True, of=("self",))
        .filter(status=CheckStatus.PENDING, due_at__lte=now)
        .order_by("due_at", "id")
        .values_list(
            "id",
            "kind",
            "due_at",
            "case_id",
            "promise_id",
            "instalment_id",
            "dedupe_key",
            "case__stage",
            "case__assigned_collector_id",
            "case__account__branch__timezone",
            "case__account__currency",
        )[:size]
    )
    return [DueCheck(*row) for row in rows]


def _paid_in_time(lookup: str, targets: dict) -> dict[int, Decimal]:
    """``{target id: allocated by its due date + grace}`` for promises or instalments, in one query
    (the same measure as ``payments.paid_in_time``)."""
    paid: dict[int, Decimal] = defaultdict(lambda: ZERO)
    if not targets:
        return paid
    rows = PaymentAllocation.objects.filter(**{f"{lookup}_id__in": id_list(targets)}).values_list(
        f"{lookup}_id", "amount", "payment__paid_on"
    )
    for target_id, amount, paid_on in rows:
        target = targets[target_id]
        if paid_on <= target.due_date + dt.timedelta(days=target.grace_days):
            paid[target_id] += amount
    return paid


@dataclass(frozen=True, slots=True)
class _Obligation:
    """What a batch reads of a promise or an instalment: plain rows, not model instances (a batch reads
    hundreds)."""

    pk: int
    status: str
    amount: Decimal
    paid_amount: Decimal
    due_date: dt.date
    grace_days: int  # the promise's, or the instalment's plan's
    plan_id: int | None = None
    seq: int | None = None
    plan_status: str | None = None

    @property
    def remaining(self) -> Decimal:
        return max(self.amount - self.paid_amount, ZERO)  # as PromiseToPay.remaining / Instalment.remaining


class _Batch:
    def __init__(self, checks: list[DueCheck], now: dt.datetime):
        self.checks, self.now = checks, now
        self.order = {check.pk: n for n, check in enumerate(checks)}
        promise_ids = {c.promise_id for c in checks if c.promise_id}
        instalment_ids = {c.instalment_id for c in checks if c.instalment_id}
        # Locked like the one-by-one path locks them: a payment being recorded waits for the batch.
        promises = (
            PromiseToPay.objects.select_for_update()
            .filter(pk__in=id_list(promise_ids))
            .order_by("pk")
            .values_list("id", "status", "amount", "paid_amount", "due_date", "grace_days")
        )
        self.promises = {row[0]: _Obligation(*row) for row in promises}
        instalments = (
            Instalment.objects.select_for_update(of=("self",))
            .filter(pk__in=id_list(instalment_ids))
            .order_by("pk")
            .values_list(
                "id",
                "status",
                "amount",
                "paid_amount",
                "due_date",
                "plan__grace_days",
                "plan_id",
                "seq",
                "plan__status",
            )
        )
        self.instalments = {row[0]: _Obligation(*row) for row in instalments}
        due = {c.promise_id for c in checks if c.kind == Kind.PROMISE_DUE}
        self.promise_paid = _paid_in_time("promise", {pk: p for pk, p in self.promises.items() if pk in due})
        due = {c.instalment_id for c in checks if c.kind == Kind.INSTALMENT_DUE}
        self.instalment_paid = _paid_in_time("instalment", {pk: i for pk, i in self.instalments.items() if pk in due})
        self.results: dict[int, str] = {}
        self.kept_promises: list[int] = []
        self.cancelled_promises: list[int] = []
        self.paid_instalments: list[int] = []
        self.events: list[dict] = []  # CaseEvent rows (bulk_rows.insert_rows)
        self.notifications: list[dict] = []  # Notification rows
        self.moves: CaseMoves | None = None
        self.reminder_text = _(REMINDER_TEXT)  # translated once per batch

    def classify(self) -> list[int]:
        """Decide every check that needs no case change and pick the case-moving ones settled set-based
        (``self.moves``); return the ids left for the one-by-one path.

        A case's first case-moving check is settled set-based; its later checks in the batch (whatever their
        kind) go to the one-by-one path, which runs after the set-based writes, so each case's checks still
        take effect in due order."""
        slow_cases: set[int] = set()
        moving: list[DueCheck] = []
        slow: list[int] = []
        for check in self.checks:
            result = SLOW if check.case_id in slow_cases else self._decide(check)
            if result != SLOW:
                self.results[check.pk] = result
                continue
            if check.case_id not in slow_cases and settles_set_based(check):
                moving.append(check)
            else:
                slow.append(check.pk)
            slow_cases.add(check.case_id)
        self.moves = CaseMoves(self, moving)
        return slow

    def _event(self, check: DueCheck, outcome: str, **extra) -> None:
        payload = {"check": check.pk, "kind": check.kind, "outcome": outcome, **extra}
        self.events.append(
            {"case_id": check.case_id, "actor_id": None, "kind": CaseEvent.Kind.FOLLOW_UP, "payload": payload}
        )

    def _decide(self, check: DueCheck) -> str:
        if check.kind == Kind.PROMISE_DUE:
            return self._decide_promise(check)
        if check.kind == Kind.INSTALMENT_DUE:
            return self._decide_instalment(check)
        if check.kind == Kind.REMINDER:
            return self._decide_reminder(check)
        return SLOW  # care revisit

    def _decide_promise(self, check: DueCheck) -> str:
        promise = self.promises[check.promise_id]
        if promise.status != PromiseToPay.Status.PENDING:
            return f"already_{promise.status}"
        if check.case_stage == Stage.CLOSED:
            self.cancelled_promises.append(promise.pk)
            return "case_closed"
        paid = self.promise_paid[promise.pk]
        if paid < promise.amount:
            return SLOW  # broken or partly kept: the case goes back for a revisit
        self.kept_promises.append(promise.pk)
        status = PromiseToPay.Status.KEPT
        self._event(check, status, promise=promise.pk, paid=str(paid), amount=str(promise.amount))
        return status

    def _decide_instalment(self, check: DueCheck) -> str:
        instalment = self.instalments[check.instalment_id]
        if instalment.plan_status != RepaymentPlan.Status.ACTIVE:
            return f"plan_{instalment.plan_status}"
        if instalment.status != Instalment.Status.PENDING:
            return f"already_{instalment.status}"
        if self.instalment_paid[instalment.pk] < instalment.amount:
            return SLOW  # missed: the plan defaults
        self.paid_instalments.append(instalment.pk)
        self._event(check, "kept", instalment=instalment.pk)
        return "kept"

    def _decide_reminder(self, check: DueCheck) -> str:
        if check.promise_id:
            target, pending = self.promises[check.promise_id], PromiseToPay.Status.PENDING
        else:
            target, pending = self.instalments[check.instalment_id], Instalment.Status.PENDING
        if target.status != pending or target.remaining <= 0 or check.case_stage == Stage.CLOSED:
            return "not_needed"
        # The branch's zone, as ``case_tz`` reads it (the claim brings its name along instead of two models).
        tz = ZoneInfo(check.branch_timezone or settings.TIME_ZONE)
        if timezone.localdate(self.now, tz) > target.due_date:
            return "too_late"  # the sweep was down past the due date; the due check handles it
        if check.collector_id is not None:
            values = {"case": check.case_id, "amount": target.remaining, "date": target.due_date}
            self.notifications.append(
                {
                    "recipient_id": check.collector_id,
                    "case_id": check.case_id,
                    "kind": "reminder",
                    "message": (self.reminder_text % values)[:500],
                    "template": REMINDER_TEXT,
                    "params": message_params(values, check.currency),
                    "dedupe_key": f"reminder:{check.pk}",
                }
            )
        return "reminded"

    def settle(self, slow: list[int]) -> list[int]:
        """The set-based writes for the checks decided in ``classify``; return the ids for the one-by-one path
        (``slow`` and the case-moving checks handed back), in claim order."""
        now = self.now
        if self.kept_promises:
            PromiseToPay.objects.filter(pk__in=id_list(self.kept_promises), status=PromiseToPay.Status.PENDING).update(
                status=PromiseToPay.Status.KEPT, resolved_at=now
            )
        if self.cancelled_promises:
            PromiseToPay.objects.filter(
                pk__in=id_list(self.cancelled_promises), status=PromiseToPay.Status.PENDING
            ).update(status=PromiseToPay.Status.CANCELLED, resolved_at=now)
        if self.paid_instalments:
            Instalment.objects.filter(pk__in=id_list(self.paid_instalments), status=Instalment.Status.PENDING).update(
                status=Instalment.Status.PAID, resolved_at=now
            )
        self._mark_done(self.results)
        slow = sorted([*slow, *self.moves.prepare()], key=self.order.__getitem__)
        insert_rows(CaseEvent, self.events)
        self.moves.move_stages()
        insert_rows(Notification, self.notifications, ignore_conflicts=True)
        self._mark_done(self.moves.results)
        self.results.update(self.moves.results)
        return slow

    def _mark_done(self, results: dict[int, str]) -> None:
        """Compare-and-set on the status, one UPDATE per result; the checks settled before the case-moving
        ones are marked first, so those find them done (as the one-by-one path would)."""
        by_result: dict[str, list[int]] = defaultdict(list)
        for check_id, result in results.items():
            by_result[result].append(check_id)
        for result, ids in by_result.items():
            done = FollowUpCheck.objects.filter(pk__in=id_list(ids), status=CheckStatus.PENDING).update(
                status=CheckStatus.DONE,
                result=result,
                evaluated_at=self.now,
                claimed_at=self.now,
                attempts=F("attempts") + 1,
                last_error="",
            )
            if done != len(ids):
                raise _LostRace


def _evaluate_in_batch(check_id: int, now: dt.datetime) -> str:
    """A case-moving check, one by one inside the batch's transaction, in a savepoint of its own."""
    from repayment.services import followups

    try:
        with transaction.atomic():
            check = (
                FollowUpCheck.objects.select_related("case__team", "case__account__branch", "case__assigned_collector")
                .filter(pk=check_id, status=CheckStatus.PENDING)
                .first()
            )
            if check is None:  # cancelled by an earlier check of the batch (a defaulted plan)
                return "skipped"
            result = followups.EVALUATORS[check.kind](check, now)
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
        raise
    except Exception as exc:  # one bad row must not stop the batch; it is retried with backoff
        logger.exception("follow-up check %s failed", check_id)
        followups._record_failure(check_id, now, exc)
        return "error"


def _audit(batch: _Batch, outcomes: Counter, slow_results: dict[int, str]) -> None:
    """One audit row per batch: what the engine settled, by id."""
    checks: dict[str, list[int]] = defaultdict(list)
    for check_id, result in {**batch.results, **slow_results}.items():
        checks[result].append(check_id)
    changes = {
        "outcomes": dict(outcomes),
        "checks": {result: sorted(ids) for result, ids in sorted(checks.items())},
        "kept_promises": sorted(batch.kept_promises),
        "cancelled_promises": sorted(batch.cancelled_promises),
        "paid_instalments": sorted(batch.paid_instalments),
        **batch.moves.audit(),
    }
    audit_log(actor=None, action="followups.sweep_batch", object_type="repayment.followupcheck", changes=changes)


def followups_sweep_batch(*, now: dt.datetime, size: int) -> dict[str, int]:
    """Claim up to ``size`` due checks and settle them in one transaction; ``{}`` when none is due."""
    from repayment.services import followups

    claimed: list[int] = []
    try:
        with transaction.atomic():
            checks = _claim(now, size)
            if not checks:
                return {}
            claimed = [c.pk for c in checks]
            batch = _Batch(checks, now)
            slow = batch.settle(batch.classify())
            slow_results = {check_id: _evaluate_in_batch(check_id, now) for check_id in slow}
            outcomes = Counter(batch.results.values()) + Counter(slow_results.values())
            _audit(batch, outcomes, slow_results)
            followups._test_pause()
            return dict(outcomes)
    except Exception:
        if not claimed:
            raise
        # The batch rolled back as a whole (another worker won a race, or a set-based statement
        # failed): evaluate its checks one by one, each with its own retry and backoff.
        logger.warning("follow-up batch of %s checks failed; evaluating them one by one", len(claimed), exc_info=True)
        outcomes: Counter = Counter()
        for check_id in claimed:
            outcomes[followups.followup_evaluate(check_id=check_id, now=now) or "skipped"] += 1
        return dict(outcomes)
