"""Compliance rule packs: checks every scheduling, visit and contact service makes.

A refusal is recorded (a ``refused`` case event + audit row, counted on the dashboard) and then
raised as ``RuleRefused`` naming the rule. A write judges the rules under its case lock, inside the
transaction the refusal rolls back; it runs in ``refusals_kept()``, which records the refusal once that
transaction is gone, so the compliance record survives the refused write.
"""

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import NoReturn
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from collections_app import chain
from collections_app.exceptions import RuleRefused
from collections_app.models import Case, CaseEvent, RulePack
from collections_app.services.audit import audit_log

QUIET_HOURS = "quiet_hours"
ATTEMPT_CAP = "attempt_cap"
THIRD_PARTY = "third_party"


def active_pack() -> RulePack:
    pack = RulePack.objects.filter(code=settings.DOORSTEP_RULE_PACK).first()
    return pack or RulePack(code="CN", name="China (default)")


def borrower_timezone(case: Case) -> ZoneInfo:
    """Rules apply in the borrower's local time: the time zone of the account's branch."""
    return ZoneInfo(case.account.branch.timezone or settings.TIME_ZONE)


def in_quiet_hours(when: dt.datetime, tz: ZoneInfo, pack: RulePack) -> bool:
    local = timezone.localtime(when, tz).time()
    start, end = pack.quiet_start, pack.quiet_end
    if start <= end:
        return start <= local < end
    return local >= start or local < end


# Holds other apps put on field visits (e.g. a complaint pausing a named collector): each
# ``hold(case=, actor=)`` returns ``(rule, message)`` when the visit must not be logged, else None.
_visit_holds: list = []


def register_visit_hold(hold) -> None:
    if hold not in _visit_holds:
        _visit_holds.append(hold)


def check_visit_holds(*, case: Case, actor) -> None:
    """Refuse a visit that a registered hold forbids (recorded like every rule refusal)."""
    for hold in _visit_holds:
        refusal = hold(case=case, actor=actor)
        if refusal is not None:
            rule, message = refusal
            refuse(case=case, actor=actor, rule=rule, message=message, action="visit")


_deferred = ContextVar("doorstep_refusals_deferred", default=False)


@contextmanager
def refusals_kept() -> Iterator[None]:
    """Around a write whose transaction judges the rules: a refusal raised inside is recorded after that
    transaction rolled back (not with it)."""
    token = _deferred.set(True)
    try:
        yield
    except RuleRefused as exc:
        pending, exc.unrecorded = getattr(exc, "unrecorded", None), None
        if pending:
            record_refusal(**pending)
        raise
    finally:
        _deferred.reset(token)


def refuse(*, case: Case, actor, rule: str, message: str, action: str) -> NoReturn:
    """Record the refusal and raise it; inside ``refusals_kept()`` the record waits for the write's rollback."""
    error = RuleRefused(message, rule=rule)
    refusal = {"case": case, "actor": actor, "rule": rule, "message": message, "action": action}
    if _deferred.get():
        error.unrecorded = refusal
    else:
        record_refusal(**refusal)
    raise error


# What other apps know about a collector's conduct (e.g. named in a conduct complaint, which ``voice`` keeps):
# each ``source(collector_id=, since=)`` says whether such a fact about the collector is dated ``since`` or later.
# Quality reads it to sample the collector's visits more often without knowing where the fact comes from.
_conduct_sources: list = []


def register_conduct_source(source) -> None:
    if source not in _conduct_sources:
        _conduct_sources.append(source)


def conduct_concern_since(*, collector_id: int, since: dt.datetime) -> bool:
    return any(source(collector_id=collector_id, since=since) for source in _conduct_sources)


def record_refusal(*, case: Case, actor, rule: str, message: str, action: str) -> None:
    with transaction.atomic():
        CaseEvent.objects.create(
            case=case,
            actor=actor,
            kind=CaseEvent.Kind.REFUSED,
            payload={"rule": rule, "action": action, "message": str(message)},
        )
        chain.seal_case_on_commit(case.pk)
        audit_log(actor=actor, action="compliance.refused", obj=case, changes={"rule": rule, "action": action})


def check_quiet_hours(*, case: Case, actor, when: dt.datetime, consent: bool, action: str) -> None:
    """Refuse a contact or visit inside the pack's quiet hours unless the borrower consented."""
    pack = active_pack()
    tz = borrower_timezone(case)
    if consent or not in_quiet_hours(when, tz, pack):
        return
    message = _(
        "Refused by the quiet-hours rule (%(pack)s): no visits or contact between %(start)s and %(end)s "
        "in the borrower's local time (%(tz)s) unless the borrower has consented."
    ) % {
        "pack": pack.code,
        "start": pack.quiet_start.strftime("%H:%M"),
        "end": pack.quiet_end.strftime("%H:%M"),
        "tz": tz.key,
    }
    refuse(case=case, actor=actor, rule=QUIET_HOURS, message=message, action=action)
