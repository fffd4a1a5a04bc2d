"""The follow-up engine's reads and its one writer: claim due checks, read their facts as plain rows under row
locks, decide them (``followups_decisions``), write every decision of the batch set-based.

Locks, in this order: the claimed checks (``select_for_update(skip_locked=True)``: two workers never take the
same rows), their cases, promises and instalments (each in id order). The decisions read the cases as locked, so
a stage a user changed before the lock is the stage decided on.

``write`` runs a number of statements that does not grow with the batch (``tests/repayment/test_sweep_moves.py``
pins it): the checks marked done (a compare-and-set on their status, one UPDATE per result), promise,
instalment and plan statuses through ``repayment.services.statuses`` (one UPDATE per move), the checks cancelled
by a resolved promise or a defaulted plan, the follow-up and plan events, the accounts' broken-promise counts
with their screening keys (one grouped UPDATE) and the supervisors' alerts, the next actions and the moves from
follow-up to visit (``cases_transition_bulk``), the notifications (a ``dedupe_key`` already there is skipped),
and one audit row. Rows are read as plain values and written with ``collections_app.services.bulk_rows``:
building a model instance or an ORM expression per row cost more than the statements themselves.
"""

import datetime as dt
from collections import Counter, defaultdict

from django.conf import settings
from django.db.models import Case as SqlCase
from django.db.models import F, IntegerField, Value, When
from django.utils.translation import gettext as _

from collections_app import priority
from collections_app.aging import local_today
from collections_app.exceptions import StaleObject
from collections_app.models import Case, CaseEvent, DelinquentAccount, Notification, Stage
from collections_app.services.audit import audit_log
from collections_app.services.bulk_rows import id_list, insert_rows, update_by_id
from collections_app.services.cases import cases_transition_bulk
from repayment import conf
from repayment.models import FollowUpCheck, Instalment, PaymentAllocation, PromiseToPay, RepaymentPlan
from repayment.services.common import message_params, revisit_params
from repayment.services.followups_decisions import (
    ALERT_TEXT,
    REVISIT_TEXT,
    CaseFacts,
    Decision,
    DueCheck,
    Facts,
    Obligation,
)
from repayment.services.statuses import instalment_status_move, plan_status_move, promise_status_move

Kind, CheckStatus = FollowUpCheck.Kind, FollowUpCheck.Status
PromiseStatus, InstalmentStatus, PlanStatus = PromiseToPay.Status, Instalment.Status, RepaymentPlan.Status


class LostRace(Exception):
    """Another worker marked one of the batch's checks done first; roll the batch back."""


# --- reading -------------------------------------------------------------------------------------


def claim(now: dt.datetime, size: int, check_id: int | None = None) -> list[DueCheck]:
    """The oldest due checks (or the one ``check_id``), in (due_at, id) order, read straight off
    ``followup_due_id_idx`` and stopping at ``size``: with ``FOR UPDATE`` PostgreSQL cannot bound a sort, so the
    order must be the index's own."""
    due = FollowUpCheck.objects.select_for_update(skip_locked=True).filter(status=CheckStatus.PENDING, due_at__lte=now)
    if check_id is not None:
        due = due.filter(pk=check_id)
    rows = due.order_by("due_at", "id").values_list(
        "id", "kind", "due_at", "case_id", "promise_id", "instalment_id", "dedupe_key"
    )[:size]
    return [DueCheck(*row) for row in rows]


def _payments(lookup: str, ids: set[int]) -> dict[int, tuple]:
    """``{promise or instalment id: ((amount, paid on), …)}``, in one query."""
    found: dict[int, list] = defaultdict(list)
    if ids:
        rows = PaymentAllocation.objects.filter(**{f"{lookup}_id__in": id_list(ids)}).values_list(
            f"{lookup}_id", "amount", "payment__paid_on"
        )
        for pk, amount, paid_on in rows:
            found[pk].append((amount, paid_on))
    return {pk: tuple(rows) for pk, rows in found.items()}


