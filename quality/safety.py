"""Field safety: the visit safety timer (check-in, check-out, overdue alerts), the help button, unsafe addresses."""

import datetime as dt
import uuid
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from collections_app.exceptions import DoorstepError, NotPermitted
from collections_app.models import Case, Role, User
from collections_app.services.audit import audit_log
from quality import conf
from quality.models import HelpRequest, SafetyCheckIn, UnsafeAddress
from quality.notify import notify
from visits.models import VisitPlan

MAX_MINUTES = 480
HOSTILE_REASON = gettext_noop("The borrower was hostile on a visit")
ESCALATED = gettext_noop(
    "Escalated: %(collector)s is still overdue on a visit (case %(case)s); the supervisor was alerted."
)


def needs_two_collectors(case: Case, *, plan_loaded: bool = False) -> bool:
    """The case's planned visit address is flagged unsafe (by a review or a previous visit). ``plan_loaded``:
    the case page loaded the plan with the case (a rule check always reads it afresh)."""
    if plan_loaded and type(case).visit_plan.is_cached(case):
        plan = getattr(case, "visit_plan", None)
        address_id = plan.address_id if plan is not None else None
    else:
        address_id = VisitPlan.objects.filter(case=case).values_list("address_id", flat=True).first()
    return bool(address_id) and UnsafeAddress.objects.filter(address_id=address_id).exists()


def flag_after_hostile_visit(*, visit) -> UnsafeAddress | None:
    """A visit where the borrower was hostile flags its planned address: the next visit there needs two."""
    from visits.models import Visit

    if visit.attitude != Visit.Attitude.HOSTILE:
        return None
    address_id = VisitPlan.objects.filter(case_id=visit.case_id).values_list("address_id", flat=True).first()
    if not address_id:
        return None
    flag, created = UnsafeAddress.objects.get_or_create(
        address_id=address_id, defaults={"flagged_by_id": visit.collector_id, "reason": HOSTILE_REASON}
    )
    if created:
        audit_log(actor=visit.collector, action="safety.unsafe_address", obj=flag, changes={"visit": visit.pk})
    return flag


def _check_companion(case: Case, actor: User, companion: User | None) -> None:
    if not needs_two_collectors(case):
        return
    if companion is None:
        raise DoorstepError(_("This address is flagged unsafe: name the second collector who is with you."))
    if companion.pk == actor.pk or companion.role != Role.COLLECTOR or not companion.is_active:
        raise DoorstepError(_("The second collector must be another active collector."))
    if companion.team_id != case.team_id:
        raise DoorstepError(_("The second collector must be in the case's team."))


@transaction.atomic
def safety_check_in(
    *,
    case: Case,
    actor: User,
    expected_minutes: int,
    lat: Decimal | None = None,
    lng: Decimal | None = None,
    companion: User | None = None,
) -> SafetyCheckIn:
    """Start the safety timer at the borrower's door; the supervisor is alerted if it runs out."""
    if case.assigned_collector_id != actor.pk:
        raise NotPermitted(_("Only the case's collector checks in on it."))
    if not case.is_open:
        raise DoorstepError(_("The case is closed."))
    if not 5 <= expected_minutes <= MAX_MINUTES:
        raise DoorstepError(_("Expect between 5 and %(max)s minutes.") % {"max": MAX_MINUTES})
    _check_companion(case, actor, companion)
    now = timezone.now()
    try:
        with transaction.atomic():
            checkin = SafetyCheckIn.objects.create(
                case=case,
                collector=actor,
                companion=companion,
                checked_in_at=now,
                expected_minutes=expected_minutes,
                alert_due_at=now + dt.timedelta(minutes=expected_minutes) + conf.safety_grace(),
                lat=lat,
                lng=lng,
            )
    except IntegrityError as exc:
        raise DoorstepError(_("You are already checked in on a visit; check out first.")) from exc
    audit_log(
        actor=actor,
        action="safety.check_in",
        obj=checkin,
        changes={
            "case": case.pk,
            "expected_minutes": expected_minutes,
            "companion": companion.pk if companion else None,
        },
    )
    return checkin


