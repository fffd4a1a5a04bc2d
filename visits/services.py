"""Writes for the field work on a case: contact attempts, visit preparation, visit logs, stage moves.

Rule-pack checks run before each write's atomic block so a refusal's record is kept.
"""

import datetime as dt
import uuid
from collections.abc import Iterable
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, gettext_noop

from collections_app import pii
from collections_app.exceptions import CaseRuleError, DoorstepError, NotPermitted
from collections_app.models import BorrowerAddress, Case, CaseEvent, ContactPointChange, DelinquentAccount, Stage, User
from collections_app.rules import check_quiet_hours, check_visit_holds, refusals_kept
from collections_app.services.audit import audit_changes, audit_log
from collections_app.services.authority import case_lock, require_open_case, require_stage
from collections_app.services.cases import case_event_add, case_transition
from collections_app.services.contacts import FoundContact, contact_point_add, dialable_phone_refusal
from collections_app.services.screening import account_refresh_screening_key
from collections_app.services.uploads import Staging, staged
from collections_app.workflow import actor_role
from visits import photos as photo_rules
from visits.models import ContactAttempt, Party, Visit, VisitPhoto, VisitPlan
from visits.rules import NOT_REACHED_OUTCOMES, check_attempt_cap, check_third_party, visit_problems

# What a visit's outcome does to the case (README, "Visit outcome → stage").
OUTCOME_TARGETS: dict[str, str | None] = {
    Visit.Outcome.AGREED_PLAN: Stage.NEGOTIATION,
    Visit.Outcome.PROMISED: Stage.NEGOTIATION,
    Visit.Outcome.REFUSED: Stage.PREPARATION,
    Visit.Outcome.NOT_HOME: Stage.PREPARATION,
    Visit.Outcome.MOVED: Stage.PREPARATION,
    Visit.Outcome.WRONG_ADDRESS: Stage.PREPARATION,
    Visit.Outcome.OTHER: None,
}
REVISIT_AFTER = dt.timedelta(days=1)


class VisitRefused(DoorstepError):
    default_message = gettext_lazy("The visit could not be recorded.")

    def __init__(self, message=None, *, errors: dict[str, list[str]] | None = None):
        self.errors = errors or {}
        super().__init__(message)


def _require_actor(case: Case, actor: User) -> None:
    if actor_role(case, actor) is None:
        raise NotPermitted(_("Only the case's collector or the team's supervisor can do this."))


def _set_next_action(case: Case, text: str, due: dt.datetime | None) -> None:
    Case.objects.filter(pk=case.pk).update(next_action=text[:200], next_action_due=due)
    case.next_action, case.next_action_due = text[:200], due


def _record_contact(case: Case, when: dt.datetime) -> None:
    """A successful contact with the borrower: feeds the screening score's no-contact term."""
    DelinquentAccount.objects.filter(pk=case.account_id).update(last_contact_at=when)
    case.account.last_contact_at = when
    account_refresh_screening_key(account=case.account)


# --- contact attempts ----------------------------------------------------------------------------


def contact_attempt_log(
    *,
    case: Case,
    actor: User,
    channel: str,
    party: str,
    phone_number: str,
    result: str,
    note: str = "",
    attempted_at: dt.datetime | None = None,
    idempotency_key: uuid.UUID | None = None,
    found_contact: FoundContact | None = None,
) -> ContactAttempt:
    """Record a call, SMS or message to the borrower or their contacts, after the rule pack allows it.

    The same ``idempotency_key`` twice (a double submit, a resend) returns the first attempt: one row, counted
    once toward the attempt cap."""
    existing = _attempt_replay(case, idempotency_key)
    if existing is not None:
        return existing
    _require_actor(case, actor)
    require_open_case(case)
    now = timezone.now()
    attempted_at = attempted_at or now
    if attempted_at > now + dt.timedelta(minutes=2):
        raise DoorstepError(_("The attempt's time is in the future."))
    with refusals_kept():
        return _contact_attempt_create(
            case=case,
            actor=actor,
            channel=channel,
            party=party,
            phone_number=phone_number.strip(),
            result=result,
            note=note,
            attempted_at=attempted_at,
            idempotency_key=idempotency_key,
            found_contact=found_contact,
        )


def _attempt_replay(case: Case, key: uuid.UUID | None) -> ContactAttempt | None:
    existing = ContactAttempt.objects.filter(idempotency_key=key).first() if key else None
    if existing is not None and existing.case_id != case.pk:
        raise CaseRuleError(
            _("This form was already used for another case; reload the page."), rule="idempotency_key", conflict=True
        )
    return existing


