"""The follow-up sweep's case-moving outcomes, settled set-based inside the batch's transaction.

A promise broken or partly kept, a missed instalment (the plan defaults) and a care revisit are written here
for a whole batch in a number of statements that does not grow with the batch, with what the one-by-one
evaluators of ``repayment.services.followups`` write for each check:

* promise → broken / partially kept (``resolved_at``), its pending reminders cancelled; instalment → missed,
  the plan's pending instalments cancelled, the plan defaulted, its pending checks cancelled;
* the follow-up event (and the plan event), the case's next action, the revisit notification to the
  collector, the care-revisit notification (collector, else the team's supervisor);
* a broken promise or a defaulted plan on an open case counts on the account, whose stored screening key is
  refreshed in the same grouped UPDATE, and the supervisor is alerted at each count from
  ``REPAYMENT_BROKEN_PROMISES_ALERT`` on, as ``record_broken_promise`` does;
* a case in follow-up goes back to visit through ``cases_transition_bulk`` (compare-and-set on the stage,
  a transition event with ``stage_seconds``, a ``case.transition`` audit row per case).

The cases are locked (``select_for_update``, in id order) before anything is decided, so the stage, the
collector and the time in stage are read as the transition will find them. A case whose stage is not the
one the claim read (a user moved it meanwhile) is handed back to the one-by-one evaluator, which reads it
afresh; so is every check whose kind's evaluator is not the one mirrored here (a replaced evaluator).
Only the first case-moving check of a case in a batch comes here; the batch leaves the case's later checks
to the one-by-one evaluator, run after this, so each case's checks still take effect in due order.
"""

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from django.db.models import Case as SqlCase
from django.db.models import F, IntegerField, Value, When
from django.utils.translation import gettext as _

from collections_app import priority
from collections_app.aging import local_today
from collections_app.exceptions import StaleObject
from collections_app.models import Case, CaseEvent, DelinquentAccount, Stage
from collections_app.services.bulk_rows import id_list, update_by_id
from collections_app.services.cases import cases_transition_bulk
from repayment import conf
from repayment.models import FollowUpCheck, Instalment, PromiseToPay, RepaymentPlan
from repayment.services.common import (
    ALERT_TEXT,
    BROKEN_REASON,
    CARE_TEXT,
    DEFAULTED_REASON,
    PARTLY_KEPT_REASON,
    REVISIT_TEXT,
    revisit_params,
)

if TYPE_CHECKING:
    from repayment.services.followups_bulk import DueCheck

Kind, CheckStatus = FollowUpCheck.Kind, FollowUpCheck.Status


def settles_set_based(check: "DueCheck") -> bool:
    """The kind's evaluator is the one this module mirrors (a replaced evaluator runs one by one)."""
    from repayment.services import followups

    mirrored = {
        Kind.PROMISE_DUE: followups._evaluate_promise,
        Kind.INSTALMENT_DUE: followups._evaluate_instalment,
        Kind.CARE_REVISIT: followups._evaluate_care,
    }
    return followups.EVALUATORS.get(check.kind) is mirrored.get(check.kind, object())


@dataclass
class _Move:
    check: "DueCheck"
    case: Case  # the locked read
    outcome: str
    reason: str = ""  # the revisit's reason; empty when the case is not sent back
    reason_template: str = ""  # the reason untranslated, with its values, for the notification
    reason_values: dict = field(default_factory=dict)
    counts_broken: bool = False
    notifications: list = field(default_factory=list)


