"""The case state machine: the explicit table of allowed stage changes and who may fire each.

Only ``collections_app.services.cases.case_transition`` changes a case's stage, and only
along this table. ``SYSTEM`` is the follow-up engine (no human actor).

A move may also need facts another app owns (preparation → visit needs a ready visit plan, which
``visits`` keeps). That app registers a guard for the move at start-up (``register_guard``); every
door — the page, the API, offline sync, the engine — reaches ``case_transition``, which runs the
guards, so a rule holds whichever way a request came in.

Another app may also react to a move once it is committed (closing as legal builds the evidence pack, which
``evidence`` keeps): it registers a callback for the target (and close reason) with ``register_after_move``;
``case_transition`` and ``cases_transition_bulk`` run its check before the move and schedule the callback
with ``transaction.on_commit`` after it, so every door reacts the same way, once.
"""

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

from django.db import transaction
from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop

from collections_app.exceptions import CaseRuleError
from collections_app.models import CloseReason, Role, Stage

SYSTEM = "system"
COLLECTOR = Role.COLLECTOR.value
SUPERVISOR = Role.SUPERVISOR.value
OPEN_STAGES = [s for s in Stage.values if s != Stage.CLOSED]


@dataclass(frozen=True)
class Transition:
    source: str
    target: str
    roles: frozenset
    label: str
    # For transitions into CLOSED: the close reasons this transition allows.
    close_reasons: frozenset = frozenset()


def _t(source, target, roles, label, close_reasons=()):
    return Transition(source, target, frozenset(roles), label, frozenset(close_reasons))


_FIELD = (COLLECTOR, SUPERVISOR)
_FIELD_AND_ENGINE = (COLLECTOR, SUPERVISOR, SYSTEM)

TRANSITIONS: tuple[Transition, ...] = (
    _t(Stage.SCREENING, Stage.PREPARATION, _FIELD, _("Start preparation")),
    _t(Stage.PREPARATION, Stage.VISIT, _FIELD, _("Ready to visit")),
    _t(Stage.PREPARATION, Stage.SCREENING, (SUPERVISOR,), _("Return to screening")),
    _t(Stage.VISIT, Stage.PREPARATION, _FIELD_AND_ENGINE, _("Plan a revisit")),
    _t(Stage.VISIT, Stage.NEGOTIATION, _FIELD_AND_ENGINE, _("Move to negotiation")),
    _t(Stage.NEGOTIATION, Stage.FOLLOW_UP, _FIELD_AND_ENGINE, _("Start follow-up")),
    _t(Stage.NEGOTIATION, Stage.VISIT, _FIELD, _("Back to visit")),
    _t(Stage.FOLLOW_UP, Stage.VISIT, _FIELD_AND_ENGINE, _("Revisit")),
    _t(Stage.FOLLOW_UP, Stage.NEGOTIATION, _FIELD_AND_ENGINE, _("Renegotiate")),
    _t(Stage.CLOSED, Stage.PREPARATION, (SUPERVISOR,), _("Reopen")),
    # Closing: paid or settled may be recorded by the field or the engine; a write-off
    # or a legal escalation is a supervisor's decision.
    *(
        _t(stage, Stage.CLOSED, _FIELD_AND_ENGINE, _("Close"), (CloseReason.CURED, CloseReason.SETTLED))
        for stage in OPEN_STAGES
    ),
    *(
        _t(stage, Stage.CLOSED, (SUPERVISOR,), _("Close"), (CloseReason.WRITTEN_OFF, CloseReason.LEGAL))
        for stage in OPEN_STAGES
    ),
)


# The system's next step in each open stage, written by every transition (a closed case has none). Stored as the
# untranslated msgid and shown in the reader's language (``Case.next_action_text``); a typed note stays as written.
NEXT_STEPS: dict[str, str] = {
    Stage.SCREENING: gettext_noop("Assign a collector and start preparation"),
    Stage.PREPARATION: gettext_noop("Prepare the visit"),
    Stage.VISIT: gettext_noop("Visit the borrower"),
    Stage.NEGOTIATION: gettext_noop("Negotiate a repayment plan"),
    Stage.FOLLOW_UP: gettext_noop("Follow up the agreed payments"),
}


def next_step(case, target: str, now) -> dict:
    """The next action a move to ``target`` leaves on the case: the stage's step, due now; in follow-up undated
    (the engine's checks carry the dates); into visit, a planned visit time already set is kept."""
    if target == Stage.CLOSED:
        return {"next_action": "", "next_action_due": None}
    if target == Stage.VISIT and case.next_action_due is not None and case.next_action_due > now:
        return {}
    due = None if target == Stage.FOLLOW_UP else now
    return {"next_action": NEXT_STEPS[target], "next_action_due": due}