def read_facts(checks: list[DueCheck]) -> Facts:
    """Lock and read the checks' cases, promises and instalments (a payment being recorded waits for the batch).
    A check whose case another writer holds is left out (``Facts.cases`` lacks its case)."""
    # The case lock comes first for every writer (collections_app.services.authority). The engine already
    # holds its checks, which a payment on the case updates under its case lock; so the engine skips a case a
    # user's write holds, instead of waiting for it (a cycle), and its checks stay pending for the next sweep.
    cases = (
        Case.objects.select_for_update(of=("self",), skip_locked=True)
        .filter(pk__in=id_list({c.case_id for c in checks}))
        .order_by("pk")
        .values_list(
            "id",
            "stage",
            "stage_changed_at",
            "account_id",
            "assigned_collector_id",
            "team__supervisor_id",
            "account__branch__timezone",
            "account__currency",
            "account__account_no",
        )
    )
    site_zone = settings.TIME_ZONE
    case_rows = {row[0]: CaseFacts(*row[:6], row[6] or site_zone, *row[7:]) for row in cases}
    checks = [c for c in checks if c.case_id in case_rows]
    due = {c.promise_id for c in checks if c.kind == Kind.PROMISE_DUE}
    paid = _payments("promise", due)
    promises = (
        PromiseToPay.objects.select_for_update()
        .filter(pk__in=id_list({c.promise_id for c in checks if c.promise_id}))
        .order_by("pk")
        .values_list("id", "status", "amount", "paid_amount", "due_date", "grace_days")
    )
    promise_rows = {row[0]: Obligation(*row, payments=paid.get(row[0], ())) for row in promises}
    due = {c.instalment_id for c in checks if c.kind == Kind.INSTALMENT_DUE}
    paid = _payments("instalment", due)
    instalments = (
        Instalment.objects.select_for_update(of=("self",))
        .filter(pk__in=id_list({c.instalment_id for c in checks if c.instalment_id}))
        .order_by("pk")
        .values_list(
            "id", "status", "amount", "paid_amount", "due_date", "plan__grace_days", "plan_id", "seq", "plan__status"
        )
    )
    instalment_rows, plans = {}, {}
    for *row, plan_status in instalments:
        pk, plan_id, seq = row[0], row[6], row[7]
        instalment_rows[pk] = Obligation(*row[:6], payments=paid.get(pk, ()), plan_id=plan_id, seq=seq)
        plans[plan_id] = plan_status
    return Facts(case_rows, promise_rows, instalment_rows, plans)


# --- writing -------------------------------------------------------------------------------------


def write(decisions: list[Decision], facts: Facts, now: dt.datetime) -> dict[int, str]:
    """Apply a batch of decisions (``facts`` as read before them); return ``{check id: result}``."""
    texts = _Texts()
    _mark_done(decisions, now)
    _write_statuses(decisions, facts, now)
    insert_rows(CaseEvent, _events(decisions, facts))
    notifications = [_notice_row(d.check, facts, notice, texts) for d in decisions for notice in d.notices]
    notifications += _count_broken(decisions, facts, texts)
    moved = _revisit(decisions, facts, now, texts, notifications)
    insert_rows(Notification, notifications, ignore_conflicts=True)
    _audit(decisions, facts, moved)
    return {d.check.pk: d.result for d in decisions}


class _Texts(dict):
    """Each message translated once per batch, not once per check."""

    def __missing__(self, template: str) -> str:
        self[template] = _(template)
        return self[template]


def _mark_done(decisions: list[Decision], now: dt.datetime) -> None:
    """The one compare-and-set that marks checks done: one UPDATE per result."""
    by_result: dict[str, list[int]] = defaultdict(list)
    for decision in decisions:
        by_result[decision.result].append(decision.check.pk)
    for result, ids in by_result.items():
        done = FollowUpCheck.objects.filter(pk__in=id_list(ids), status=CheckStatus.PENDING).update(
            status=CheckStatus.DONE,
            result=result,
            evaluated_at=now,
            claimed_at=now,
            attempts=F("attempts") + 1,
            last_error="",
        )
        if done != len(ids):
            raise LostRace


