"""Opening, assigning and moving cases. The only writer of ``Case.stage``."""

from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from collections_app import chain, priority
from collections_app.exceptions import CaseRuleError, NotPermitted, StaleObject, TransitionNotAllowed
from collections_app.models import AuditLog, Case, CaseEvent, CloseReason, DelinquentAccount, Role, Stage, Team, User
from collections_app.services.audit import audit_log, current_ip, without_nul
from collections_app.services.authority import account_lock, case_lock
from collections_app.services.bulk_rows import insert_rows
from collections_app.workflow import (
    SUPERVISOR,
    actor_role,
    after_move_check,
    after_move_schedule,
    find_transition,
    guards_for,
    next_step,
)


def case_event_add(*, case: Case, actor, kind: str, payload: dict | None = None, **stages) -> CaseEvent:
    """Append to a case's timeline. Callers are services already inside a transaction."""
    event = CaseEvent.objects.create(case=case, actor=actor, kind=kind, payload=without_nul(payload or {}), **stages)
    chain.seal_case_on_commit(case.pk)
    return event


def _supervises(actor: User, team: Team) -> bool:
    return actor.role == Role.ADMIN or actor.is_superuser or (actor.is_supervisor and team.supervisor_id == actor.pk)


@transaction.atomic
def case_open(*, account: DelinquentAccount, actor: User, team: Team | None = None) -> Case:
    """Open a case on an account in screening; the supervisor's own team owns it by default."""
    if team is None:
        team = Team.objects.filter(supervisor=actor, branch=account.branch).first() or actor.team
    if team is None or not _supervises(actor, team):
        raise NotPermitted(_("Only the supervisor of a team can open cases for it."))
    if account.overdue_amount <= 0:
        raise TransitionNotAllowed(_("Account %(no)s has nothing overdue.") % {"no": account.account_no})
    score, parts = priority.score_account(account)
    try:
        with transaction.atomic():
            case = Case.objects.create(
                account=account,
                team=team,
                stage=Stage.SCREENING,
                priority_score=score,
                priority_parts=parts,
                overdue_amount_at_open=account.overdue_amount,
                opened_by=actor,
            )
    except IntegrityError as exc:
        raise TransitionNotAllowed(_("Account %(no)s already has an open case.") % {"no": account.account_no}) from exc
    DelinquentAccount.objects.filter(pk=account.pk).update(has_open_case=True)
    account.has_open_case = True
    case_event_add(
        case=case, actor=actor, kind=CaseEvent.Kind.OPENED, to_stage=Stage.SCREENING, payload={"priority": str(score)}
    )
    audit_log(actor=actor, action="case.open", obj=case, changes={"account": account.account_no, "team": team.pk})
    return case


@transaction.atomic
def case_assign(*, case: Case, collector: User, actor: User, reason: str = "") -> Case:
    """Assign (or reassign, which needs a reason) a case to a collector of its team."""
    seen_id = case.assigned_collector_id
    case_lock(case, require_open=False)
    if actor_role(case, actor) != SUPERVISOR:
        raise NotPermitted(_("Only the team's supervisor can assign this case."))
    if not collector.is_active or not collector.is_collector or collector.team_id != case.team_id:
        raise NotPermitted(_("%(user)s is not a collector of this case's team.") % {"user": collector.get_username()})
    if not case.is_open:
        raise CaseRuleError(_("A closed case cannot be assigned."), rule="case_closed", conflict=True)
    previous_id = case.assigned_collector_id
    if previous_id != seen_id and previous_id != collector.pk:
        # Another supervisor assigned the case since the caller read it.
        raise StaleObject()
    if previous_id == collector.pk:
        return case
    reason = reason.strip()
    if previous_id is not None and not reason:
        raise TransitionNotAllowed(_("Give a reason for the reassignment."))
    Case.objects.filter(pk=case.pk).update(assigned_collector=collector)
    case.assigned_collector = collector
    kind = CaseEvent.Kind.REASSIGNED if previous_id else CaseEvent.Kind.ASSIGNED
    payload = {"collector": collector.get_username(), "previous": previous_id, "reason": reason}
    case_event_add(case=case, actor=actor, kind=kind, payload=payload)
    audit_log(
        actor=actor,
        action=f"case.{kind}",
        obj=case,
        changes={"assigned_collector": [previous_id, collector.pk], "reason": reason},
    )
    return case


def _stage_seconds(case: Case, now) -> int | None:
    """The stay being ended, for the dashboard's average days per stage (README, "Dashboard")."""
    return max(0, int((now - case.stage_changed_at).total_seconds())) if case.stage_changed_at else None


