"""Care cases: opened by a supervisor from the early-warning list, recorded by a collector like a visit."""

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from collections_app.exceptions import NotPermitted, TransitionNotAllowed
from collections_app.models import DelinquentAccount, Role, Team, User
from collections_app.services.audit import audit_log
from risk.models import CareCase, RiskScore


def _supervises(actor: User, team: Team) -> bool:
    return actor.role == Role.ADMIN or actor.is_superuser or (actor.is_supervisor and team.supervisor_id == actor.pk)


@transaction.atomic
def care_case_open(
    *, account: DelinquentAccount, actor: User, collector: User | None = None, team: Team | None = None
) -> CareCase:
    """Open a preventive contact for a current account; the supervisor's team in the account's branch owns it."""
    if team is None:
        team = Team.objects.filter(supervisor=actor, branch=account.branch_id).first()
    if team is None or not _supervises(actor, team) or team.branch_id != account.branch_id:
        raise NotPermitted(_("Only the supervisor of a team in the account's branch can open a care case."))
    if collector is not None and (
        not collector.is_active or not collector.is_collector or collector.team_id != team.pk
    ):
        raise NotPermitted(_("%(user)s is not a collector of this team.") % {"user": collector.get_username()})
    score = RiskScore.objects.filter(account=account, is_current=True).first()
    try:
        with transaction.atomic():
            care = CareCase.objects.create(
                account=account, team=team, assigned_collector=collector, opened_by=actor, risk_score=score
            )
    except IntegrityError as exc:
        raise TransitionNotAllowed(
            _("Account %(no)s already has an open care case.") % {"no": account.account_no}
        ) from exc
    audit_log(
        actor=actor,
        action="care.open",
        obj=care,
        changes={"account": account.account_no, "team": team.pk, "collector": collector.pk if collector else None},
    )
    return care


@transaction.atomic
def care_case_record(*, care: CareCase, actor: User, channel: str, outcome: str, note: str = "") -> CareCase:
    """The collector's record of the contact; it closes the care case (compare-and-set on its status)."""
    may = care.assigned_collector_id == actor.pk or _supervises(actor, care.team)
    if not may:
        raise NotPermitted(_("Only the assigned collector or the team's supervisor can record this care case."))
    if channel not in CareCase.Channel.values or outcome not in CareCase.Outcome.values:
        raise TransitionNotAllowed(_("Choose a channel and an outcome."))
    now = timezone.now()
    updated = CareCase.objects.filter(pk=care.pk, status=CareCase.Status.OPEN).update(
        status=CareCase.Status.DONE,
        channel=channel,
        outcome=outcome,
        note=note.strip()[:1000],
        recorded_by=actor,
        recorded_at=now,
    )
    if not updated:
        raise TransitionNotAllowed(_("This care case is already recorded."))
    care.refresh_from_db()
    audit_log(actor=actor, action="care.record", obj=care, changes={"channel": channel, "outcome": outcome})
    return care