# (source, target) → guards. A guard takes the fresh, locked case and raises ``CaseRuleError`` naming its rule.
_GUARDS: dict[tuple[str, str], list[Callable]] = {}


def register_guard(source: str, target: str, guard: Callable) -> None:
    """Add a rule to a move of the table; registering the same guard twice keeps one."""
    if not any(t.source == source and t.target == target for t in TRANSITIONS):
        raise ValueError(f"no transition {source} → {target} to guard")
    guards = _GUARDS.setdefault((source, target), [])
    if guard not in guards:
        guards.append(guard)


def guards_for(source: str, target: str) -> tuple[Callable, ...]:
    return tuple(_GUARDS.get((source, target), ()))


@dataclass(frozen=True)
class AfterMove:
    """``react(case_id=, actor_id=, close_reason=, note=, payload=)`` runs after the move commits (ids, not
    objects: the world is re-read then); ``check(case=, actor=, note=, payload=)``, if given, runs before the
    move and refuses it (raising ``CaseRuleError``) when the reaction could not be carried out."""

    react: Callable
    check: Callable | None = None


# (target, close reason or "") → reactions; "" reacts to every move into the target.
_AFTER_MOVE: dict[tuple[str, str], list[AfterMove]] = {}


def register_after_move(target: str, react: Callable, *, close_reason: str = "", check: Callable | None = None) -> None:
    """Add a reaction to moves into ``target`` (closing: only with ``close_reason`` when given); once per callable."""
    if target not in Stage.values or (
        close_reason and (target != Stage.CLOSED or close_reason not in CloseReason.values)
    ):
        raise ValueError(f"no move into {target} {close_reason} to react to")
    reactions = _AFTER_MOVE.setdefault((target, close_reason), [])
    if all(known.react is not react for known in reactions):
        reactions.append(AfterMove(react, check))


def after_move_reactions(target: str, close_reason: str = "") -> tuple[AfterMove, ...]:
    specific = _AFTER_MOVE.get((target, close_reason), []) if close_reason else []
    return (*_AFTER_MOVE.get((target, ""), ()), *specific)


def after_move_check(*, case, target: str, actor, close_reason: str = "", note: str = "", payload=None) -> None:
    for reaction in after_move_reactions(target, close_reason):
        if reaction.check is not None:
            reaction.check(case=case, actor=actor, note=note, payload=payload or {})


def after_move_schedule(*, moves: list[tuple[int, str, dict]], target: str, actor, close_reason: str = "") -> None:
    """Run every reaction for each moved ``(case_id, note, payload)`` once the caller's transaction commits.
    ``robust``: the move is committed by then, so a failing reaction is logged, not raised at the mover."""
    actor_id = actor.pk if actor is not None else None
    for reaction in after_move_reactions(target, close_reason):
        for case_id, note, payload in moves:
            call = partial(
                reaction.react,
                case_id=case_id,
                actor_id=actor_id,
                close_reason=close_reason,
                note=note,
                payload=payload,
            )
            transaction.on_commit(call, robust=True)


def require_collector(*, case) -> None:
    """Every move into preparation: someone must prepare the visit."""
    if case.assigned_collector_id is None:
        raise CaseRuleError(_("Assign a collector before preparation starts."), rule="collector_assigned")


for _move in TRANSITIONS:
    if _move.target == Stage.PREPARATION:
        register_guard(_move.source, _move.target, require_collector)


def actor_role(case, actor) -> str | None:
    """The role the actor plays on this case, or None when they may not act on it."""
    if actor is None:
        return SYSTEM
    if not actor.is_authenticated or not actor.is_active:
        return None
    if actor.role == Role.ADMIN or actor.is_superuser:
        return SUPERVISOR
    if actor.is_supervisor and case.team.supervisor_id == actor.pk:
        return SUPERVISOR
    if actor.is_collector and case.assigned_collector_id == actor.pk:
        return COLLECTOR
    return None


def allowed_transitions(case, actor) -> list[Transition]:
    role = actor_role(case, actor)
    if role is None:
        return []
    return [t for t in TRANSITIONS if t.source == case.stage and role in t.roles]


def find_transition(case, actor, target: str, close_reason: str = "") -> Transition | None:
    for transition in allowed_transitions(case, actor):
        if transition.target != target:
            continue
        if target == Stage.CLOSED and close_reason not in transition.close_reasons:
            continue
        return transition
    return None


def transition_targets(case, actor) -> list[dict]:
    """Buttons for the case page: one per target stage (and close reason) the actor may fire."""
    buttons = []
    for transition in allowed_transitions(case, actor):
        if transition.target == Stage.CLOSED:
            buttons.extend(
                {"target": transition.target, "close_reason": reason, "label": CloseReason(reason).label}
                for reason in sorted(transition.close_reasons)
            )
        else:
            buttons.append({"target": transition.target, "close_reason": "", "label": transition.label})
    return buttons
