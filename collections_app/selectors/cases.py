"""Reads for the case pages ("my cases" and the case page), scoped through ``visible_to``."""

import functools

from django.core.exceptions import PermissionDenied
from django.db.models import F, OuterRef, Prefetch, QuerySet, Subquery
from django.shortcuts import get_object_or_404
from django.utils import dateformat, formats, timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from collections_app import panels
from collections_app.aging import local_today
from collections_app.json_rows import as_datetime, as_money, decode_rows, json_rows
from collections_app.models import (
    BorrowerAddress,
    BorrowerPhone,
    Case,
    CaseEvent,
    CloseReason,
    ContactPointChange,
    ContactSource,
    ContactStatus,
    DelinquentAccount,
    Stage,
    User,
)
from collections_app.templatetags.doorstep import money
from collections_app.workflow import actor_role

CASE_LIST_PAGE_SIZE = 50


def case_list(user: User, *, stage: str = "") -> QuerySet[Case]:
    """Open cases the user may see (or one stage's), next action due first, undated last."""
    cases = Case.objects.visible_to(user)
    cases = cases.filter(stage=stage) if stage else cases.open()
    return cases.select_related("account__borrower", "assigned_collector").order_by(
        F("next_action_due").asc(nulls_last=True), "id"
    )


def case_list_rows(cases) -> list[Case]:
    """A page of ``case_list`` with what each row shows computed once (the page renders every row
    twice, as a card and as a table row): stage label, link, due time, next action, borrower, account,
    DPD (one "today" for the page, with its label) and overdue amount, and what the apps add to a row
    (e.g. promises due, one query a page). ``get_stage_display()`` and the ``date`` filter cost ~0.3 ms
    a call; per row they add up."""
    cases = list(cases)
    panels.decorate_case_rows(cases)
    stages = {value: str(label) for value, label in Stage.choices}
    today = local_today()
    for case in cases:
        account = case.account
        case.stage_label = stages.get(case.stage, case.stage)
        case.url = case.get_absolute_url()
        case.next_action_due_text = _short_datetime(case.next_action_due)
        case.next_action_label = case.next_action_text
        # Flat names: a template looks ``case.account.borrower.name`` up level by level, twice a row.
        case.borrower_name = account.borrower.name
        case.account_no = account.account_no
        case.dpd_days = account.dpd(today)
        case.dpd_text = _("DPD %(dpd)s") % {"dpd": formats.localize(case.dpd_days)}
        case.overdue_text = money(account.overdue_amount, account.currency)
    return cases


def case_for_user(user: User, pk: int) -> Case:
    """The case, if the user may see it; 404 otherwise."""
    cases = Case.objects.visible_to(user).select_related(
        "account__borrower", "account__branch", "team__supervisor", "assigned_collector"
    )
    return get_object_or_404(cases, pk=pk)


def case_for_action(user: User, pk: int) -> Case:
    """The case if the user may see it (404 otherwise) and act on it (403 otherwise: managers read only)."""
    case = case_for_user(user, pk)
    if actor_role(case, user) is None:
        raise PermissionDenied(_("You may read this case but not change it."))
    return case


def case_for_page(user: User, pk: int) -> Case:
    """``case_for_user`` with what the case page reads of it loaded once: what the registered panels
    read (e.g. the visit preparation, the collector's open check-in) in the same query, the borrower's
    phones and addresses prefetched (the borrower file, the contact attempt form and the PII snippets
    all read ``borrower.phones.all()`` from that cache), each with its history, and the borrower's
    accounts the user may see riding on the case row (``json_rows``)."""
    select_related, prefetch_related = panels.case_page_relations()
    cases = (
        Case.objects.visible_to(user)
        .select_related(
            "account__borrower", "account__branch", "team__supervisor", "assigned_collector", *select_related
        )
        .prefetch_related(
            Prefetch("account__borrower__phones", queryset=_points_with_history(BorrowerPhone, "phone").all()),
            Prefetch("account__borrower__addresses", queryset=_points_with_history(BorrowerAddress, "address").all()),
            *prefetch_related,
        )
        .annotate(borrower_accounts=_accounts(user), **panels.case_page_annotations(user=user))
    )
    return get_object_or_404(cases, pk=pk)


_ACCOUNT_FIELDS = ("id", "account_no", "product", "overdue_amount", "outstanding_balance", "currency")
_CHANGE_FIELDS = ("id", "action", "origin", "source", "from_status", "to_status", "note", "created_at", "actor_id")
_ACTOR_FIELDS = ("username", "first_name", "last_name")


def _accounts(user: User) -> Subquery:
    # By id, not the visible accounts' own query: a collector's is DISTINCT, which cannot be grouped.
    visible = DelinquentAccount.objects.visible_to(user).values("pk")
    accounts = DelinquentAccount.objects.filter(borrower=OuterRef("account__borrower_id"), pk__in=visible)
    return json_rows(accounts, parent="borrower", **{name: name for name in _ACCOUNT_FIELDS})


@functools.cache
def _points_with_history(model, kind: str) -> QuerySet:
    """The phones' or addresses' query with each point's history, built once a process (resolving its JSON
    subquery cost the page ~0.5 ms each time); it depends on neither the user nor the time, and each page
    prefetches through a copy (``.all()``), as querysets are never changed in place."""
    return model.objects.annotate(history_rows=_history(kind))


def _history(kind: str) -> Subquery:
    changes = ContactPointChange.objects.filter(**{kind: OuterRef("pk")})
    return json_rows(
        changes,
        parent=kind,
        **{name: name for name in _CHANGE_FIELDS},
        **{f"actor_{name}": f"actor__{name}" for name in _ACTOR_FIELDS},
    )