@transaction.atomic
def safety_check_out(*, checkin: SafetyCheckIn, actor: User) -> SafetyCheckIn:
    if checkin.collector_id != actor.pk:
        raise NotPermitted(_("Only the collector who checked in checks out."))
    now = timezone.now()
    updated = SafetyCheckIn.objects.filter(pk=checkin.pk, status=SafetyCheckIn.Status.ON_SITE).update(
        status=SafetyCheckIn.Status.CHECKED_OUT, checked_out_at=now
    )
    checkin.refresh_from_db()
    if updated:
        audit_log(actor=actor, action="safety.check_out", obj=checkin, changes={"case": checkin.case_id})
    return checkin


def _managers():
    return User.objects.filter(role=Role.MANAGER, is_active=True)


def safety_sweep(*, now: dt.datetime | None = None) -> dict:
    """Alert the supervisor of each collector still on site past the expected time plus the grace period, then
    the managers after a second grace period. Each step is claimed by compare-and-set: two sweeps never alert
    twice."""
    now = now or timezone.now()
    counts = {"alerted": 0, "escalated": 0}
    due = SafetyCheckIn.objects.filter(
        status=SafetyCheckIn.Status.ON_SITE, alert_due_at__lte=now, escalated_at__isnull=True
    ).select_related("case__team__supervisor", "collector")
    for checkin in due:
        params = {"collector": checkin.collector.get_username(), "case": checkin.case_id}
        if checkin.alerted_at is None:
            claimed = SafetyCheckIn.objects.filter(pk=checkin.pk, alerted_at__isnull=True).update(
                alerted_at=now, alert_due_at=now + conf.safety_escalation_grace()
            )
            if claimed:
                counts["alerted"] += 1
                notify(
                    recipient=checkin.case.team.supervisor,
                    case=checkin.case,
                    kind="safety",
                    template=gettext_noop(
                        "%(collector)s is overdue on a visit (case %(case)s) and has not checked out."
                    ),
                    params=params,
                    dedupe_key=f"safety:{checkin.pk}:supervisor",
                )
                audit_log(actor=None, action="safety.alert", obj=checkin, changes={"to": "supervisor"})
        else:
            claimed = SafetyCheckIn.objects.filter(pk=checkin.pk, escalated_at__isnull=True).update(escalated_at=now)
            if claimed:
                counts["escalated"] += 1
                for manager in _managers():
                    notify(
                        recipient=manager,
                        case=checkin.case,
                        kind="safety",
                        template=ESCALATED,
                        params=params,
                        dedupe_key=f"safety:{checkin.pk}:manager:{manager.pk}",
                    )
                audit_log(actor=None, action="safety.alert", obj=checkin, changes={"to": "managers"})
    return counts


@transaction.atomic
def help_request(
    *,
    actor: User,
    client_id: uuid.UUID,
    pressed_at: dt.datetime,
    case: Case | None = None,
    lat: Decimal | None = None,
    lng: Decimal | None = None,
) -> tuple[HelpRequest, bool]:
    """ "I need help": the supervisor is told at once with the position. A resend (the phone's queue retrying
    after being offline) finds the first request and sends nothing again."""
    existing = HelpRequest.objects.filter(client_id=client_id).first()
    if existing is not None:
        if existing.collector_id != actor.pk:
            raise NotPermitted(_("This request belongs to someone else."))
        return existing, False
    if not actor.is_collector:
        raise NotPermitted(_("The help button is for collectors in the field."))
    now = timezone.now()
    pressed_at = min(pressed_at, now)
    request = HelpRequest.objects.create(
        client_id=client_id, collector=actor, case=case, lat=lat, lng=lng, pressed_at=pressed_at
    )
    supervisor = case.team.supervisor if case is not None else (actor.team.supervisor if actor.team else None)
    position = f"{lat}, {lng}" if lat is not None and lng is not None else "—"
    notify(
        recipient=supervisor,
        case=case,
        kind="help",
        template=gettext_noop("HELP: %(collector)s pressed “I need help” at %(position)s."),
        params={"collector": actor.get_username(), "position": position},
        dedupe_key=f"help:{client_id}",
    )
    audit_log(
        actor=actor,
        action="safety.help",
        obj=request,
        changes={"case": case.pk if case else None, "position": position, "pressed_at": pressed_at},
    )
    return request, True