class CaseMoves:
    """Settle the batch's case-moving checks; ``batch`` is the ``followups_bulk._Batch`` they belong to (its
    locked promises, instalments and paid-in-time sums; its events and notifications lists)."""

    def __init__(self, batch, checks: list["DueCheck"]):
        self.batch, self.checks, self.now = batch, checks, batch.now
        self.moves: list[_Move] = []
        self.moved_cases: list[int] = []
        self.results: dict[int, str] = {}
        # The messages untranslated (kept by each notification), and each translated once per batch, not once
        # per check.
        self.templates = {
            PromiseToPay.Status.BROKEN: BROKEN_REASON,
            PromiseToPay.Status.PARTIALLY_KEPT: PARTLY_KEPT_REASON,
            "defaulted": DEFAULTED_REASON,
            "revisit": REVISIT_TEXT,
            "care": CARE_TEXT,
            "alert": ALERT_TEXT,
        }
        self.text = {key: _(template) for key, template in self.templates.items()}

    def prepare(self) -> list[int]:
        """Lock the cases, decide each check, write everything but the stage moves; return the ids of the
        checks handed back to the one-by-one evaluator."""
        if not self.checks:
            return []
        cases = {
            case.pk: case
            for case in Case.objects.select_for_update(of=("self",))
            .annotate(supervisor_id=F("team__supervisor_id"))
            .only("id", "stage", "stage_changed_at", "account_id", "assigned_collector_id")
            .filter(pk__in=id_list({check.case_id for check in self.checks}))
            .order_by("pk")
        }
        handed_back = []
        for check in self.checks:
            case = cases[check.case_id]
            if case.stage != check.case_stage:  # moved since the claim: the evaluator reads it afresh
                handed_back.append(check.pk)
                continue
            self.moves.append(self._decide(check, case))
        self._write_obligations()
        self._count_broken()
        for move in self.moves:
            self.results[move.check.pk] = move.outcome
            self.batch.notifications.extend(move.notifications)
            if move.reason:
                self._revisit(move)
        self._write_next_actions()
        return handed_back

    def move_stages(self) -> None:
        """Send the revisited cases in follow-up back to visit; after the batch's events are written, so each
        case's follow-up event comes before its transition, as in the one-by-one path."""
        revisits = [m for m in self.moves if m.reason and m.case.stage == Stage.FOLLOW_UP]
        moved = cases_transition_bulk(
            cases=[m.case for m in revisits],
            target=Stage.VISIT,
            actor=None,
            notes={m.case.pk: m.reason for m in revisits},
            payloads={m.case.pk: {"check": m.check.pk} for m in revisits},
            fields={m.case.pk: self._next_action(m) for m in revisits},
        )
        if len(moved) != len(revisits):  # unreachable under the row locks; the batch falls back to one by one
            raise StaleObject()
        self.moved_cases = sorted(case.pk for case in moved)

    def audit(self) -> dict:
        def ids(outcome: str, attr: str) -> list[int]:
            return sorted(getattr(m.check, attr) for m in self.moves if m.outcome == outcome)

        return {
            "broken_promises": ids(PromiseToPay.Status.BROKEN, "promise_id"),
            "partially_kept_promises": ids(PromiseToPay.Status.PARTIALLY_KEPT, "promise_id"),
            "missed_instalments": ids("defaulted", "instalment_id"),
            "defaulted_plans": sorted(self.batch.instalments[m.check.instalment_id].plan_id for m in self._defaults),
            "moved_to_visit": self.moved_cases,
        }

    # --- deciding ---------------------------------------------------------------------------------

    def _decide(self, check: "DueCheck", case: Case) -> _Move:
        if check.kind == Kind.PROMISE_DUE:
            return self._decide_promise(check, case)
        if check.kind == Kind.INSTALMENT_DUE:
            return self._decide_instalment(check, case)
        return self._decide_care(check, case)

    def _event(self, check: "DueCheck", outcome: str, **extra) -> None:
        payload = {"check": check.pk, "kind": check.kind, "outcome": outcome, **extra}
        self.batch.events.append(
            {"case_id": check.case_id, "actor_id": None, "kind": CaseEvent.Kind.FOLLOW_UP, "payload": payload}
        )

    def _decide_promise(self, check: "DueCheck", case: Case) -> _Move:
        promise, paid = self.batch.promises[check.promise_id], self.batch.promise_paid[check.promise_id]
        status = PromiseToPay.Status.PARTIALLY_KEPT if paid > 0 else PromiseToPay.Status.BROKEN
        self._event(check, status, promise=promise.pk, paid=str(paid), amount=str(promise.amount))
        values = {"amount": promise.amount, "date": promise.due_date}
        return _Move(
            check,
            case,
            status,
            reason=self.text[status] % values,
            reason_template=self.templates[status],
            reason_values=values,
            counts_broken=status == PromiseToPay.Status.BROKEN,
        )

    def _decide_instalment(self, check: "DueCheck", case: Case) -> _Move:
        instalment = self.batch.instalments[check.instalment_id]
        paid = self.batch.instalment_paid[instalment.pk]
        self._event(check, "defaulted", plan=instalment.plan_id, instalment=instalment.pk, paid=str(paid))
        self.batch.events.append(
            {
                "case_id": check.case_id,
                "actor_id": None,
                "kind": CaseEvent.Kind.PLAN,
                "payload": {"plan": instalment.plan_id, "status": "defaulted"},
            }
        )
        if not case.is_open:
            return _Move(check, case, "defaulted")
        values = {"seq": instalment.seq, "amount": instalment.amount, "date": instalment.due_date}
        return _Move(
            check,
            case,
            "defaulted",
            reason=self.text["defaulted"] % values,
            reason_template=self.templates["defaulted"],
            reason_values=values,
            counts_broken=True,
        )

    def _decide_care(self, check: "DueCheck", case: Case) -> _Move:
        move = _Move(check, case, "care_revisit_due")
        recipient = case.assigned_collector_id or case.supervisor_id
        if recipient is not None:
            move.notifications.append(
                {
                    "recipient_id": recipient,
                    "case_id": case.pk,
                    "kind": "care_revisit",
                    "message": (self.text["care"] % {"case": case.pk})[:500],
                    "template": self.templates["care"],
                    "params": {"case": case.pk},
                    "dedupe_key": f"care:{check.pk}",
                }
            )
        self._event(check, "care_revisit_due")
        return move

    # --- writing ----------------------------------------------------------------------------------

    @property
    def _defaults(self) -> list[_Move]:
        return [m for m in self.moves if m.outcome == "defaulted"]

    def _write_obligations(self) -> None:
        now, move_ids = self.now, [m.check.pk for m in self.moves]
        for status in (PromiseToPay.Status.BROKEN, PromiseToPay.Status.PARTIALLY_KEPT):
            ids = [m.check.promise_id for m in self.moves if m.outcome == status]
            if ids:
                PromiseToPay.objects.filter(pk__in=id_list(ids), status=PromiseToPay.Status.PENDING).update(
                    status=status, resolved_at=now
                )
        resolved = [m.check.promise_id for m in self.moves if m.check.kind == Kind.PROMISE_DUE]
        if resolved:
            FollowUpCheck.objects.filter(
                status=CheckStatus.PENDING, kind=Kind.REMINDER, promise_id__in=id_list(resolved)
            ).exclude(pk__in=id_list(move_ids)).update(status=CheckStatus.CANCELLED, result="promise_resolved")
        missed = [m.check.instalment_id for m in self._defaults]
        if not missed:
            return
        plans = [self.batch.instalments[pk].plan_id for pk in missed]
        # The plans' instalments by id, so the checks below are found through their instalment index (a join
        # on the plan made the planner scan every check).
        instalments = list(Instalment.objects.filter(plan_id__in=id_list(plans)).order_by().values_list("id", "status"))
        Instalment.objects.filter(pk__in=id_list(missed)).update(status=Instalment.Status.MISSED, resolved_at=now)
        missed_ids = set(missed)
        pending = [pk for pk, status in instalments if status == Instalment.Status.PENDING and pk not in missed_ids]
        if pending:
            Instalment.objects.filter(pk__in=id_list(pending), status=Instalment.Status.PENDING).update(
                status=Instalment.Status.CANCELLED
            )
        RepaymentPlan.objects.filter(pk__in=id_list(plans), status=RepaymentPlan.Status.ACTIVE).update(
            status=RepaymentPlan.Status.DEFAULTED, closed_at=now
        )
        FollowUpCheck.objects.filter(
            status=CheckStatus.PENDING, instalment_id__in=id_list(pk for pk, _s in instalments)
        ).exclude(pk__in=id_list(move_ids)).update(status=CheckStatus.CANCELLED, result="plan_defaulted")

    def _count_broken(self) -> None:
        """``record_broken_promise`` for the batch: one grouped increment that also stores each account's new
        screening key, one read of the new counts; an alert for every count reached at or past the threshold.

        The key is ``priority.screening_key_expression``, the SQL ``accounts_refresh_screening_keys`` stores,
        with the incremented count in place of the stored one: each account row is written once, not twice."""
        counting = [m for m in self.moves if m.counts_broken]
        if not counting:
            return
        added: dict[int, int] = {}
        for move in counting:
            added[move.case.account_id] = added.get(move.case.account_id, 0) + 1
        if len(set(added.values())) == 1:
            increment = Value(next(iter(added.values())))
        else:
            whens = [When(pk=account_id, then=Value(n)) for account_id, n in added.items()]
            increment = SqlCase(*whens, default=Value(0), output_field=IntegerField())
        new_count = F("broken_promises") + increment
        key = priority.screening_key_expression(today=local_today())
        accounts = DelinquentAccount.objects.filter(pk__in=id_list(added))
        accounts.update(
            broken_promises=new_count, screening_key=key.replace_expressions({F("broken_promises"): new_count})
        )
        rows = {
            pk: (count, no) for pk, count, no in accounts.order_by().values_list("id", "broken_promises", "account_no")
        }
        threshold = conf.broken_promises_alert()
        running = {pk: rows[pk][0] - n for pk, n in added.items()}
        for move in counting:
            account_id, supervisor_id = move.case.account_id, move.case.supervisor_id
            running[account_id] += 1
            count = running[account_id]
            if count >= threshold and supervisor_id is not None:
                values = {"no": rows[account_id][1], "case": move.case.pk, "count": count}
                move.notifications.append(
                    {
                        "recipient_id": supervisor_id,
                        "case_id": move.case.pk,
                        "kind": "broken_promises",
                        "message": (self.text["alert"] % values)[:500],
                        "template": self.templates["alert"],
                        "params": values,
                        "dedupe_key": f"broken-promises:{account_id}:{count}",
                    }
                )

    def _revisit(self, move: _Move) -> None:
        collector = move.case.assigned_collector_id
        if collector is None:
            return
        self.batch.notifications.append(
            {
                "recipient_id": collector,
                "case_id": move.case.pk,
                "kind": "revisit",
                "message": (self.text["revisit"] % {"case": move.case.pk, "reason": move.reason})[:500],
                "template": self.templates["revisit"],
                "params": revisit_params(
                    case_id=move.case.pk,
                    reason=move.reason_template,
                    values=move.reason_values,
                    currency=move.check.currency,
                ),
                "dedupe_key": f"revisit:{move.check.dedupe_key}",
            }
        )

    def _next_action(self, move: _Move) -> dict:
        return {"next_action": move.reason[:200], "next_action_due": self.now}

    def _write_next_actions(self) -> None:
        """The next action of each revisited case that stays in its stage (the cases sent back to visit get
        theirs in the UPDATE that moves them)."""
        revisits = {m.case.pk: m.reason[:200] for m in self.moves if m.reason and m.case.stage != Stage.FOLLOW_UP}
        update_by_id(Case, {pk: {"next_action": reason} for pk, reason in revisits.items()}, next_action_due=self.now)