@transaction.atomic
def _contact_attempt_create(
    *, case: Case, actor: User, found_contact: FoundContact | None = None, **fields
) -> ContactAttempt:
    # The checks above read a copy; the case lock re-reads it (closed or reassigned meanwhile?), and a
    # resend of the same form racing this one waits here and then finds the first attempt. The rule pack is
    # judged under the lock: two attempts racing each other are counted one after the other toward the cap.
    case_lock(case, require_open=False)
    existing = _attempt_replay(case, fields["idempotency_key"])
    if existing is not None:
        return existing
    require_open_case(case)
    _require_actor(case, actor)
    when, phone_number = fields["attempted_at"], fields["phone_number"]
    if fields["channel"] in (ContactAttempt.Channel.CALL, ContactAttempt.Channel.SMS) and (
        refusal := dialable_phone_refusal(borrower_id=case.account.borrower_id, number=phone_number)
    ):
        raise DoorstepError(refusal, code="wrong_number")
    check_quiet_hours(case=case, actor=actor, when=when, consent=False, action="contact")
    check_attempt_cap(case=case, actor=actor, channel=fields["channel"], phone_number=phone_number, when=when)
    check_third_party(case=case, actor=actor, party=fields["party"], action="contact")
    try:
        with transaction.atomic():
            attempt = ContactAttempt.objects.create(case=case, actor=actor, **fields)
    except IntegrityError as exc:  # the same key sent for another case at the same instant
        raise CaseRuleError(
            _("This form was already used for another case; reload the page."), rule="idempotency_key", conflict=True
        ) from exc
    masked = pii.mask_phone(attempt.phone_number)
    case_event_add(
        case=case,
        actor=actor,
        kind=CaseEvent.Kind.CONTACT_ATTEMPT,
        payload={
            "attempt": attempt.pk,
            "channel": attempt.channel,
            "party": attempt.party,
            "result": attempt.result,
            "phone": masked,
        },
    )
    audit_log(
        actor=actor,
        action="contact_attempt.log",
        obj=attempt,
        changes={"case": case.pk, "channel": attempt.channel, "result": attempt.result, "phone": masked},
    )
    if attempt.is_successful:
        _record_contact(case, attempt.attempted_at)
    if found_contact is not None:
        contact_point_add(
            case=case,
            actor=actor,
            found=found_contact,
            origin=ContactPointChange.Origin.CONTACT_ATTEMPT,
            found_on=timezone.localdate(attempt.attempted_at),
        )
    return attempt


# --- preparation -------------------------------------------------------------------------------------

PLAN_FIELDS = (
    "contact_verified",
    "overdue_reason",
    "history_reviewed",
    "talking_points",
    "planned_at",
    "address",
    "consent_outside_hours",
)


def visit_plan_save(
    *,
    case: Case,
    actor: User,
    contact_verified: bool,
    overdue_reason: str,
    history_reviewed: bool,
    talking_points: str,
    planned_at: dt.datetime | None,
    address: BorrowerAddress | None,
    consent_outside_hours: bool,
) -> VisitPlan:
    """Save the case's current visit preparation; a planned time becomes the case's next action."""
    _require_actor(case, actor)
    _require_plan_stage(case)
    if address is not None and address.borrower_id != case.account.borrower_id:
        raise NotPermitted(_("The visit address must be one of the borrower's addresses."))
    if address is not None and address.is_dead:
        raise NotPermitted(
            _("This address is marked %(status)s; it is not visited any more.")
            % {"status": address.get_status_display()}
        )
    if planned_at is not None:
        check_quiet_hours(case=case, actor=actor, when=planned_at, consent=consent_outside_hours, action="schedule")
    values = {
        "contact_verified": contact_verified,
        "overdue_reason": overdue_reason.strip(),
        "history_reviewed": history_reviewed,
        "talking_points": talking_points.strip(),
        "planned_at": planned_at,
        "address": address,
        "consent_outside_hours": consent_outside_hours,
    }
    return _visit_plan_write(case=case, actor=actor, values=values)


@transaction.atomic
def visit_window_request(*, case: Case, starts: dt.datetime, ends: dt.datetime) -> VisitPlan:
    """The borrower asked to be visited between ``starts`` and ``ends`` (the borrower link). The preparation
    keeps the window and its planned time moves into it, so today's route arrives inside the window
    (``selectors_today``); a planned time already inside it stays."""
    if ends <= starts:
        raise VisitRefused(_("The end of the time must be after its start."))
    case_lock(case)
    plan, _created = VisitPlan.objects.select_for_update().get_or_create(case=case)
    before = {"planned_at": plan.planned_at, "window_start": plan.window_start, "window_end": plan.window_end}
    plan.window_start, plan.window_end = starts, ends
    if plan.planned_at is None or not starts <= plan.planned_at <= ends:
        plan.planned_at = starts
    plan.save(update_fields=["window_start", "window_end", "planned_at", "updated_at"])
    after = {"planned_at": plan.planned_at, "window_start": starts, "window_end": ends}
    case_event_add(
        case=case,
        actor=None,
        kind=CaseEvent.Kind.PREPARATION,
        payload={
            "planned_at": plan.planned_at.isoformat(),
            "window": [starts.isoformat(), ends.isoformat()],
            "checklist_complete": plan.checklist_complete,
            "consent_outside_hours": plan.consent_outside_hours,
        },
    )
    audit_log(actor=None, action="visit_plan.window", obj=plan, changes=audit_changes(before, after))
    return plan