def _check_transition(case: Case, target: str, actor: User | None, close_reason: str) -> None:
    """The table's answer for the fresh row: the move exists for this actor, then every guard of the move."""
    if target not in Stage.values:
        raise CaseRuleError(_("Unknown stage."), rule="unknown_stage")
    if target == Stage.CLOSED and close_reason not in CloseReason.values:
        raise CaseRuleError(_("Give a close reason to close the case."), rule="close_reason")
    if find_transition(case, actor, target, close_reason) is None:
        raise CaseRuleError(
            _("A case in %(source)s cannot move to %(target)s by you.")
            % {"source": Stage(case.stage).label, "target": Stage(target).label},
            rule="transition",
        )
    for guard in guards_for(case.stage, target):
        guard(case=case)


def transition_refusal(*, case: Case, target: str, actor: User | None, close_reason: str = "") -> CaseRuleError | None:
    """Why the move would be refused now (``None`` when it is allowed): what pages show before a click."""
    try:
        _check_transition(case, target, actor, close_reason)
    except CaseRuleError as exc:
        return exc
    except TransitionNotAllowed as exc:
        return CaseRuleError(exc.message, rule=exc.code)
    return None


@transaction.atomic
def case_transition(
    *,
    case: Case,
    target: str,
    actor: User | None,
    close_reason: str = "",
    note: str = "",
    payload: dict | None = None,
    expected_stage: str | None = None,
) -> Case:
    """Move a case along the transition table (``collections_app.workflow``).

    Takes the case lock first (``authority.case_lock``), so the table and its guards judge the fresh row,
    then the account's when the move opens or closes the case. ``expected_stage``: the stage the caller saw
    (a page's form, an API client); a case moved meanwhile is refused as a conflict (``StaleObject``).
    ``actor=None`` is the follow-up engine.
    """
    seen = expected_stage or case.stage
    case_lock(case, require_open=False)
    if case.stage != seen:
        raise StaleObject()
    _check_transition(case, target, actor, close_reason)
    after_move_check(case=case, target=target, actor=actor, close_reason=close_reason, note=note, payload=payload)
    now = timezone.now()
    changes = {"stage": target, "stage_changed_at": now, **next_step(case, target, now)}
    if target == Stage.CLOSED:
        changes.update(closed_at=now, close_reason=close_reason)
    elif case.stage == Stage.CLOSED:
        changes.update(closed_at=None, close_reason="")
    source = case.stage
    stage_seconds = _stage_seconds(case, now)
    if target == Stage.CLOSED or source == Stage.CLOSED:
        account_lock(case)
    try:
        with transaction.atomic():
            Case.objects.filter(pk=case.pk).update(**changes)
    except IntegrityError as exc:  # reopening while the account has another open case
        raise CaseRuleError(_("The account already has another open case."), rule="one_open_case") from exc
    for field, value in changes.items():
        setattr(case, field, value)
    if target == Stage.CLOSED or source == Stage.CLOSED:
        DelinquentAccount.objects.filter(pk=case.account_id).update(has_open_case=target != Stage.CLOSED)
    event_payload = {**(payload or {}), **({"note": note} if note else {})}
    if close_reason:
        event_payload["close_reason"] = close_reason
    case_event_add(
        case=case,
        actor=actor,
        kind=CaseEvent.Kind.TRANSITION,
        from_stage=source,
        to_stage=target,
        payload=event_payload,
        stage_seconds=stage_seconds,
    )
    audit_log(
        actor=actor,
        action="case.transition",
        obj=case,
        changes={"stage": [source, target], **({"close_reason": close_reason} if close_reason else {})},
    )
    after_move_schedule(moves=[(case.pk, note, payload or {})], target=target, actor=actor, close_reason=close_reason)
    return case


def _moved_ids(cases: list[Case], source: str, target: str, now, fields: dict[int, dict]) -> set[int]:
    """Compare-and-set on the stage column for many cases at once, writing each case's other ``fields`` with
    it: ``UPDATE … FROM (VALUES (id, …), …) WHERE id = <the row's id> AND stage = source RETURNING id``
    (PostgreSQL and SQLite both return the rows they changed)."""
    meta, quote = Case._meta, connection.ops.quote_name
    names = sorted(fields.get(cases[0].pk, {}))
    columns = [meta.get_field(name) for name in names]
    sets = [f"{quote(meta.get_field('stage').column)} = %s", f"{quote(meta.get_field('stage_changed_at').column)} = %s"]
    sets += [f"{quote(field.column)} = v.column{n}" for n, field in enumerate(columns, start=2)]
    row = f"({', '.join(['%s'] * (len(names) + 1))})"
    pk, stage = quote(meta.pk.column), quote(meta.get_field("stage").column)
    moved: set[int] = set()
    for start in range(0, len(cases), 1000):
        chunk = cases[start : start + 1000]
        sql = (
            f"UPDATE {quote(meta.db_table)} SET {', '.join(sets)} FROM (VALUES {', '.join([row] * len(chunk))}) AS v "  # noqa: S608  # nosec B608 -- names from model metadata, values as parameters
            f"WHERE {pk} = v.column1 AND {stage} = %s RETURNING {pk}"
        )
        params = [target, connection.ops.adapt_datetimefield_value(now)]
        for case in chunk:
            values = fields.get(case.pk, {})
            params += [case.pk, *(field.get_db_prep_save(values[field.name], connection) for field in columns)]
        with connection.cursor() as cursor:
            cursor.execute(sql, [*params, source])
            moved.update(returned[0] for returned in cursor.fetchall())
    return moved