def _write_statuses(decisions: list[Decision], facts: Facts, now: dt.datetime) -> None:
    """Promise, instalment and plan moves, and the checks they cancel. The batch's own checks are done by now,
    so only the other pending checks are cancelled."""
    promises, instalments = defaultdict(list), defaultdict(list)
    for d in decisions:
        if d.promise_status:
            promises[d.promise_status].append(d.check.promise_id)
        if d.instalment_status:
            instalments[d.instalment_status].append(d.check.instalment_id)
    for target, ids in promises.items():
        promise_status_move(rows=ids, source=PromiseStatus.PENDING, target=target, resolved_at=now)
    for target, ids in instalments.items():
        instalment_status_move(rows=ids, source=InstalmentStatus.PENDING, target=target, resolved_at=now)
    resolved = [d.check.promise_id for d in decisions if d.cancels_reminders]
    if resolved:
        FollowUpCheck.objects.filter(
            status=CheckStatus.PENDING, kind=Kind.REMINDER, promise_id__in=id_list(resolved)
        ).update(status=CheckStatus.CANCELLED, result="promise_resolved")
    plans = [d.defaults_plan for d in decisions if d.defaults_plan]
    if not plans:
        return
    plan_status_move(rows=plans, source=PlanStatus.ACTIVE, target=PlanStatus.DEFAULTED, closed_at=now)
    # The plans' instalments by id, so their checks are found through the check's instalment index (a join on
    # the plan made the planner scan every check).
    ids = list(Instalment.objects.filter(plan_id__in=id_list(plans)).order_by().values_list("id", flat=True))
    instalment_status_move(rows=ids, source=InstalmentStatus.PENDING, target=InstalmentStatus.CANCELLED)
    FollowUpCheck.objects.filter(status=CheckStatus.PENDING, instalment_id__in=id_list(ids)).update(
        status=CheckStatus.CANCELLED, result="plan_defaulted"
    )


def _events(decisions: list[Decision], facts: Facts) -> list[dict]:
    rows = []
    for d in decisions:
        if d.event is not None:
            rows.append({"case_id": d.check.case_id, "kind": CaseEvent.Kind.FOLLOW_UP, "payload": d.event})
        if d.defaults_plan:
            payload = {"plan": d.defaults_plan, "status": PlanStatus.DEFAULTED.value}
            rows.append({"case_id": d.check.case_id, "kind": CaseEvent.Kind.PLAN, "payload": payload})
    return rows


def _notice_row(check: DueCheck, facts: Facts, notice, texts: _Texts) -> dict:
    return {
        "recipient_id": notice.recipient_id,
        "case_id": check.case_id,
        "kind": notice.kind,
        "message": (texts[notice.template] % notice.values)[:500],
        "template": notice.template,
        "params": message_params(notice.values, facts.cases[check.case_id].currency),
        "dedupe_key": notice.dedupe_key,
    }


def _count_broken(decisions: list[Decision], facts: Facts, texts: _Texts) -> list[dict]:
    """One grouped increment of the accounts' broken promises that also stores each account's new screening
    key, one read of the new counts; an alert to the supervisor for every count reached at or past
    ``REPAYMENT_BROKEN_PROMISES_ALERT``.

    The key is ``priority.screening_key_expression``, the SQL ``accounts_refresh_screening_keys`` stores, with
    the incremented count in place of the stored one: each account row is written once, not twice."""
    counting = [facts.cases[d.check.case_id] for d in decisions if d.counts_broken]
    if not counting:
        return []
    added = Counter(case.account_id for case in counting)
    if len(set(added.values())) == 1:
        increment = Value(next(iter(added.values())))
    else:
        whens = [When(pk=account_id, then=Value(n)) for account_id, n in added.items()]
        increment = SqlCase(*whens, default=Value(0), output_field=IntegerField())
    new_count = F("broken_promises") + increment
    key = priority.screening_key_expression(today=local_today())
    accounts = DelinquentAccount.objects.filter(pk__in=id_list(added))
    accounts.update(broken_promises=new_count, screening_key=key.replace_expressions({F("broken_promises"): new_count}))
    counts = dict(accounts.order_by().values_list("id", "broken_promises"))
    running = {pk: counts[pk] - n for pk, n in added.items()}
    threshold, alerts = conf.broken_promises_alert(), []
    for case in counting:
        running[case.account_id] += 1
        count = running[case.account_id]
        if count >= threshold and case.supervisor_id is not None:
            values = {"no": case.account_no, "case": case.pk, "count": count}
            alerts.append(
                {
                    "recipient_id": case.supervisor_id,
                    "case_id": case.pk,
                    "kind": "broken_promises",
                    "message": (texts[ALERT_TEXT] % values)[:500],
                    "template": ALERT_TEXT,
                    "params": values,
                    "dedupe_key": f"broken-promises:{case.account_id}:{count}",
                }
            )
    return alerts


