"""The borrower's self-service link: create, revoke, open (signed, expiring, rate-limited, audited) and
what the borrower does through it. The borrower has no account: writes carry ``actor=None`` and the
link's id in the audit row; each request reaches the case timeline and the collector."""

import datetime as dt
import hashlib

from django.conf import settings
from django.core.cache import caches
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from collections_app.exceptions import DoorstepError, NotPermitted, TransitionNotAllowed
from collections_app.models import Case, User
from collections_app.rules import active_pack, borrower_timezone, in_quiet_hours
from collections_app.services.audit import audit_log
from collections_app.services.cases import case_event_add
from collections_app.workflow import actor_role
from repayment.services.common import notify
from visits.models import Visit
from visits.services import visit_window_request
from voice import links
from voice.models import BorrowerLink, Complaint, VisitRating
from voice.services import complaint_log

EVENT_LINK = "borrower_link"
RATE_WINDOW_SECONDS = 3600
# The shared cache (Redis, else files), not the per-process default: one count across web workers.
RATE_CACHE = "dashboard"


class LinkUnavailable(DoorstepError):
    """The link is unknown, badly signed, expired or revoked (all answered the same way: 404)."""


class LinkRateLimited(DoorstepError):
    """Too many requests on one link from one address (429)."""


@transaction.atomic
def link_create(*, case: Case, actor: User) -> BorrowerLink:
    """A new link for the case's borrower; the case's earlier links are revoked (one live link per case)."""
    if actor_role(case, actor) is None:
        raise NotPermitted(_("Only the case's collector or the team's supervisor can do this."))
    if not case.is_open:
        raise TransitionNotAllowed(_("The case is closed."))
    now = timezone.now().replace(microsecond=0)
    BorrowerLink.objects.filter(case=case, revoked_at=None).update(revoked_at=now, revoked_by=actor)
    link = BorrowerLink.objects.create(
        case=case,
        token_id=links.new_token_id(),
        created_by=actor,
        created_at=now,
        expires_at=now + dt.timedelta(days=settings.BORROWER_LINK_DAYS),
    )
    case_event_add(case=case, actor=actor, kind=EVENT_LINK, payload={"action": "created", "link": link.pk})
    audit_log(actor=actor, action="borrower_link.create", obj=link, changes={"expires_at": link.expires_at})
    return link


@transaction.atomic
def link_revoke(*, link: BorrowerLink, actor: User) -> BorrowerLink:
    link = BorrowerLink.objects.select_for_update().select_related("case").get(pk=link.pk)
    if actor_role(link.case, actor) is None:
        raise NotPermitted(_("Only the case's collector or the team's supervisor can do this."))
    if link.revoked_at is None:
        link.revoked_at, link.revoked_by = timezone.now(), actor
        link.save(update_fields=["revoked_at", "revoked_by"])
        case_event_add(case=link.case, actor=actor, kind=EVENT_LINK, payload={"action": "revoked", "link": link.pk})
        audit_log(actor=actor, action="borrower_link.revoke", obj=link)
    return link


def _count_request(scope: str, ip: str) -> None:
    # A Redis outage fails open (the counter restarts) rather than locking borrowers out.
    cache = caches[RATE_CACHE]
    digest = hashlib.sha256(f"{scope}|{ip}".encode()).hexdigest()[:32]
    key = f"voice:link-rate:{digest}"
    cache.add(key, 0, timeout=RATE_WINDOW_SECONDS)
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout=RATE_WINDOW_SECONDS)
        count = 1
    if count > settings.BORROWER_LINK_RATE_PER_HOUR:
        raise LinkRateLimited(_("Too many requests. Please try again later."))


def link_open(*, token: str, ip: str, method: str) -> BorrowerLink:
    """The live link a token names, counted against the rate limit and audited; else ``LinkUnavailable``."""
    token_id = links.unsign(token)
    link = None
    if token_id is not None:
        link = (
            BorrowerLink.objects.select_related("case__team", "case__assigned_collector")
            .filter(token_id=token_id)
            .first()
        )
    now = timezone.now()
    if link is None or not link.is_active(now):
        # Bad, expired and revoked links are counted per address too: guessing costs the same as using.
        _count_request("refused", ip)
        audit_log(actor=None, action="borrower_link.refused", obj=link, object_type="voice.borrowerlink")
        raise LinkUnavailable(_("This link is not valid any more. Please ask your collector for a new one."))
    _count_request(link.token_id, ip)
    BorrowerLink.objects.filter(pk=link.pk).update(last_used_at=now)
    audit_log(actor=None, action="borrower_link.use", obj=link, changes={"method": method})
    return link