def _require_plan_stage(case: Case) -> None:
    require_stage(
        case, (Stage.PREPARATION, Stage.VISIT), _("A visit is prepared while the case is in preparation or visit.")
    )


@transaction.atomic
def _visit_plan_write(*, case: Case, actor: User, values: dict) -> VisitPlan:
    case_lock(case)
    _require_actor(case, actor)
    _require_plan_stage(case)
    plan, created = VisitPlan.objects.select_for_update().get_or_create(case=case, defaults={"updated_by": actor})
    before = {} if created else {f: getattr(plan, f) for f in PLAN_FIELDS}
    for field, value in values.items():
        setattr(plan, field, value)
    plan.updated_by = actor
    plan.save()
    after = {f: getattr(plan, f) for f in PLAN_FIELDS}
    if plan.planned_at is not None:
        place = plan.address.text if plan.address else _("the borrower's address")
        _set_next_action(case, _("Visit at %(place)s") % {"place": place}, plan.planned_at)
    case_event_add(
        case=case,
        actor=actor,
        kind=CaseEvent.Kind.PREPARATION,
        payload={
            "planned_at": plan.planned_at.isoformat() if plan.planned_at else "",
            "checklist_complete": plan.checklist_complete,
            "consent_outside_hours": plan.consent_outside_hours,
        },
    )
    audit_log(actor=actor, action="visit_plan.save", obj=plan, changes=audit_changes(before, after))
    return plan


# --- stage moves from the case page -----------------------------------------------------------------


# --- visits ---------------------------------------------------------------------------------------------


def visit_log(
    *,
    case: Case,
    actor: User,
    idempotency_key: uuid.UUID,
    checked_in_at: dt.datetime,
    checked_out_at: dt.datetime | None,
    identity_confirmed: bool,
    met: str,
    outcome: str,
    lat: Decimal | None = None,
    lng: Decimal | None = None,
    accuracy_m: Decimal | None = None,
    geo_status: str = Visit.GeoStatus.UNAVAILABLE,
    monthly_income: Decimal | None = None,
    monthly_expenses: Decimal | None = None,
    other_debt_payments: Decimal | None = None,
    overdue_reason: str = "",
    overdue_reason_text: str = "",
    attitude: str = "",
    notes: str = "",
    photos: Iterable = (),
    found_contact: FoundContact | None = None,
) -> tuple[Visit, bool]:
    """Record a visit and move the case by its outcome. Returns ``(visit, created)``.

    The same ``idempotency_key`` twice (a double tap, an offline resend) returns the first visit
    and creates nothing.
    """
    existing = _visit_replay(case, idempotency_key)
    if existing is not None:
        return existing, False
    _require_actor(case, actor)
    _require_visit_stage(case)
    if not identity_confirmed:
        raise VisitRefused(_("Confirm that you stated your identity and the purpose of the visit."))
    debt = {
        "monthly_income": monthly_income,
        "monthly_expenses": monthly_expenses,
        "other_debt_payments": other_debt_payments,
        "overdue_reason": overdue_reason,
        "overdue_reason_text": overdue_reason_text.strip(),
    }
    problems = visit_problems(
        checked_in_at=checked_in_at,
        checked_out_at=checked_out_at,
        met=met,
        outcome=outcome,
        geo_status=geo_status,
        lat=lat,
        lng=lng,
        debt=debt,
    )
    if problems:
        raise VisitRefused(next(iter(problems.values()))[0], errors=problems)
    photos = list(photos)
    infos = [photo_rules.inspect_photo(photo) for photo in photos]
    fields = {
        "checked_in_at": checked_in_at,
        "checked_out_at": checked_out_at,
        "identity_confirmed": True,
        "met": met,
        "outcome": outcome,
        "lat": lat,
        "lng": lng,
        "accuracy_m": accuracy_m,
        "geo_status": geo_status,
        "attitude": attitude,
        "notes": notes.strip(),
        **debt,
    }
    if geo_status != Visit.GeoStatus.OK:
        fields.update(lat=None, lng=None, accuracy_m=None)
    # Photos are staged: moved into place once the visit commits, removed if it does not.
    with refusals_kept(), staged() as staging:
        return _visit_create(
            case=case,
            actor=actor,
            key=idempotency_key,
            fields=fields,
            photos=list(zip(photos, infos, strict=True)),
            staging=staging,
            found_contact=found_contact,
        )