def _revisit(
    decisions: list[Decision], facts: Facts, now: dt.datetime, texts: _Texts, notifications: list[dict]
) -> list[int]:
    """Each revisit's notification to the collector; each revisited case's next action (its last revisit's
    reason); a case in follow-up back to visit (with its first revisit's reason as the transition's note).
    Returns the ids of the cases moved."""
    next_actions: dict[int, str] = {}
    moves: dict[int, tuple[Decision, str]] = {}
    for d in decisions:
        if d.revisit is None:
            continue
        case = facts.cases[d.check.case_id]
        reason = texts[d.revisit.reason] % d.revisit.values
        next_actions[case.pk] = reason[:200]
        if d.revisit.to_visit:
            moves.setdefault(case.pk, (d, reason))
        if case.collector_id is not None:
            params = revisit_params(
                case_id=case.pk, reason=d.revisit.reason, values=d.revisit.values, currency=case.currency
            )
            notifications.append(
                {
                    "recipient_id": case.collector_id,
                    "case_id": case.pk,
                    "kind": "revisit",
                    "message": (texts[REVISIT_TEXT] % {"case": case.pk, "reason": reason})[:500],
                    "template": REVISIT_TEXT,
                    "params": params,
                    "dedupe_key": f"revisit:{d.check.dedupe_key}",
                }
            )
    staying = {pk: {"next_action": text} for pk, text in next_actions.items() if pk not in moves}
    update_by_id(Case, staying, next_action_due=now)
    if not moves:
        return []
    cases = [
        Case(
            pk=pk,
            stage=facts.cases[pk].stage,
            stage_changed_at=facts.cases[pk].stage_changed_at,
            assigned_collector_id=facts.cases[pk].collector_id,
        )
        for pk in moves
    ]
    moved = cases_transition_bulk(
        cases=cases,
        target=Stage.VISIT,
        actor=None,
        notes={pk: reason for pk, (_d, reason) in moves.items()},
        payloads={pk: {"check": d.check.pk} for pk, (d, _r) in moves.items()},
        fields={pk: {"next_action": next_actions[pk], "next_action_due": now} for pk in moves},
    )
    if len(moved) != len(cases):  # unreachable under the case locks; the batch is rolled back and retried
        raise StaleObject()
    return sorted(case.pk for case in moved)


def _audit(decisions: list[Decision], facts: Facts, moved: list[int]) -> None:
    """One audit row per batch: what the engine settled, by id."""
    checks: dict[str, list[int]] = defaultdict(list)
    for d in decisions:
        checks[d.result].append(d.check.pk)

    def ids(attr: str, *results: str) -> list[int]:
        return sorted(getattr(d.check, attr) for d in decisions if d.result in results)

    changes = {
        "outcomes": {result: len(pks) for result, pks in checks.items()},
        "checks": {result: sorted(pks) for result, pks in sorted(checks.items())},
        "kept_promises": sorted(d.check.promise_id for d in decisions if d.promise_status == PromiseStatus.KEPT),
        "cancelled_promises": ids("promise_id", "case_closed"),
        "paid_instalments": sorted(
            d.check.instalment_id for d in decisions if d.instalment_status == InstalmentStatus.PAID
        ),
        "broken_promises": ids("promise_id", PromiseStatus.BROKEN),
        "partially_kept_promises": ids("promise_id", PromiseStatus.PARTIALLY_KEPT),
        "missed_instalments": ids("instalment_id", "defaulted"),
        "defaulted_plans": sorted(d.defaults_plan for d in decisions if d.defaults_plan),
        "moved_to_visit": moved,
    }
    audit_log(actor=None, action="followups.sweep_batch", object_type="repayment.followupcheck", changes=changes)
