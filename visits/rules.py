"""Rule-pack checks for contact attempts and visits (see ``collections_app.rules``).

Like ``check_quiet_hours``, a check records the refusal (case event + audit row) and raises
``RuleRefused`` naming the rule; a write calls it under its case lock, inside ``refusals_kept()``.
"""

import datetime as dt

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _

from collections_app.exceptions import CaseRuleError
from collections_app.models import Case
from collections_app.rules import ATTEMPT_CAP, THIRD_PARTY, active_pack, borrower_timezone, refuse
from visits.models import ContactAttempt, Party, Visit, VisitPlan

# Tries that did not reach the borrower: they count towards "unreachable" for the third-party rule.
NOT_REACHED_RESULTS = (ContactAttempt.Result.NO_ANSWER, ContactAttempt.Result.BUSY, ContactAttempt.Result.WRONG_NUMBER)
READY_TO_VISIT = "ready_to_visit"
NOT_REACHED_OUTCOMES = (Visit.Outcome.NOT_HOME, Visit.Outcome.MOVED, Visit.Outcome.WRONG_ADDRESS)
# What a visit records about the debt, which a third party must never hear, and the outcomes that can only come
# from talking about it.
DEBT_FIELDS = ("monthly_income", "monthly_expenses", "other_debt_payments", "overdue_reason", "overdue_reason_text")
DEBT_OUTCOMES = (Visit.Outcome.AGREED_PLAN, Visit.Outcome.PROMISED)
# A phone's clock may run a little ahead of the server's.
CLOCK_SKEW = dt.timedelta(minutes=2)


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
    refuse(case=case, actor=actor, rule=ATTEMPT_CAP, message=message, action="contact")


def check_ready_to_visit(*, case: Case) -> None:
    """Preparation → visit needs a complete checklist and a planned visit time."""
    plan = VisitPlan.objects.filter(case=case).first()
    if plan is None or not plan.checklist_complete:
        raise CaseRuleError(
            _("Complete the preparation checklist (contact details, overdue reason, history, talking points) first."),
            rule=READY_TO_VISIT,
        )
    if plan.planned_at is None:
        raise CaseRuleError(_("Plan the visit time before moving the case to visit."), rule=READY_TO_VISIT)


def failed_borrower_attempts(*, case: Case) -> int:
    """Calls and messages to the borrower that did not reach them, and visits that did not find them,
    on this debt since the last successful contact with the borrower."""
    attempts = ContactAttempt.objects.filter(
        case__account_id=case.account_id, party=Party.BORROWER, result__in=NOT_REACHED_RESULTS
    )
    visits = Visit.objects.filter(case__account_id=case.account_id, outcome__in=NOT_REACHED_OUTCOMES)
    since = case.account.last_contact_at
    if since is not None:
        attempts, visits = attempts.filter(attempted_at__gt=since), visits.filter(checked_in_at__gt=since)
    return attempts.count() + visits.count()


def check_third_party(*, case: Case, actor, party: str, action: str, borrower_not_reached: bool = False) -> None:
    """Refuse contact with an unrelated third party until the borrower has been unreachable often enough.

    ``borrower_not_reached``: a visit that did not find the borrower (not home, moved, wrong address)
    is itself an attempt on the borrower; whoever opens the door may be asked to pass on a message.
    Family members are not unrelated third parties. The no-disclosure half of the rule is the
    visit's: no debt details or payment outcome with a third party (``visits.services.visit_log``).
    """
    if party != Party.THIRD_PARTY or borrower_not_reached:
        return
    pack = active_pack()
    failed = failed_borrower_attempts(case=case)
    if failed >= pack.third_party_after_failed_attempts:
        return
    message = _(
        "Refused by the third-party rule (%(pack)s): an unrelated third party may be contacted only after "
        "%(needed)s failed attempts to reach the borrower (%(failed)s since the last contact), and then only to "
        "ask for contact details or pass on a message, never mentioning the debt."
    ) % {"pack": pack.code, "needed": pack.third_party_after_failed_attempts, "failed": failed}
    refuse(case=case, actor=actor, rule=THIRD_PARTY, message=message, action=action)


def visit_duration_problem(*, checked_in_at: dt.datetime, checked_out_at: dt.datetime) -> str:
    """Why a visit's times are implausible, or "" when they are fine: longer than
    ``DOORSTEP_VISIT_MAX_MINUTES`` (4 hours by default) means a back-dated check-in left open."""
    minutes = int((checked_out_at - checked_in_at).total_seconds() // 60)
    limit = getattr(settings, "DOORSTEP_VISIT_MAX_MINUTES", 240)
    if minutes <= limit:
        return ""
    return _("The visit would last %(hours)d h %(minutes)d min (at most %(limit)d min): enter the check-out time.") % {
        "hours": minutes // 60,
        "minutes": minutes % 60,
        "limit": limit,
    }


def visit_problems(
    *,
    checked_in_at: dt.datetime,
    checked_out_at: dt.datetime | None,
    met: str,
    outcome: str,
    geo_status: str,
    lat=None,
    lng=None,
    debt: dict | None = None,
) -> dict[str, list[str]]:
    """The visit's own rules, by field (empty when it may be recorded): times that are not in the future, a
    check-out after the check-in and a plausible duration, a whole position for a geo check-in, and nothing
    about the debt with only a third party met. The service refuses on them; the form and the API call the
    same function to show each refusal beside its field."""
    errors: dict[str, list[str]] = {}
    now = timezone.now()
    if checked_in_at > now + CLOCK_SKEW:
        errors["checked_in_at"] = [_("The check-in time is in the future.")]
    if checked_out_at is not None:
        if checked_out_at > now + CLOCK_SKEW:
            errors["checked_out_at"] = [_("The check-out time is in the future.")]
        elif checked_out_at < checked_in_at:
            errors["checked_out_at"] = [_("Check-out must be after check-in.")]
        elif problem := visit_duration_problem(checked_in_at=checked_in_at, checked_out_at=checked_out_at):
            errors["checked_out_at"] = [problem]
    if geo_status == Visit.GeoStatus.OK and (lat is None or lng is None):
        errors["geo_status"] = [_("The position is incomplete; check in again.")]
    if met == Party.THIRD_PARTY:
        for field, value in (debt or {}).items():
            if value not in (None, ""):
                errors[field] = [_("Not recorded when only a third party was met.")]
        if outcome in DEBT_OUTCOMES:
            errors["outcome"] = [_("A plan or a promise is made with the borrower, not a third party.")]
    return errors
