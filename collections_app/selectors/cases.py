"""Reads for the case pages ("my cases" and the case page), scoped through ``visible_to``."""

from django.apps import apps
from django.db.models import Count, F, QuerySet
from django.shortcuts import get_object_or_404
from django.utils import formats, timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from collections_app.aging import local_today
from collections_app.models import Case, CaseEvent, CloseReason, DelinquentAccount, Stage, User
from visits import selectors as visit_selectors
from visits.models import ContactAttempt, Party, Visit

CASE_LIST_PAGE_SIZE = 50


def case_list(user: User, *, stage: str = "") -> QuerySet[Case]:
    """Open cases the user may see (or one stage's), next action due first, undated last."""
    cases = Case.objects.visible_to(user)
    cases = cases.filter(stage=stage) if stage else cases.open()
    return cases.select_related("account__borrower", "assigned_collector").order_by(
        F("next_action_due").asc(nulls_last=True), "id"
    )


def promises_due_counts(case_ids: list[int]) -> dict[int, int]:
    """Promises to pay still pending whose due date is today or earlier, per case (one query)."""
    if not case_ids:
        return {}
    try:
        promise_model = apps.get_model("repayment", "PromiseToPay")
    except LookupError:  # the repayment app's models are not installed
        return {}
    rows = (
        promise_model.objects.filter(case_id__in=case_ids, status="pending", due_date__lte=local_today())
        .values_list("case_id")
        .annotate(n=Count("id"))
        .order_by()
    )
    return dict(rows)


def case_list_rows(cases) -> list[Case]:
    """A page of ``case_list`` with what each row shows computed once (the page renders every row
    twice, as a card and as a table row): promises due (one query), stage label, link and due time.
    ``get_stage_display()`` and the ``date`` filter cost ~0.3 ms a call; per row they add up."""
    cases = list(cases)
    promises_due = promises_due_counts([c.pk for c in cases])
    stages = {value: str(label) for value, label in Stage.choices}
    for case in cases:
        case.promises_due = promises_due.get(case.pk, 0)
        case.stage_label = stages.get(case.stage, case.stage)
        case.url = case.get_absolute_url()
        case.next_action_due_text = _short_datetime(case.next_action_due)
    return cases


def case_for_user(user: User, pk: int) -> Case:
    """The case, if the user may see it; 404 otherwise."""
    cases = Case.objects.visible_to(user).select_related(
        "account__borrower", "account__branch", "team__supervisor", "assigned_collector"
    )
    return get_object_or_404(cases, pk=pk)


def case_for_page(user: User, pk: int) -> Case:
    """``case_for_user`` with what the case page reads of it loaded once: the visit preparation in
    the same query, the borrower's phones and addresses prefetched (the borrower file, the contact
    attempt form and the PII snippets all read ``borrower.phones.all()`` from that cache)."""
    cases = (
        Case.objects.visible_to(user)
        .select_related(
            "account__borrower",
            "account__branch",
            "team__supervisor",
            "assigned_collector",
            "visit_plan__address",
        )
        .prefetch_related("account__borrower__phones", "account__borrower__addresses")
    )
    return get_object_or_404(cases, pk=pk)


def borrower_file(user: User, case: Case) -> dict:
    borrower = case.account.borrower
    phones = list(borrower.phones.all())
    for phone in phones:
        phone.pii_field = f"phone:{phone.pk}"  # the reveal action's field name (includes/pii_value.html)
    return {
        "accounts": list(
            DelinquentAccount.objects.visible_to(user).filter(borrower=borrower).select_related("branch").order_by("id")
        ),
        "phones": phones,
        "addresses": list(borrower.addresses.all()),
    }


def case_timeline(case: Case, limit: int = 200) -> list[dict]:
    events = CaseEvent.objects.filter(case=case).select_related("actor").order_by("-created_at", "-id")[:limit]
    kinds = {value: str(label) for value, label in CaseEvent.Kind.choices}
    return [
        {
            "event": event,
            "when": _short_datetime(event.created_at),
            "label": kinds.get(event.kind, event.kind),
            "detail": describe_event(event),
            "actor": event.actor.get_full_name() or event.actor.get_username() if event.actor else _("system"),
        }
        for event in events
    ]


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
            parts.append(_("after visit: %(outcome)s") % {"outcome": _label(Visit.Outcome, p["outcome"])})
        if p.get("note"):
            parts.append(p["note"])
        return " · ".join(parts)
    if kind == CaseEvent.Kind.CONTACT_ATTEMPT:
        return " · ".join(
            filter(
                None,
                [
                    _label(ContactAttempt.Channel, p.get("channel")),
                    _label(Party, p.get("party")),
                    _label(ContactAttempt.Result, p.get("result")),
                    p.get("phone", ""),
                ],
            )
        )
    if kind == CaseEvent.Kind.VISIT:
        return _("%(outcome)s · met: %(met)s · %(photos)s photo(s)") % {
            "outcome": _label(Visit.Outcome, p.get("outcome")),
            "met": _label(Party, p.get("met")) or "—",
            "photos": p.get("photos", 0),
        }
    if kind == CaseEvent.Kind.PREPARATION:
        planned = _when(p.get("planned_at", "")) or _("no time planned")
        checklist = _("checklist complete") if p.get("checklist_complete") else _("checklist incomplete")
        return f"{planned} · {checklist}"
    if kind in (CaseEvent.Kind.ASSIGNED, CaseEvent.Kind.REASSIGNED):
        text = _("to %(user)s") % {"user": p.get("collector", "")}
        return f"{text} · {p['reason']}" if p.get("reason") else text
    if kind == CaseEvent.Kind.OPENED:
        return _("priority %(score)s") % {"score": p.get("priority", "")}
    return str(p.get("message") or p.get("summary") or p.get("note") or "")


def _visit_plan(case: Case):
    if Case.visit_plan.is_cached(case):  # case_for_page selected it (None when there is none)
        return getattr(case, "visit_plan", None)
    return visit_selectors.case_visit_plan(case)


def case_page(user: User, case: Case) -> dict:
    """Everything the case page shows, in a constant number of queries (fewest with a case from
    ``case_for_page``)."""
    return {
        **borrower_file(user, case),
        "visits": list(visit_selectors.case_visits(case)),
        "contact_attempts": list(visit_selectors.case_contact_attempts(case)),
        "visit_plan": _visit_plan(case),
        "timeline": case_timeline(case),
    }
