"""Opening, assigning and moving cases. The only writer of ``Case.stage``."""

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from collections_app import priority
from collections_app.exceptions import NotPermitted, StaleObject, TransitionNotAllowed
from collections_app.models import Case, CaseEvent, DelinquentAccount, Role, Stage, Team, User
from collections_app.services.audit import audit_log, without_nul
from collections_app.workflow import SUPERVISOR, actor_role, find_transition


def case_event_add(*, case: Case, actor, kind: str, payload: dict | None = None, **stages) -> CaseEvent:
    """Append to a case's timeline. Callers are services already inside a transaction."""
    return CaseEvent.objects.create(case=case, actor=actor, kind=kind, payload=without_nul(payload or {}), **stages)


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
    if actor_role(case, actor) != SUPERVISOR:
        raise NotPermitted(_("Only the team's supervisor can assign this case."))
    if not collector.is_active or not collector.is_collector or collector.team_id != case.team_id:
        raise NotPermitted(_("%(user)s is not a collector of this case's team.") % {"user": collector.get_username()})
    if not case.is_open:
        raise TransitionNotAllowed(_("A closed case cannot be assigned."))
    previous_id = case.assigned_collector_id
    if previous_id == collector.pk:
        return case
    reason = reason.strip()
    if previous_id is not None and not reason:
        raise TransitionNotAllowed(_("Give a reason for the reassignment."))
    updated = Case.objects.filter(pk=case.pk, assigned_collector_id=previous_id).update(assigned_collector=collector)
    if not updated:
        raise StaleObject()
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


@transaction.atomic
def case_transition(
    *,
    case: Case,
    target: str,
    actor: User | None,
    close_reason: str = "",
    note: str = "",
    payload: dict | None = None,
) -> Case:
    """Move a case along the transition table (``collections_app.workflow``).

    Compare-and-set on the stage column: of two concurrent transitions from the same
    stage, the second finds the stage changed and fails with ``StaleObject``.
    ``actor=None`` is the follow-up engine.
    """
    if target not in Stage.values:
        raise TransitionNotAllowed(_("Unknown stage."))
    transition = find_transition(case, actor, target, close_reason)
    if transition is None:
        raise TransitionNotAllowed(
            _("A case in %(source)s cannot move to %(target)s by you.")
            % {"source": Stage(case.stage).label, "target": Stage(target).label}
        )
    if target == Stage.PREPARATION and case.assigned_collector_id is None:
        raise TransitionNotAllowed(_("Assign a collector before preparation starts."))
    now = timezone.now()
    changes = {"stage": target, "stage_changed_at": now}
    if target == Stage.CLOSED:
        changes.update(closed_at=now, close_reason=close_reason, next_action_due=None, next_action="")
    elif case.stage == Stage.CLOSED:
        changes.update(closed_at=None, close_reason="")
    source = case.stage
    # The stay being ended, for the dashboard's average days per stage (README, "Dashboard").
    stage_seconds = max(0, int((now - case.stage_changed_at).total_seconds())) if case.stage_changed_at else None
    try:
        with transaction.atomic():
            updated = Case.objects.filter(pk=case.pk, stage=source).update(**changes)
    except IntegrityError as exc:  # reopening while the account has another open case
        raise TransitionNotAllowed(_("The account already has another open case.")) from exc
    if not updated:
        raise StaleObject()
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
    return case
