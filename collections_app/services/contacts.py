"""Skip tracing: phones and addresses found in the field, and their verification.

A found contact point is a ``BorrowerPhone`` / ``BorrowerAddress`` like the bank's own rows, so every
reader (the numbers offered to dial, the visit addresses, the route, the reveal, retention) treats it the
same; its source, date and verification state live on the row and each change adds a
``ContactPointChange`` (the point's history) and an audit row.

Wrong numbers are never dialled (``dialable_phone_refusal``); a wrong or moved address is never routed.
"""

import datetime as dt
import re
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from collections_app import pii
from collections_app.exceptions import NotPermitted, StaleObject
from collections_app.models import (
    BorrowerAddress,
    BorrowerPhone,
    Case,
    CaseEvent,
    ContactParty,
    ContactPointChange,
    ContactSource,
    ContactStatus,
    User,
)
from collections_app.services.audit import audit_log
from collections_app.services.authority import case_lock
from collections_app.services.cases import case_event_add
from collections_app.workflow import actor_role

PHONE, ADDRESS = "phone", "address"
KIND_CHOICES = [(PHONE, gettext_lazy("Phone")), (ADDRESS, gettext_lazy("Address"))]
# Sources a collector may give for a point found in the field (the bank's records are not one).
FIELD_SOURCES = [(v, label) for v, label in ContactSource.choices if v != ContactSource.FILE]
_PHONE_CHARS = re.compile(r"^\+?[\d\s()-]+$")


@dataclass(frozen=True)
class FoundContact:
    kind: str
    value: str
    party: str = ContactParty.BORROWER
    holder: str = ""
    source: str = ContactSource.BORROWER


def found_contact_from(data: dict, prefix: str = "found_") -> FoundContact | None:
    """The found contact in a visit's or an attempt's input (``found_kind``, ``found_value``, ...); ``None`` when
    none was given. Raises ``ValidationError`` keyed by field name."""
    kind = (data.get(f"{prefix}kind") or "").strip()
    value = (data.get(f"{prefix}value") or "").strip()
    if not kind and not value:
        return None
    errors = {}
    if kind not in (PHONE, ADDRESS):
        errors[f"{prefix}kind"] = [_("Choose whether a phone or an address was found.")]
    if not value:
        errors[f"{prefix}value"] = [_("Enter the number or the address that was found.")]
    elif kind == PHONE:
        digits = re.sub(r"\D", "", value)
        if not _PHONE_CHARS.match(value) or not 5 <= len(digits) <= 20:
            errors[f"{prefix}value"] = [_("Enter a phone number (digits, at least 5).")]
        value = ("+" if value.startswith("+") else "") + digits
    elif len(value) > 300:
        errors[f"{prefix}value"] = [_("An address has at most 300 characters.")]
    party = data.get(f"{prefix}party") or ContactParty.BORROWER
    if party not in ContactParty.values:
        errors[f"{prefix}party"] = [_("Choose whose contact this is.")]
    source = data.get(f"{prefix}source") or ContactSource.BORROWER
    if source not in dict(FIELD_SOURCES):
        errors[f"{prefix}source"] = [_("Choose who gave this contact.")]
    holder = (data.get(f"{prefix}holder") or "").strip()
    if len(holder) > 100:
        errors[f"{prefix}holder"] = [_("At most 100 characters.")]
    if errors:
        raise ValidationError(errors)
    return FoundContact(kind=kind, value=value, party=party, holder=pii.scrub(holder), source=source)


def _require_actor(case: Case, actor: User) -> None:
    if actor_role(case, actor) is None:
        raise NotPermitted(_("Only the case's collector or the team's supervisor can do this."))


def _point_label(point) -> dict:
    """What the audit row says of the point: a phone (``audit_log`` masks it); an address not at all (the
    append-only trail outlives anonymisation, and an address has no mask)."""
    return {"phone": point.number} if isinstance(point, BorrowerPhone) else {}


