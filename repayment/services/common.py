"""Helpers shared by the repayment services: permissions, local due times, check scheduling,
moving the case along and notifications."""

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from collections_app.exceptions import NotPermitted, TransitionNotAllowed
from collections_app.models import Case, Notification, Stage
from collections_app.services.cases import case_transition
from collections_app.workflow import COLLECTOR, SUPERVISOR, actor_role
from repayment import conf
from repayment.models import FollowUpCheck

NEGOTIABLE_STAGES = (Stage.VISIT, Stage.NEGOTIATION, Stage.FOLLOW_UP)
REMINDER_HOUR = 9

# A notification keeps the untranslated msgid and is shown in its reader's language.
PLAN_APPROVAL_TEXT = gettext_noop("Case #%(case)s: a plan of %(amount)s (%(kind)s) awaits your approval.")


def require_field_actor(case: Case, actor) -> str:
    """The case's collector or its team's supervisor (or an admin) may negotiate and record payments."""
    role = actor_role(case, actor)
    if role not in (COLLECTOR, SUPERVISOR):
        raise NotPermitted(_("Only the case's collector or the team's supervisor can do this."))
    return role


def require_negotiable(case: Case) -> None:
    if case.stage not in NEGOTIABLE_STAGES:
        raise TransitionNotAllowed(
            _("Promises and plans are agreed at the visit, negotiation or follow-up stage; this case is in %(stage)s.")
            % {"stage": Stage(case.stage).label}
        )


def case_tz(case: Case) -> ZoneInfo:
    """Due dates are the borrower's local days: the time zone of the account's branch."""
    return ZoneInfo(case.account.branch.timezone or settings.TIME_ZONE)


def deadline_at(case: Case, due_date: dt.date, grace_days: int) -> dt.datetime:
    """The end of the last grace day (local midnight after it): paid by then is kept."""
    day = due_date + dt.timedelta(days=grace_days + 1)
    return dt.datetime.combine(day, dt.time(0, 0), tzinfo=case_tz(case))


def reminder_at(case: Case, due_date: dt.date) -> dt.datetime:
    day = due_date - dt.timedelta(days=conf.reminder_lead_days())
    return dt.datetime.combine(day, dt.time(REMINDER_HOUR, 0), tzinfo=case_tz(case))


def schedule_check(*, kind: str, case: Case, due_at: dt.datetime, key: str, promise=None, instalment=None):
    """Idempotent: the same key schedules one row however often it is called."""
    check, _created = FollowUpCheck.objects.get_or_create(
        dedupe_key=key,
        defaults={"kind": kind, "case": case, "due_at": due_at, "promise": promise, "instalment": instalment},
    )
    return check


def cancel_checks(*, result: str, except_pk: int | None = None, **lookups) -> int:
    checks = FollowUpCheck.objects.filter(status=FollowUpCheck.Status.PENDING, **lookups).exclude(pk=except_pk)
    return checks.update(status=FollowUpCheck.Status.CANCELLED, result=result)


def move_to_follow_up(*, case: Case, actor) -> None:
    """An agreed promise or an active plan puts the case in follow-up (walking visit → negotiation first)."""
    if case.stage == Stage.VISIT:
        case_transition(case=case, target=Stage.NEGOTIATION, actor=actor)
    if case.stage == Stage.NEGOTIATION:
        case_transition(case=case, target=Stage.FOLLOW_UP, actor=actor)


def notify(
    *, recipient, case: Case | None, kind: str, message: str, template: str, params: dict, dedupe_key: str
) -> Notification | None:
    """Create a notification once per ``dedupe_key`` (a re-run or a redelivered task creates nothing).

    ``template`` is the untranslated msgid and ``params`` its values (``message_params``), which the reader's
    language renders (``Notification.text``); ``message`` is the text in the language active now."""
    if recipient is None or Notification.objects.filter(dedupe_key=dedupe_key).exists():
        return None
    try:
        with transaction.atomic():
            return Notification.objects.create(
                recipient=recipient,
                case=case,
                kind=kind,
                message=message[:500],
                template=template,
                params=params,
                dedupe_key=dedupe_key,
            )
    except IntegrityError:
        return None


def message_params(values: dict, currency: str) -> dict:
    """A message's ``%`` values as ``Notification.params`` keeps them: amounts (Decimal, in ``currency``) and
    dates tagged, to be formatted for each reader; numbers and text as they are. The sweep calls it per
    notification, so it is kept to a type check per value."""
    params = {}
    for name, value in values.items():
        if isinstance(value, Decimal):
            value = Notification.money_value(value, currency)
        elif isinstance(value, dt.date):
            value = Notification.date_value(value)
        params[name] = value
    return params


def revisit_params(*, case_id: int, reason: str, values: dict, currency: str) -> dict:
    """``REVISIT_TEXT``'s values: the case and the reason, itself a message with values."""
    return {"case": case_id, "reason": Notification.message_value(reason, message_params(values, currency))}