def _read_accounts(case: Case) -> list[DelinquentAccount]:
    rows = decode_rows(case.borrower_accounts)
    accounts = [
        DelinquentAccount(
            pk=row["id"],
            account_no=row["account_no"],
            product=row["product"],
            overdue_amount=as_money(row["overdue_amount"]),
            outstanding_balance=as_money(row["outstanding_balance"]),
            currency=row["currency"],
        )
        for row in rows
    ]
    return sorted(accounts, key=lambda account: account.pk)


def _read_history(point) -> list[ContactPointChange]:
    changes = []
    for row in decode_rows(point.history_rows):
        actor = User(pk=row["actor_id"], **{name: row[f"actor_{name}"] for name in _ACTOR_FIELDS})
        change = ContactPointChange(**{name: row[name] for name in _CHANGE_FIELDS if name != "actor_id"}, actor=actor)
        change.created_at = as_datetime(row["created_at"])
        changes.append(change)
    return sorted(changes, key=lambda change: (change.created_at, change.pk))


def borrower_file(user: User, case: Case) -> dict:
    """The borrower file of the case page, from what ``case_for_page`` loaded with the case."""
    borrower = case.account.borrower
    phones = list(borrower.phones.all())
    addresses = list(borrower.addresses.all())
    for point in (*phones, *addresses):
        point.history = _read_history(point)
    return {"accounts": _read_accounts(case), "phones": phones, "addresses": addresses}


def case_timeline(case: Case, limit: int = 200) -> list[dict]:
    """The case's events, newest first, each with its time, label, detail and actor as the page shows them.
    The actor's name is read with the event (no ``User`` built for each of up to 200 rows) and the times
    through one ``_datetime_formatter``: both cost more than the rest of the timeline together."""
    events = (
        CaseEvent.objects.filter(case=case)
        .annotate(**{f"actor_{name}": F(f"actor__{name}") for name in _ACTOR_FIELDS})
        .order_by("-created_at", "-id")[:limit]
    )
    kinds = {value: str(label) for value, label in CaseEvent.Kind.choices}
    when = _datetime_formatter()
    return [
        {
            "event": event,
            "when": when(event.created_at),
            "label": kinds.get(event.kind, event.kind),
            "detail": describe_event(event),
            "actor": _actor_name(event) if event.actor_id else _("system"),
        }
        for event in events
    ]


def _actor_name(event: CaseEvent) -> str:
    """``User.get_full_name() or get_username()`` from the names read with the event."""
    return f"{event.actor_first_name} {event.actor_last_name}".strip() or event.actor_username


def _datetime_formatter():
    """``_short_datetime`` for many moments in one language and time zone: the format and the zone are
    looked up once (``date_format`` looks both up on every call)."""
    pattern = str(formats.get_format("SHORT_DATETIME_FORMAT"))
    zone = timezone.get_current_timezone()

    def short(moment) -> str:
        return "" if moment is None else dateformat.format(timezone.localtime(moment, zone), pattern)

    return short


def _label(choices, value) -> str:
    try:
        return str(choices(value).label)
    except ValueError:
        return str(value or "")


def _short_datetime(moment) -> str:
    """What ``{{ moment|date:"SHORT_DATETIME_FORMAT" }}`` shows (local time), "" for None."""
    if moment is None:
        return ""
    return formats.date_format(timezone.localtime(moment), "SHORT_DATETIME_FORMAT")


def _when(value: str) -> str:
    return _short_datetime(parse_datetime(value or ""))


def describe_event(event: CaseEvent) -> str:
    """One readable line for a timeline entry, from its kind and payload."""
    p = event.payload or {}
    kind = event.kind
    if kind == CaseEvent.Kind.TRANSITION:
        parts = [f"{_label(Stage, event.from_stage)} → {_label(Stage, event.to_stage)}"]
        if p.get("close_reason"):
            parts.append(_label(CloseReason, p["close_reason"]))
        if p.get("outcome"):
            parts.append(_("after visit: %(outcome)s") % {"outcome": panels.payload_label("outcome", p["outcome"])})
        if p.get("note"):
            parts.append(p["note"])
        return " · ".join(parts)
    describe = panels.event_describer(kind)
    if describe is not None:
        return describe(p)
    if kind == CaseEvent.Kind.PREPARATION:
        planned = _when(p.get("planned_at", "")) or _("no time planned")
        checklist = _("checklist complete") if p.get("checklist_complete") else _("checklist incomplete")
        return f"{planned} · {checklist}"
    if kind in (CaseEvent.Kind.ASSIGNED, CaseEvent.Kind.REASSIGNED):
        text = _("to %(user)s") % {"user": p.get("collector", "")}
        return f"{text} · {p['reason']}" if p.get("reason") else text
    if kind in (CaseEvent.Kind.CONTACT_FOUND, CaseEvent.Kind.CONTACT_STATUS):
        return _describe_contact(kind, p)
    if kind == CaseEvent.Kind.OPENED:
        return _("priority %(score)s") % {"score": p.get("priority", "")}
    return str(p.get("message") or p.get("summary") or p.get("note") or "")


def _describe_contact(kind: str, p: dict) -> str:
    what = _("phone") if p.get("kind") == "phone" else _("address")
    if kind == CaseEvent.Kind.CONTACT_FOUND:
        return _("%(what)s found · %(source)s") % {"what": what, "source": _label(ContactSource, p.get("source", ""))}
    return f"{what} · {_label(ContactStatus, p.get('from', ''))} → {_label(ContactStatus, p.get('status', ''))}"


def case_page(user: User, case: Case) -> dict:
    """What the core shows on the case page (the borrower file and the timeline), in a constant
    number of queries; the registered panels add theirs (``panels.panel_context``)."""
    return {**borrower_file(user, case), "timeline": case_timeline(case)}