def _visit_replay(case: Case, key: uuid.UUID) -> Visit | None:
    existing = Visit.objects.filter(idempotency_key=key).first()
    if existing is not None and existing.case_id != case.pk:
        raise CaseRuleError(
            _("This form was already used for another case; reload the page."), rule="idempotency_key", conflict=True
        )
    return existing


def _require_visit_stage(case: Case) -> None:
    require_stage(
        case,
        (Stage.VISIT,),
        _("Visits are logged while the case is in the visit stage (it is in %(stage)s).")
        % {"stage": Stage(case.stage).label},
    )


@transaction.atomic
def _visit_create(
    *,
    case: Case,
    actor: User,
    key: uuid.UUID,
    fields: dict,
    photos,
    staging: Staging,
    found_contact: FoundContact | None = None,
) -> tuple[Visit, bool]:
    # The checks above read a copy; under the case lock the key, the actor and the stage are judged again on
    # the fresh row, so a concurrent resend answers the first visit and a case closed meanwhile gets nothing.
    case_lock(case, require_open=False)
    existing = _visit_replay(case, key)
    if existing is not None:
        return existing, False
    _require_actor(case, actor)
    _require_visit_stage(case)
    # The conduct rules read facts another writer may be changing (a hold put on the collector, a contact
    # attempt just logged): judged under the lock too, never on what was read before it.
    plan = VisitPlan.objects.filter(case=case).first()
    consent = bool(plan and plan.consent_outside_hours)
    check_quiet_hours(case=case, actor=actor, when=fields["checked_in_at"], consent=consent, action="visit")
    check_visit_holds(case=case, actor=actor)
    check_third_party(
        case=case,
        actor=actor,
        party=fields["met"],
        action="visit",
        borrower_not_reached=fields["outcome"] in NOT_REACHED_OUTCOMES,
    )
    try:
        with transaction.atomic():
            visit = Visit.objects.create(case=case, collector=actor, idempotency_key=key, **fields)
    except IntegrityError as exc:  # the same key sent for another case at the same instant
        raise CaseRuleError(
            _("This form was already used for another case; reload the page."), rule="idempotency_key", conflict=True
        ) from exc
    for upload, info in photos:
        photo = VisitPhoto(
            visit=visit,
            content_type=info.content_type,
            size=upload.size,
            width=info.width,
            height=info.height,
            sha256=photo_rules.sha256_of(upload),
        )
        staging.put(photo.file, f"photo.{info.extension}", upload)
        photo.save()
    # The photos' digests go into the case's hash chain: a swapped photo file no longer matches.
    digests = [photo.sha256 for photo in visit.photos.all()]
    case_event_add(
        case=case,
        actor=actor,
        kind=CaseEvent.Kind.VISIT,
        payload={
            "visit": visit.pk,
            "outcome": visit.outcome,
            "met": visit.met,
            "photos": len(digests),
            "photo_sha256": digests,
        },
    )
    audit_log(
        actor=actor,
        action="visit.log",
        obj=visit,
        changes={
            "case": case.pk,
            "outcome": visit.outcome,
            "met": visit.met,
            "geo_status": visit.geo_status,
            "photos": digests,
        },
    )
    if visit.met == Party.BORROWER:
        _record_contact(case, visit.checked_in_at)
    if found_contact is not None:
        contact_point_add(
            case=case,
            actor=actor,
            found=found_contact,
            origin=ContactPointChange.Origin.VISIT,
            found_on=timezone.localdate(visit.checked_in_at),
        )
    _apply_outcome(case=case, actor=actor, visit=visit)
    return visit, True


def _apply_outcome(*, case: Case, actor: User, visit: Visit) -> None:
    target = OUTCOME_TARGETS.get(visit.outcome)
    payload = {"visit": visit.pk, "outcome": visit.outcome}
    now = timezone.now()
    # Next actions are stored as msgids and shown in the reader's language (``Case.next_action_text``).
    if target == Stage.NEGOTIATION:
        case_transition(case=case, target=target, actor=actor, payload=payload)
    elif target == Stage.PREPARATION:
        case_transition(case=case, target=target, actor=actor, payload=payload)
        # The old plan's time has passed: a revisit needs a new one before the case may go out again.
        VisitPlan.objects.filter(case=case).update(planned_at=None)
        _set_next_action(case, gettext_noop("Plan a revisit"), now + REVISIT_AFTER)
    else:
        _set_next_action(case, gettext_noop("Decide the next step after the visit"), now)