def contact_point_add(
    *, case: Case, actor: User, found: FoundContact, origin: str, found_on: dt.date | None = None
) -> BorrowerPhone | BorrowerAddress:
    """Record a phone or an address found for the case's borrower (or a third party); unverified.

    Already on file: the existing point is returned and its history says it was found again. Call inside
    the caller's transaction (the visit or the attempt that found it)."""
    _require_actor(case, actor)
    borrower_id = case.account.borrower_id
    found_on = found_on or timezone.localdate()
    model, match = (
        (BorrowerPhone, {"number": found.value}) if found.kind == PHONE else (BorrowerAddress, {"text": found.value})
    )
    with transaction.atomic():
        point = model.objects.select_for_update().filter(borrower_id=borrower_id, **match).order_by("id").first()
        created = point is None
        if created:
            point = model.objects.create(
                borrower_id=borrower_id,
                party=found.party,
                holder=found.holder,
                source=found.source,
                status=ContactStatus.UNVERIFIED,
                found_on=found_on,
                found_by=actor,
                found_case=case,
                **match,
                **(
                    {"label": BorrowerPhone.Label.RELATIVE}
                    if found.kind == PHONE and found.party != ContactParty.BORROWER
                    else {}
                ),
            )
        ContactPointChange.objects.create(
            **{found.kind: point},
            case=case,
            actor=actor,
            action=ContactPointChange.Action.FOUND,
            origin=origin,
            source=found.source,
            to_status=point.status,
            note="" if created else _("found again; already on file"),
        )
        payload = {"kind": found.kind, "point": point.pk, "source": found.source, "party": found.party, "new": created}
        case_event_add(case=case, actor=actor, kind=CaseEvent.Kind.CONTACT_FOUND, payload=payload)
        audit_log(
            actor=actor,
            action="contact_point.found",
            obj=point,
            changes={**payload, "case": case.pk, "origin": origin, **_point_label(point)},
        )
    return point


def contact_point_set_status(
    *, case: Case, actor: User, point: BorrowerPhone | BorrowerAddress, status: str, note: str = ""
) -> BorrowerPhone | BorrowerAddress:
    """Confirm a contact point, or mark it wrong (a phone, an address) or moved (an address).

    By the case's collector or the team's supervisor; the point must be the case borrower's."""
    _require_actor(case, actor)
    if point.borrower_id != case.account.borrower_id:
        raise NotPermitted(_("This contact point is not the borrower's of this case."))
    kind = PHONE if isinstance(point, BorrowerPhone) else ADDRESS
    if kind == PHONE and status == ContactStatus.MOVED:
        raise NotPermitted(_("A phone is confirmed or wrong; only an address moves."))
    old = point.status
    if status not in point.TRANSITIONS.get(old, ()):
        raise NotPermitted(
            _("A contact point that is %(old)s cannot become %(new)s.")
            % {
                "old": ContactStatus(old).label,
                "new": ContactStatus(status).label if status in ContactStatus.values else status,
            }
        )
    now = timezone.now()
    with transaction.atomic():
        # The case row first, as every write on a case (services.authority): a call logged at this instant
        # judges the number's state after this change, never before it.
        case_lock(case, require_open=False)
        # Compare-and-set on the state: of two people changing the same point at once, one wins.
        changed = type(point).objects.filter(pk=point.pk, status=old).update(status=status, status_changed_at=now)
        if not changed:
            raise StaleObject(_("Someone else changed this contact point meanwhile; reload the page."))
        point.status, point.status_changed_at = status, now
        ContactPointChange.objects.create(
            **{kind: point},
            case=case,
            actor=actor,
            action=ContactPointChange.Action.STATUS,
            origin=ContactPointChange.Origin.CASE,
            from_status=old,
            to_status=status,
            note=pii.scrub(note.strip())[:300],
        )
        payload = {"kind": kind, "point": point.pk, "from": old, "status": status}
        case_event_add(case=case, actor=actor, kind=CaseEvent.Kind.CONTACT_STATUS, payload=payload)
        audit_log(
            actor=actor,
            action="contact_point.status",
            obj=point,
            changes={**payload, "case": case.pk, **_point_label(point)},
        )
    return point


def dialable_phone_refusal(*, borrower_id: int, number: str) -> str:
    """Why ``number`` may not be dialled for this borrower ("" when it may): it was marked wrong."""
    digits = re.sub(r"\D", "", number or "")
    if not digits:
        return ""
    for phone in BorrowerPhone.objects.filter(borrower_id=borrower_id, status=ContactStatus.WRONG):
        if re.sub(r"\D", "", phone.number) == digits:
            if phone.status_changed_at is None:
                return _("The number %(number)s was marked wrong; it is not dialled any more.") % {
                    "number": phone.masked
                }
            return _("The number %(number)s was marked wrong on %(date)s; it is not dialled any more.") % {
                "number": phone.masked,
                "date": timezone.localdate(phone.status_changed_at).isoformat(),
            }
    return ""
