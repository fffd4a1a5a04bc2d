"""Complaints: log, acknowledge, resolve, and the overdue sweep. Every write is audited and on the timeline."""

import datetime as dt

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from collections_app.exceptions import NotPermitted, TransitionNotAllowed
from collections_app.models import Case, Role, User
from collections_app.services.audit import audit_log
from collections_app.services.cases import case_event_add
from repayment.services.common import notify
from voice.models import Complaint

EVENT_COMPLAINT = "complaint"


def complaint_may_handle(complaint: Complaint, actor: User) -> bool:
    """The owner (the team's supervisor) decides; admins may stand in."""
    return actor.role == Role.ADMIN or actor.is_superuser or complaint.owner_id == actor.pk


def _tell(*, recipient, complaint: Complaint, template: str, key: str) -> None:
    params = {"no": complaint.pk, "category": complaint.category}
    notify(
        recipient=recipient,
        case=complaint.case,
        kind="complaint",
        message=_(template) % params,
        template=template,
        params=params,
        dedupe_key=f"complaint:{complaint.pk}:{key}:{recipient.pk if recipient else 0}",
    )


@transaction.atomic
def complaint_log(
    *,
    case: Case,
    actor: User | None,
    category: str,
    text: str,
    source: str = Complaint.Source.STAFF,
    collector_named: User | None = None,
) -> Complaint:
    """Record a complaint with its deadlines; the team's supervisor owns it and is told."""
    if category not in Complaint.Category.values:
        raise TransitionNotAllowed(_("Choose a complaint category."))
    if not text.strip():
        raise TransitionNotAllowed(_("Say what the complaint is about."))
    now = timezone.now()
    complaint = Complaint.objects.create(
        case=case,
        category=category,
        source=source,
        text=text.strip(),
        collector_named=collector_named,
        owner=case.team.supervisor,
        logged_by=actor if actor is not None and actor.is_authenticated else None,
        ack_due=now + dt.timedelta(days=settings.COMPLAINT_ACK_DAYS),
        resolve_due=now + dt.timedelta(days=settings.COMPLAINT_RESOLVE_DAYS),
    )
    payload = {"action": "logged", "complaint": complaint.pk, "category": category, "source": source}
    case_event_add(case=case, actor=complaint.logged_by, kind=EVENT_COMPLAINT, payload=payload)
    audit_log(actor=actor, action="complaint.log", obj=complaint, changes=payload)
    _tell(
        recipient=complaint.owner,
        complaint=complaint,
        template=gettext_noop("New complaint #%(no)s (%(category)s) to acknowledge."),
        key="logged",
    )
    return complaint


def _locked(complaint: Complaint) -> Complaint:
    return Complaint.objects.select_for_update().select_related("case").get(pk=complaint.pk)


@transaction.atomic
def complaint_acknowledge(*, complaint: Complaint, actor: User) -> Complaint:
    complaint = _locked(complaint)
    if not complaint_may_handle(complaint, actor):
        raise NotPermitted(_("Only the supervisor who owns the complaint can do this."))
    if complaint.acknowledged_at is not None or complaint.resolved_at is not None:
        raise TransitionNotAllowed(_("This complaint is already acknowledged."))
    complaint.acknowledged_at = timezone.now()
    complaint.save(update_fields=["acknowledged_at"])
    payload = {"action": "acknowledged", "complaint": complaint.pk, "category": complaint.category}
    case_event_add(case=complaint.case, actor=actor, kind=EVENT_COMPLAINT, payload=payload)
    audit_log(actor=actor, action="complaint.acknowledge", obj=complaint, changes=payload)
    return complaint


@transaction.atomic
def complaint_resolve(*, complaint: Complaint, actor: User, note: str) -> Complaint:
    """Close the complaint with the supervisor's decision; a conduct hold on visits ends with it."""
    complaint = _locked(complaint)
    if not complaint_may_handle(complaint, actor):
        raise NotPermitted(_("Only the supervisor who owns the complaint can do this."))
    if complaint.resolved_at is not None:
        raise TransitionNotAllowed(_("This complaint is already resolved."))
    if not note.strip():
        raise TransitionNotAllowed(_("Write the resolution."))
    now = timezone.now()
    complaint.acknowledged_at = complaint.acknowledged_at or now
    complaint.resolved_at = now
    complaint.resolution_note = note.strip()
    complaint.save(update_fields=["acknowledged_at", "resolved_at", "resolution_note"])
    payload = {"action": "resolved", "complaint": complaint.pk, "category": complaint.category}
    case_event_add(case=complaint.case, actor=actor, kind=EVENT_COMPLAINT, payload=payload)
    audit_log(actor=actor, action="complaint.resolve", obj=complaint, changes=payload)
    return complaint


def complaints_escalate_overdue(*, now: dt.datetime | None = None) -> int:
    """Tell the managers, once, about each open complaint past its acknowledgement or resolution deadline.

    Each complaint is claimed with a compare-and-set on ``escalated_at`` so two sweeps never tell twice."""
    now = now or timezone.now()
    overdue = Complaint.objects.filter(resolved_at=None, escalated_at=None).filter(
        resolve_due__lt=now
    ) | Complaint.objects.filter(resolved_at=None, escalated_at=None, acknowledged_at=None, ack_due__lt=now)
    managers = list(User.objects.filter(role=Role.MANAGER, is_active=True))
    count = 0
    for complaint in overdue.select_related("case").order_by("pk"):
        with transaction.atomic():
            if not Complaint.objects.filter(pk=complaint.pk, escalated_at=None).update(escalated_at=now):
                continue
            for manager in managers:
                _tell(
                    recipient=manager,
                    complaint=complaint,
                    template=gettext_noop("Complaint #%(no)s (%(category)s) is overdue."),
                    key="overdue",
                )
            audit_log(actor=None, action="complaint.escalate", obj=complaint, changes={"managers": len(managers)})
            count += 1
    return count
