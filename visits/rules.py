"""Rule-pack checks for contact attempts and visits (see ``collections_app.rules``).

Like ``check_quiet_hours``, a check records the refusal (case event + audit row) and raises
``RuleRefused`` naming the rule; call it before the service's own atomic block.
"""

import datetime as dt

from django.utils import timezone
from django.utils.translation import gettext as _

from collections_app.exceptions import RuleRefused, TransitionNotAllowed
from collections_app.models import Case
from collections_app.rules import ATTEMPT_CAP, active_pack, borrower_timezone, record_refusal
from visits.models import ContactAttempt, VisitPlan


def attempt_window_start(*, case: Case, when: dt.datetime, days: int) -> dt.datetime:
    """Start of the counting window: local midnight ``days - 1`` days before ``when`` (borrower time)."""
    tz = borrower_timezone(case)
    local_day = timezone.localtime(when, tz).date() - dt.timedelta(days=max(days, 1) - 1)
    return dt.datetime.combine(local_day, dt.time.min, tzinfo=tz)


def unanswered_attempts(*, case: Case, phone_number: str, when: dt.datetime) -> int:
    pack = active_pack()
    start = attempt_window_start(case=case, when=when, days=pack.attempts_window_days)
    attempts = ContactAttempt.objects.filter(
        channel=ContactAttempt.Channel.CALL,
        result__in=ContactAttempt.UNANSWERED,
        attempted_at__gte=start,
        attempted_at__lt=start + dt.timedelta(days=max(pack.attempts_window_days, 1)),
    )
    if pack.attempts_per_number:
        return attempts.filter(phone_number=phone_number).count()
    return attempts.filter(case__account_id=case.account_id).count()


def check_attempt_cap(*, case: Case, actor, channel: str, phone_number: str, when: dt.datetime) -> None:
    """Refuse another call once the pack's unanswered attempts per number (or per debt) are used up."""
    if channel != ContactAttempt.Channel.CALL:
        return
    pack = active_pack()
    used = unanswered_attempts(case=case, phone_number=phone_number, when=when)
    if used < pack.max_unanswered_attempts:
        return
    scope = _("this number") if pack.attempts_per_number else _("this debt")
    message = _(
        "Refused by the attempt-cap rule (%(pack)s): %(used)s unanswered calls to %(scope)s already in the last "
        "%(days)s day(s); at most %(max)s are allowed. Try another channel or wait for the next day."
    ) % {
        "pack": pack.code,
        "used": used,
        "scope": scope,
        "days": pack.attempts_window_days,
        "max": pack.max_unanswered_attempts,
    }
    record_refusal(case=case, actor=actor, rule=ATTEMPT_CAP, message=message, action="contact")
    raise RuleRefused(message, rule=ATTEMPT_CAP)


def check_ready_to_visit(*, case: Case) -> None:
    """Preparation → visit needs a complete checklist and a planned visit time."""
    plan = VisitPlan.objects.filter(case=case).first()
    if plan is None or not plan.checklist_complete:
        raise TransitionNotAllowed(
            _("Complete the preparation checklist (contact details, overdue reason, history, talking points) first.")
        )
    if plan.planned_at is None:
        raise TransitionNotAllowed(_("Plan the visit time before moving the case to visit."))