def _borrower_event(link: BorrowerLink, payload: dict, template: str) -> None:
    case = link.case
    event = case_event_add(case=case, actor=None, kind=EVENT_LINK, payload={**payload, "link": link.pk})
    audit_log(actor=None, action=f"borrower_link.{payload['action']}", obj=link, changes=payload)
    recipient = case.assigned_collector or case.team.supervisor
    params = {"case": case.pk}
    notify(
        recipient=recipient,
        case=case,
        kind="borrower_link",
        message=_(template) % params,
        template=template,
        params=params,
        dedupe_key=f"borrower_link:event:{event.pk}",
    )


@transaction.atomic
def borrower_plan_confirm(*, link: BorrowerLink, plan_id: int | None) -> None:
    if plan_id is None:
        raise TransitionNotAllowed(_("There is no repayment plan yet. Ask for a call and we will agree one with you."))
    _borrower_event(
        link,
        {"action": "plan_confirmed", "plan": plan_id},
        gettext_noop("The borrower of case %(case)s confirmed the repayment plan."),
    )


# How far ahead a borrower may ask for a visit.
WINDOW_DAYS_AHEAD = 60


@transaction.atomic
def borrower_contact_request(
    *,
    link: BorrowerLink,
    kind: str,
    window: str = "",
    day: dt.date | None = None,
    time_from: dt.time | None = None,
    time_to: dt.time | None = None,
) -> None:
    """A call or a visit at a time that suits the borrower: a day and a time range, or words. A visit's day and
    range (in the borrower's local time) go on the case's visit preparation, so the collector's route arrives
    inside them (``visits.services.visit_window_request``)."""
    if kind not in ("callback", "visit"):
        raise TransitionNotAllowed(_("Choose a callback or a visit."))
    payload = {"action": f"{kind}_requested", "window": window.strip()[:200]}
    if day is not None and time_from is not None and time_to is not None:
        starts, ends = _window(link.case, day, time_from, time_to)
        payload.update(starts=starts.isoformat(), ends=ends.isoformat())
        if kind == "visit":
            visit_window_request(case=link.case, starts=starts, ends=ends)
    elif not payload["window"]:
        raise TransitionNotAllowed(_("Say when suits you."))
    _borrower_event(link, payload, gettext_noop("The borrower of case %(case)s asked for a callback or a visit."))


def _window(case: Case, day: dt.date, time_from: dt.time, time_to: dt.time) -> tuple[dt.datetime, dt.datetime]:
    """The range as aware times in the borrower's time zone; refused when it is past, too far ahead, or (in part)
    in the quiet hours, when no collector may call or visit."""
    tz = borrower_timezone(case)
    starts, ends = dt.datetime.combine(day, time_from, tz), dt.datetime.combine(day, time_to, tz)
    if ends <= starts:
        raise TransitionNotAllowed(_("The end of the time must be after its start."))
    now = timezone.now()
    if ends <= now:
        raise TransitionNotAllowed(_("Choose a time that has not passed."))
    if day > timezone.localtime(now, tz).date() + dt.timedelta(days=WINDOW_DAYS_AHEAD):
        raise TransitionNotAllowed(_("Choose a day within the next %(days)s days.") % {"days": WINDOW_DAYS_AHEAD})
    pack = active_pack()
    if in_quiet_hours(starts, tz, pack) or in_quiet_hours(ends - dt.timedelta(minutes=1), tz, pack):
        raise TransitionNotAllowed(
            _("Choose a time between %(start)s and %(end)s.")
            % {"start": pack.quiet_end.strftime("%H:%M"), "end": pack.quiet_start.strftime("%H:%M")}
        )
    return starts, ends


@transaction.atomic
def borrower_visit_rate(*, link: BorrowerLink, rating: int, comment: str) -> None:
    if rating not in range(1, 6):
        raise TransitionNotAllowed(_("Choose a rating from 1 to 5."))
    case = link.case
    latest = Visit.objects.filter(case=case).order_by("-checked_in_at", "-id").values_list("collector_id", flat=True)
    VisitRating.objects.create(
        case=case,
        link=link,
        collector_id=latest.first() or link.created_by_id,
        team_id=case.team_id,
        rating=rating,
        comment=comment.strip()[:1000],
    )
    _borrower_event(
        link,
        {"action": "visit_rated", "rating": rating, "comment": comment.strip()[:1000]},
        gettext_noop("The borrower of case %(case)s rated the visit."),
    )


@transaction.atomic
def borrower_complaint_file(*, link: BorrowerLink, category: str, text: str) -> Complaint:
    complaint = complaint_log(case=link.case, actor=None, category=category, text=text, source=Complaint.Source.LINK)
    audit_log(actor=None, action="borrower_link.complaint", obj=link, changes={"complaint": complaint.pk})
    return complaint