@transaction.atomic
def cases_transition_bulk(
    *,
    cases: list[Case],
    target: str,
    actor: User | None,
    notes: dict[int, str] | None = None,
    payloads: dict[int, dict] | None = None,
    fields: dict[int, dict] | None = None,
) -> list[Case]:
    """Move many cases to ``target`` at once, writing for each moved case what ``case_transition`` writes (the
    stage and ``stage_changed_at``, a transition event with ``stage_seconds``, a ``case.transition`` audit row),
    in a number of statements that does not grow with the number of cases.

    ``cases`` carry the caller's read of ``stage`` and ``stage_changed_at`` (best taken with
    ``select_for_update``). Compare-and-set on the stage, as in ``case_transition``: a case whose stage changed
    since that read is not moved and is left out of the returned list, for the caller to decide. Moves into or
    out of closed stay with ``case_transition`` (they touch the account's open-case flag and close fields).
    ``notes`` and ``payloads`` are by case id; so are ``fields``, other columns written in the same UPDATE
    (e.g. ``{"next_action": …}``; the same names for every case).

    Like every bulk write, the events are left for the hash chain's beat task to seal (``chain.seal_pending``):
    sealing hundreds of cases inline had cost the follow-up sweep, its caller, more than its own work.
    """
    if target not in Stage.values or target == Stage.CLOSED:
        raise TransitionNotAllowed(_("Unknown stage."))
    for case in cases:
        if case.stage == Stage.CLOSED or find_transition(case, actor, target) is None:
            raise TransitionNotAllowed(
                _("A case in %(source)s cannot move to %(target)s by you.")
                % {"source": Stage(case.stage).label, "target": Stage(target).label}
            )
        for guard in guards_for(case.stage, target):
            guard(case=case)
    notes, payloads, fields = notes or {}, payloads or {}, fields or {}
    for case in cases:
        after_move_check(
            case=case, target=target, actor=actor, note=notes.get(case.pk, ""), payload=payloads.get(case.pk)
        )
    if len({frozenset(fields.get(case.pk, {})) for case in cases}) > 1:
        raise ValueError("cases_transition_bulk: give the same fields for every case")
    if len({case.pk for case in cases}) != len(cases):
        raise ValueError("cases_transition_bulk: give each case once")
    now = timezone.now()
    by_source: dict[str, list[Case]] = {}
    for case in cases:
        by_source.setdefault(case.stage, []).append(case)
    moved_ids: set[int] = set()
    for source, group in by_source.items():
        moved_ids |= _moved_ids(group, source, target, now, fields)
    moved = [case for case in cases if case.pk in moved_ids]
    events, audits = [], []
    audit_actor = actor.pk if actor is not None and actor.is_authenticated else None
    ip_address = current_ip.get()
    for case in moved:
        source, stage_seconds = case.stage, _stage_seconds(case, now)
        case.stage, case.stage_changed_at = target, now
        for name, value in fields.get(case.pk, {}).items():
            setattr(case, name, value)
        note = notes.get(case.pk, "")
        payload = {**payloads.get(case.pk, {}), **({"note": note} if note else {})}
        events.append(
            {
                "case_id": case.pk,
                "actor_id": actor.pk if actor is not None else None,
                "kind": CaseEvent.Kind.TRANSITION,
                "from_stage": source,
                "to_stage": target,
                "payload": without_nul(payload),
                "stage_seconds": stage_seconds,
            }
        )
        audits.append(
            {
                "actor_id": audit_actor,
                "action": "case.transition",
                "object_type": Case._meta.label_lower,
                "object_id": str(case.pk),
                "changes": {"stage": [source, target]},
                "ip_address": ip_address,
            }
        )
    insert_rows(CaseEvent, events)  # sealed by the chain's beat task, as every bulk write is (collections_app.chain)
    insert_rows(AuditLog, audits)
    moves = [(case.pk, notes.get(case.pk, ""), payloads.get(case.pk, {})) for case in moved]
    after_move_schedule(moves=moves, target=target, actor=actor)
    return moved
