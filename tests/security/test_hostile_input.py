"""Hostile input to every form and API endpoint, as each role that may use it: never a 500.

Hypothesis draws huge strings, null bytes, RTL overrides, emoji, SQL and HTML snippets, garbage
numbers (``1e309``, ``NaN``, full-width digits) and impossible dates, and writes them over a valid
baseline of each form (so some values get past validation and reach the services). A response
that refuses (4xx, a form shown again with errors, an error message) must leave the domain tables
and every case's stage and collector as they were. Each example runs in a rolled-back savepoint.
"""

import datetime as dt
import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import quote, urlencode

import pytest
from django.contrib.messages import constants as message_levels
from django.contrib.messages import get_messages
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from collections_app.models import Case, DelinquentAccount, ImportJob, Notification, Stage
from collections_app.services.cases import case_assign, case_open, case_transition
from repayment.models import DeclaredFigure, FinanceEvidence, FinancialDeclaration, Payment, PromiseToPay, RepaymentPlan
from tests.factories import AccountFactory
from tests.security.world import WORLD_TIME, World, build_world
from tests.visits.helpers import local_input, visit_data
from visits.models import ContactAttempt, SyncConflict, Visit, VisitPhoto, VisitPlan
from voice import links as voice_links

pytestmark = pytest.mark.django_db

# --- strategies -------------------------------------------------------------------------------------------

SNIPPETS = [
    "'; DROP TABLE collections_app_case; --",
    "1 OR 1=1",
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    "{{ 7|add:7 }}{% debug %}",
    "%s%s%n%x",
    "../../../etc/passwd",
    "\u202egnp.exe",
    "\u200b\u200f\u061c",
    "\ufeff",
    "😀👨‍👩‍👧‍👦🏳️‍🌈",
    "\U0001d573\U0001d58a\U0001d591\U0001d591\U0001d594",  # fraktur "Hello"
    "张三\u0000李四",
    "\x00",
    "\r\n\t",
    "null",
    "[]",
    "=cmd|' /C calc'!A0",
]
GARBAGE_NUMBERS = [
    "1e309",
    "-1e309",
    "-0",
    "NaN",
    "nan",
    "Infinity",
    "-inf",
    "99999999999999999999.999",
    "\uff11\uff12\uff13",  # full-width 123
    "١٢٣",
    "1e-400",
    "0.000000001",
    "-1",
    "0",
    "9" * 40,
    "1_000",
    "0x1F",
    " 12 ",
    "12,50",
    "+5",
    "",
]
BAD_DATES = [
    "2026-02-30",
    "0000-00-00",
    "99999-01-01",
    "2026-13-01",
    "0001-01-01",
    "9999-12-31",
    "2026-03-10T25:61",
    "9999-12-31T23:59",
    "0001-01-01T00:00",
    "1970-01-01T00:00",
    "\uff12\uff10\uff12\uff16-\uff10\uff13-\uff11\uff10",  # full-width digits
    "yesterday",
]


def _repeat(text: str, n: int) -> str:
    return (text * (n // max(len(text), 1) + 1))[:n]


texts = st.one_of(
    st.text(max_size=40),
    st.sampled_from(SNIPPETS),
    st.builds(_repeat, st.sampled_from([*SNIPPETS, "x", "中"]), st.integers(300, 20_000)),
    st.lists(st.sampled_from(SNIPPETS), min_size=1, max_size=4).map("".join),
)
numbers = st.one_of(
    st.sampled_from(GARBAGE_NUMBERS),
    st.integers(-(2**70), 2**70).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
)
dates = st.one_of(
    st.sampled_from(BAD_DATES),
    st.dates().map(dt.date.isoformat),
    st.datetimes().map(lambda d: d.strftime("%Y-%m-%dT%H:%M")),
)
hostile = st.one_of(texts, numbers, dates)


def test_each_listed_hostile_value_is_drawn_on_its_own():
    """A missing comma joins two literals into one value: the lists hold exactly what they name."""
    assert "\U0001d573\U0001d58a\U0001d591\U0001d591\U0001d594" in SNIPPETS
    assert "张三\u0000李四" in SNIPPETS
    assert "\uff11\uff12\uff13" in GARBAGE_NUMBERS
    assert "١٢٣" in GARBAGE_NUMBERS
    assert "\uff12\uff10\uff12\uff16-\uff10\uff13-\uff11\uff10" in BAD_DATES
    assert "yesterday" in BAD_DATES
    assert (len(SNIPPETS), len(GARBAGE_NUMBERS), len(BAD_DATES)) == (
        len(set(SNIPPETS)),
        len(set(GARBAGE_NUMBERS)),
        len(set(BAD_DATES)),
    )


def kind(strategy) -> st.SearchStrategy:
    """A field's own kind of garbage, or any other."""
    return st.one_of(strategy, hostile)


TEXT, NUMBER, DATE, CHOICE = kind(texts), kind(numbers), kind(dates), hostile
IDS = st.one_of(hostile, st.lists(kind(numbers), max_size=4))
json_values = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(-(2**80), 2**80),
        st.floats(allow_nan=True, allow_infinity=True),
        texts,
        dates,
        numbers,
    ),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=5), children, max_size=3),
    max_leaves=6,
)

# --- the forms --------------------------------------------------------------------------------------------


@dataclass
class Fuzz:
    """Collector A's objects (``build_world``) plus a case in preparation, one in visit and a fresh account."""

    world: World
    prep: Case
    visit: Case
    account: DelinquentAccount

    @property
    def cast(self):
        return self.world.cast


@dataclass
class Target:
    path: Callable[[Fuzz], str]
    roles: tuple[str, ...]
    fields: dict[str, st.SearchStrategy]
    baseline: Callable[[Fuzz], dict] = lambda f: {}
    method: str = "POST"
    api: bool = False
    files: dict[str, st.SearchStrategy] = field(default_factory=dict)


def _url(name: str, attr: str = "", obj: str = "world.case") -> Callable[[Fuzz], str]:
    def build(f: Fuzz) -> str:
        target = f
        for part in obj.split("."):
            target = getattr(target, part)
        return reverse(name, args=[target.pk]) if attr != "none" else reverse(name)

    return build


def _plain(name: str) -> Callable[[Fuzz], str]:
    return lambda f: reverse(name)


def _today(days: int = 0) -> str:
    return (timezone.localdate() + dt.timedelta(days=days)).isoformat()


FIELD_ROLES = ("collector_a", "supervisor_x")
SUPERVISOR = ("supervisor_x",)
READERS = ("supervisor_x", "manager")
# A phone or an address found in the field (README, "Contacts found in the field").
FOUND_FIELDS = {
    "found_kind": CHOICE,
    "found_value": TEXT,
    "found_party": CHOICE,
    "found_holder": TEXT,
    "found_source": CHOICE,
}
VISIT_FIELDS = {
    "idempotency_key": kind(st.uuids().map(str)),
    "geo_status": CHOICE,
    "lat": NUMBER,
    "lng": NUMBER,
    "accuracy_m": NUMBER,
    "checked_in_at": DATE,
    "checked_out_at": DATE,
    "identity_confirmed": CHOICE,
    "met": CHOICE,
    "monthly_income": NUMBER,
    "monthly_expenses": NUMBER,
    "other_debt_payments": NUMBER,
    "overdue_reason": CHOICE,
    "overdue_reason_text": TEXT,
    "attitude": CHOICE,
    "outcome": CHOICE,
    "notes": TEXT,
    **FOUND_FIELDS,
}
SCREENING_FILTERS = {
    "branch": NUMBER,
    "bucket": CHOICE,
    "loan_class": CHOICE,
    "product": CHOICE,
    "dpd_min": NUMBER,
    "dpd_max": NUMBER,
    "amount_min": NUMBER,
    "amount_max": NUMBER,
    "q": TEXT,
    "after": TEXT,
    "before": TEXT,
}
DASHBOARD_FILTERS = {
    "branch": NUMBER,
    "team": NUMBER,
    "period": CHOICE,
    "date_from": DATE,
    "date_to": DATE,
    "export": st.one_of(st.sampled_from(["csv", "xlsx"]), CHOICE),
    "table": CHOICE,
}
AUDIT_FILTERS = {
    "actor": TEXT,
    "action": TEXT,
    "object_type": TEXT,
    "object_id": TEXT,
    "date_from": DATE,
    "date_to": DATE,
    "after": TEXT,
}
CASE_FILTERS = {
    "stage": CHOICE,
    "is_open": CHOICE,
    "assigned_collector": NUMBER,
    "unassigned": CHOICE,
    "team": NUMBER,
    "branch": NUMBER,
    "account_no": TEXT,
    "cured_candidate": CHOICE,
    "due_before": DATE,
    "cursor": TEXT,
    "page_size": NUMBER,
}

RUBRIC_FIELDS = {
    **{f"{item}_verdict": CHOICE for item in ("identity", "listened", "situation", "plan", "conduct", "evidence")},
    **{f"{item}_note": TEXT for item in ("identity", "listened", "situation", "plan", "conduct", "evidence")},
    "comment": TEXT,
    "playbook": NUMBER,
    "unsafe_address": CHOICE,
}
PLAYBOOK_TEXTS = ("title_en", "title_zh", "points_en", "points_zh", "dos_en", "dos_zh", "donts_en", "donts_zh")
PLAYBOOK_FIELDS = {
    **dict.fromkeys(PLAYBOOK_TEXTS, TEXT),
    "overdue_reason": CHOICE,
    "attitude": CHOICE,
    "next_steps": IDS,
    "active": CHOICE,
}


def _playbook_use(f: Fuzz) -> str:
    return reverse("playbook-use", args=[f.world.case.pk, f.world.playbook.pk])


TARGETS: dict[str, Target] = {
    # -- the borrower's voice (README, "The borrower's voice: the link and complaints")
    "complaint-create": Target(
        _url("complaint-create"), FIELD_ROLES, {"category": CHOICE, "collector_named": NUMBER, "text": TEXT}
    ),
    "complaint-detail": Target(_url("complaint-detail", obj="world.complaint"), SUPERVISOR, {"note": TEXT}),
    "borrower-page": Target(
        lambda f: reverse("borrower-page", args=[voice_links.sign(f.world.link)]),
        ("anon",),
        {
            "action": CHOICE,
            "request-kind": CHOICE,
            "request-window": TEXT,
            "rating-rating": CHOICE,
            "rating-comment": TEXT,
            "complaint-category": CHOICE,
            "complaint-text": TEXT,
        },
    ),
    # -- risk (README, "Risk and early warning")
    "statement-imports": Target(
        _plain("statement-imports"), SUPERVISOR, {"as_of": DATE}, files={"file": st.binary(max_size=64)}
    ),
    "early-warning": Target(_plain("early-warning"), READERS, {"order": CHOICE, "page": NUMBER}, method="GET"),
    "care-open": Target(
        lambda f: reverse("care-open", args=[f.world.risk.account.pk]),
        SUPERVISOR,
        {"collector": NUMBER},
        lambda f: {"collector": f.cast.collector_a.pk},
    ),
    "care-detail": Target(
        lambda f: reverse("care-detail", args=[f.world.risk.care.pk]),
        FIELD_ROLES,
        {"channel": CHOICE, "outcome": CHOICE, "note": TEXT},
        lambda f: {"channel": "visit", "outcome": "reached_fine", "note": "Doing fine"},
    ),
    "strategies": Target(
        _plain("strategies"),
        READERS,
        {
            "name": TEXT,
            "description": TEXT,
            "first_step": CHOICE,
            "first_due_days": NUMBER,
            "weight": NUMBER,
            "is_holdout": CHOICE,
        },
        lambda f: {"name": "Call first", "first_step": "call", "first_due_days": 2, "weight": 1},
    ),
    "case-legal": Target(
        _url("case-legal"),
        ("supervisor_x", "manager"),
        {"summary": TEXT, "language": CHOICE},
        lambda f: {"summary": "Refused three visits; the debt is not disputed.", "language": "en"},
    ),
    "review-detail": Target(
        _url("review-detail", obj="world.review"),
        SUPERVISOR,
        RUBRIC_FIELDS,
        lambda f: {
            f"{i}_verdict": "pass" for i in ("identity", "listened", "situation", "plan", "conduct", "evidence")
        },
    ),
    "review-reply": Target(_url("review-reply", obj="world.review"), ("collector_a",), {"reply": TEXT}),
    "review-pick": Target(_url("review-pick", obj="world.visit"), SUPERVISOR, {"note": TEXT}),
    "safety-check-in": Target(
        _url("safety-check-in"),
        ("collector_a",),
        {"expected_minutes": NUMBER, "companion": NUMBER, "lat": NUMBER, "lng": NUMBER},
        lambda f: {"expected_minutes": "30"},
    ),
    "safety-check-out": Target(_url("safety-check-out", obj="world.checkin"), ("collector_a",), {"note": TEXT}),
    "safety-help": Target(
        _url("safety-help", attr="none"),
        ("collector_a", "supervisor_x"),
        {"client_id": TEXT, "pressed_at": DATE, "case": NUMBER, "lat": NUMBER, "lng": NUMBER},
        lambda f: {"client_id": "6f1c8f4e-5a43-4c1e-9a55-0c2f0f7d9d10", "pressed_at": _today()},
    ),
    "playbook-create": Target(
        _url("playbook-create", attr="none"),
        SUPERVISOR,
        PLAYBOOK_FIELDS,
        lambda f: {"title_en": "T", "title_zh": "题", "points_en": "P", "points_zh": "点"},
    ),
    "playbook-edit": Target(
        _url("playbook-edit", obj="world.playbook"),
        SUPERVISOR,
        PLAYBOOK_FIELDS,
        lambda f: {"title_en": "T", "title_zh": "题", "points_en": "P", "points_zh": "点"},
    ),
    "playbook-use": Target(_playbook_use, ("collector_a",), {"points": IDS, "steps": IDS}),
    "contact-attempt-create": Target(
        _url("contact-attempt-create", obj="prep"),
        FIELD_ROLES,
        {
            "channel": CHOICE,
            "party": CHOICE,
            "phone": NUMBER,
            "other_number": TEXT,
            "result": CHOICE,
            "attempted_at": DATE,
            "note": TEXT,
            **FOUND_FIELDS,
        },
        lambda f: {"channel": "call", "party": "borrower", "other_number": "13812345678", "result": "no_answer"},
    ),
    "contact-point-status": Target(
        _url("contact-point-status", obj="prep"),
        FIELD_ROLES,
        {"kind": CHOICE, "point": NUMBER, "status": CHOICE, "note": TEXT},
        lambda f: {"kind": "phone", "point": f.prep.account.borrower.phones.first().pk, "status": "confirmed"},
    ),
    "case-preparation": Target(
        _url("case-preparation", obj="prep"),
        FIELD_ROLES,
        {
            "contact_verified": CHOICE,
            "overdue_reason": TEXT,
            "history_reviewed": CHOICE,
            "talking_points": TEXT,
            "planned_at": DATE,
            "address": NUMBER,
            "consent_outside_hours": CHOICE,
        },
        lambda f: {
            "contact_verified": "on",
            "history_reviewed": "on",
            "overdue_reason": "Lost job",
            "talking_points": "Instalments",
            "planned_at": local_input(WORLD_TIME + dt.timedelta(days=1)),
            "address": f.prep.account.borrower.addresses.first().pk,
        },
    ),
    "visit-create": Target(
        _url("visit-create", obj="visit"),
        FIELD_ROLES,
        VISIT_FIELDS,
        lambda f: visit_data(),
        files={"photos": st.binary(max_size=64)},
    ),
    "visit-sync": Target(
        _plain("visit-sync"),
        ("collector_a",),
        {**VISIT_FIELDS, "case": NUMBER},
        lambda f: {**visit_data(), "case": f.visit.pk},
    ),
    "case-transition": Target(
        _url("case-transition"),
        FIELD_ROLES,
        {"target": CHOICE, "close_reason": CHOICE, "note": TEXT},
        lambda f: {"target": "closed", "close_reason": "cured", "note": "Paid"},
    ),
    "case-assign": Target(
        _url("case-assign"),
        SUPERVISOR,
        {"collector": NUMBER, "reason": TEXT},
        lambda f: {"collector": f.cast.collector_a2.pk, "reason": "Holiday"},
    ),
    "case-bulk-assign": Target(
        _plain("case-bulk-assign"),
        SUPERVISOR,
        {"case": IDS, "collector": NUMBER, "reason": TEXT},
        lambda f: {"case": [f.world.case.pk], "collector": f.cast.collector_a2.pk, "reason": "Holiday"},
    ),
    "screening-open": Target(
        _plain("screening-open"),
        SUPERVISOR,
        {"scope": CHOICE, "account": IDS, **SCREENING_FILTERS},
        lambda f: {"scope": "selected", "account": [f.account.pk]},
    ),
    "screening": Target(_plain("screening"), READERS, SCREENING_FILTERS, method="GET"),
    "workload": Target(_plain("workload"), READERS, {"team": NUMBER}, method="GET"),
    "case-list": Target(
        _plain("case-list"), ("collector_a", "supervisor_x"), {"stage": CHOICE, "page": NUMBER}, method="GET"
    ),
    "case-negotiate|promise": Target(
        _url("case-negotiate", obj="visit"),
        FIELD_ROLES,
        {
            "promise-amount": NUMBER,
            "promise-due_date": DATE,
            "promise-grace_days": NUMBER,
            "promise-note": TEXT,
            "promise-idempotency_key": TEXT,
        },
        lambda f: {"action": "promise", "promise-amount": "100.00", "promise-due_date": _today(7)},
    ),
    "case-negotiate|plan": Target(
        _url("case-negotiate", obj="visit"),
        FIELD_ROLES,
        {
            "plan-kind": CHOICE,
            "plan-base_amount": NUMBER,
            "plan-waiver_amount": NUMBER,
            "plan-instalment_count": NUMBER,
            "plan-deferral_months": NUMBER,
            "plan-first_due_date": DATE,
            "plan-note": TEXT,
            "save": CHOICE,
        },
        lambda f: {
            "action": "plan",
            "plan-kind": "instalments",
            "plan-base_amount": "3000.00",
            "plan-waiver_amount": "0",
            "plan-instalment_count": "3",
            "plan-deferral_months": "0",
            "plan-first_due_date": _today(30),
        },
    ),
    "payment-create": Target(
        _url("payment-create"),
        FIELD_ROLES,
        {"amount": NUMBER, "paid_on": DATE, "channel": CHOICE, "reference": TEXT, "idempotency_key": TEXT},
        lambda f: {"amount": "50.00", "paid_on": _today(), "channel": "cash"},
    ),
    "case-finances": Target(
        _url("case-finances"),
        FIELD_ROLES,
        {
            "source": CHOICE,
            "visit": NUMBER,
            "assets_seen": CHOICE,
            "note": TEXT,
            "idempotency_key": TEXT,
            "fig-TOTAL_FORMS": NUMBER,
            "fig-0-kind": CHOICE,
            "fig-0-amount": NUMBER,
            "fig-0-employer": TEXT,
            "fig-1-kind": CHOICE,
            "fig-1-amount": NUMBER,
        },
        lambda f: {
            "source": "negotiation",
            "fig-TOTAL_FORMS": "2",
            "fig-INITIAL_FORMS": "0",
            "fig-0-kind": "salary",
            "fig-0-amount": "3000.00",
            "fig-1-kind": "rent",
            "fig-1-amount": "500",
        },
    ),
    "finance-figure-evidence": Target(
        lambda f: reverse("finance-figure-evidence", args=[f.world.figure.pk]),
        FIELD_ROLES,
        {"kind": CHOICE},
        lambda f: {"kind": "payslip"},
        files={"photo": st.binary(max_size=64)},
    ),
    "finance-figure-verify": Target(
        lambda f: reverse("finance-figure-verify", args=[f.world.figure.pk]),
        FIELD_ROLES,
        {
            "action": CHOICE,
            "evidence": NUMBER,
            "verified_amount": NUMBER,
            "note": TEXT,
        },
        lambda f: {
            "action": "verify",
            "evidence": f.world.finance_evidence.pk,
            "verified_amount": "7000.00",
        },
    ),
    "plan-reject": Target(_url("plan-reject", obj="world.plan"), SUPERVISOR, {"note": TEXT}, lambda f: {"note": "No"}),
    "plan-approve": Target(_url("plan-approve", obj="world.plan"), SUPERVISOR, {"note": TEXT}),
    "promise-cancel": Target(_url("promise-cancel", obj="world.promise"), FIELD_ROLES, {"note": TEXT}),
    "import-list": Target(
        _plain("import-list"),
        SUPERVISOR,
        {"as_of": DATE, "create_branches": CHOICE},
        files={"file": st.one_of(st.binary(max_size=256), texts.map(lambda t: t.encode("utf-8", "surrogatepass")))},
    ),
    "dashboard": Target(_plain("dashboard"), READERS, DASHBOARD_FILTERS, method="GET"),
    "audit-log": Target(_plain("audit-log"), ("manager",), AUDIT_FILTERS, method="GET"),
    "audit-export": Target(_plain("audit-export"), ("manager",), AUDIT_FILTERS, method="GET"),
    "today|get": Target(
        _plain("today"),
        ("collector_a", "supervisor_x"),
        {"lat": NUMBER, "lng": NUMBER, "collector": NUMBER, "start": CHOICE},
        method="GET",
    ),
    "today|post": Target(_plain("today"), ("collector_a",), {"action": CHOICE, "case": NUMBER}),
    "login": Target(
        _plain("login"), ("anon",), {"username": TEXT, "password": TEXT}, lambda f: {"username": "collector_a"}
    ),
    "set_language": Target(_plain("set_language"), ("anon", "collector_a"), {"language": TEXT, "next": TEXT}),
    "api:token": Target(_plain("api:token"), ("anon",), {"username": json_values, "password": json_values}, api=True),
    "api:token-refresh": Target(_plain("api:token-refresh"), ("anon",), {"refresh": json_values}, api=True),
    "api:token-revoke": Target(_plain("api:token-revoke"), ("anon",), {"token": json_values}, api=True),
    # The import API takes the page's multipart upload.
    "api:import-list": Target(
        _plain("api:import-list"),
        SUPERVISOR,
        {"as_of": DATE, "create_branches": CHOICE},
        files={"file": st.one_of(st.binary(max_size=256), texts.map(lambda t: t.encode("utf-8", "surrogatepass")))},
    ),
    "pii-reveal": Target(
        lambda f: f"/borrowers/{f.world.borrower.pk}/reveal/",  # + the drawn field, quoted
        FIELD_ROLES,
        {"field": st.one_of(hostile, st.builds("phone:{}".format, numbers))},
    ),
    # -- the API (JSON bodies, query parameters)
    "api:case-list|get": Target(_plain("api:case-list"), FIELD_ROLES, CASE_FILTERS, method="GET", api=True),
    "api:account-list": Target(
        _plain("api:account-list"),
        FIELD_ROLES,
        {"account_no": TEXT, "branch": NUMBER, "product": CHOICE, "cursor": TEXT, "page_size": NUMBER},
        method="GET",
        api=True,
    ),
    "api:case-list|post": Target(
        _plain("api:case-list"),
        SUPERVISOR,
        {"account_ids": json_values, "team": json_values},
        lambda f: {"account_ids": [f.account.pk]},
        api=True,
    ),
    "api:case-assign": Target(
        _url("api:case-assign"),
        SUPERVISOR,
        {"collector": json_values, "reason": json_values},
        lambda f: {"collector": f.cast.collector_a2.pk, "reason": "Holiday"},
        api=True,
    ),
    "api:case-transition": Target(
        _url("api:case-transition"),
        FIELD_ROLES,
        {"target": json_values, "close_reason": json_values, "note": json_values},
        lambda f: {"target": "closed", "close_reason": "cured"},
        api=True,
    ),
    "api-dashboard": Target(_plain("api-dashboard"), READERS, DASHBOARD_FILTERS, method="GET", api=True),
    "api:screening-list": Target(_plain("api:screening-list"), READERS, SCREENING_FILTERS, method="GET", api=True),
    "api:visit-list|post": Target(
        _plain("api:visit-list"),
        FIELD_ROLES,
        dict.fromkeys([*VISIT_FIELDS, "case"], json_values),
        lambda f: {
            "case": f.visit.pk,
            "idempotency_key": str(uuid.uuid4()),
            "checked_in_at": (WORLD_TIME - dt.timedelta(minutes=40)).isoformat(),
            "identity_confirmed": True,
            "met": "borrower",
            "outcome": "promised",
        },
        api=True,
    ),
    "api:finance-list|post": Target(
        _plain("api:finance-list"),
        FIELD_ROLES,
        dict.fromkeys(("case", "source", "visit", "assets_seen", "note", "figures", "idempotency_key"), json_values),
        lambda f: {
            "case": f.world.case.pk,
            "source": "visit",
            "figures": [
                {"kind": "salary", "amount": "3000.00", "employer": "Acme"},
                {"kind": "rent", "amount": "1.00"},
            ],
        },
        api=True,
    ),
    "api:finance-figure-evidence": Target(
        lambda f: reverse("api:finance-figure-evidence", args=[f.world.figure.pk]),
        FIELD_ROLES,
        {"kind": json_values, "photo": json_values},
        lambda f: {"kind": "payslip"},
        api=True,
    ),
    "api:finance-figure-verify": Target(
        lambda f: reverse("api:finance-figure-verify", args=[f.world.figure.pk]),
        FIELD_ROLES,
        dict.fromkeys(("evidence", "verified_amount", "note"), json_values),
        lambda f: {"evidence": f.world.finance_evidence.pk, "verified_amount": "7000.00"},
        api=True,
    ),
    "api:finance-figure-unverify": Target(
        lambda f: reverse("api:finance-figure-unverify", args=[f.world.figure.pk]),
        FIELD_ROLES,
        {"note": json_values},
        lambda f: {"note": "Old payslip"},
        api=True,
    ),
    "api:promise-list|post": Target(
        _plain("api:promise-list"),
        FIELD_ROLES,
        dict.fromkeys(("case", "amount", "due_date", "grace_days", "note", "idempotency_key"), json_values),
        lambda f: {"case": f.visit.pk, "amount": "100.00", "due_date": _today(7)},
        api=True,
    ),
    "api:plan-list|post": Target(
        _plain("api:plan-list"),
        FIELD_ROLES,
        dict.fromkeys(
            (
                "case",
                "kind",
                "base_amount",
                "waiver_amount",
                "instalment_count",
                "deferral_months",
                "first_due_date",
                "note",
                "idempotency_key",
            ),
            json_values,
        ),
        lambda f: {"case": f.visit.pk, "kind": "instalments", "base_amount": "300.00", "first_due_date": _today(30)},
        api=True,
    ),
    "api:payment-list|post": Target(
        _plain("api:payment-list"),
        FIELD_ROLES,
        dict.fromkeys(("case", "amount", "paid_on", "channel", "reference", "idempotency_key"), json_values),
        lambda f: {"case": f.world.case.pk, "amount": "10.00", "paid_on": _today(), "channel": "cash"},
        api=True,
    ),
    "api:plan-reject": Target(
        _url("api:plan-reject", obj="world.plan"), SUPERVISOR, {"note": json_values}, lambda f: {"note": "No"}, api=True
    ),
    "api:plan-approve": Target(_url("api:plan-approve", obj="world.plan"), SUPERVISOR, {"note": json_values}, api=True),
    "api:visit-list|get": Target(
        _plain("api:visit-list"),
        FIELD_ROLES,
        {"case": NUMBER, "cursor": TEXT, "page_size": NUMBER},
        method="GET",
        api=True,
    ),
}

# --- the invariant ----------------------------------------------------------------------------------------


def snapshot() -> dict:
    """The domain rows a refused request must not touch (refusal records in the timeline and audit may grow)."""
    return {
        "contact_attempts": ContactAttempt.objects.count(),
        "visit_plans": list(
            VisitPlan.objects.order_by("pk").values_list("pk", "planned_at", "overdue_reason", "talking_points")
        ),
        "visits": Visit.objects.count(),
        "photos": VisitPhoto.objects.count(),
        "promises": list(PromiseToPay.objects.order_by("pk").values_list("pk", "status", "amount")),
        "plans": list(RepaymentPlan.objects.order_by("pk").values_list("pk", "status")),
        "payments": Payment.objects.count(),
        "cases": list(Case.objects.order_by("pk").values_list("pk", "stage", "assigned_collector_id", "team_id")),
        "accounts": list(
            DelinquentAccount.objects.order_by("pk").values_list("pk", "overdue_amount", "outstanding_balance")
        ),
        "imports": ImportJob.objects.count(),
        "unread": Notification.objects.filter(read_at__isnull=True).count(),
        "conflicts": list(SyncConflict.objects.order_by("pk").values_list("pk", "discarded_at")),
        "declarations": FinancialDeclaration.objects.count(),
        "figures": list(DeclaredFigure.objects.order_by("pk").values_list("pk", "status", "verified_amount")),
        "finance_evidence": FinanceEvidence.objects.count(),
    }


def refused(response) -> bool:
    if response.status_code >= 400:
        return True
    context = response.context
    if context is not None:
        for name in ("form", "plan_form", "promise_form"):
            form = context.get(name)
            if form is not None and getattr(form, "is_bound", False) and form.errors:
                return True
    return any(m.level >= message_levels.ERROR for m in get_messages(response.wsgi_request))


def send(client, target: Target, fuzz: Fuzz, data: dict, files: dict):
    path = target.path(fuzz)
    if target.method == "GET":
        flat = [(k, v) for k, vs in data.items() for v in (vs if isinstance(vs, list) else [vs])]
        return client.get(path + "?" + urlencode(flat, doseq=False))
    if target.api:
        return client.post(path, json.dumps(data), content_type="application/json")
    if "field" in data and path.endswith("/reveal/"):
        return client.post(path + quote(str(data["field"]), safe="") + "/")
    uploads = {name: SimpleUploadedFile("upload.bin", content) for name, content in files.items()}
    return client.post(path, {**data, **uploads})


# --- the test ---------------------------------------------------------------------------------------------


def _open_for_a(cast, stage: str) -> Case:
    account = AccountFactory(branch=cast.branch_a)
    case = case_open(account=account, actor=cast.supervisor_x, team=cast.team_x)
    case = case_assign(case=case, collector=cast.collector_a, actor=cast.supervisor_x)
    case_transition(case=case, target=Stage.PREPARATION, actor=cast.collector_a)
    if stage == Stage.VISIT:
        from visits.services import visit_plan_save

        visit_plan_save(
            case=case,
            actor=cast.collector_a,
            contact_verified=True,
            overdue_reason="Lost job",
            history_reviewed=True,
            talking_points="Instalments",
            planned_at=timezone.now() + dt.timedelta(hours=1),
            address=account.borrower.addresses.first(),
            consent_outside_hours=False,
        )
        case_transition(case=case, target=Stage.VISIT, actor=cast.collector_a)
    return case


@pytest.fixture
def fuzz(cast, case_a, time_machine, settings, tmp_path) -> Fuzz:
    time_machine.move_to(WORLD_TIME, tick=True)
    settings.MEDIA_ROOT = tmp_path / "media"
    world = build_world(cast, case_a)
    return Fuzz(
        world=world,
        prep=_open_for_a(cast, Stage.PREPARATION),
        visit=_open_for_a(cast, Stage.VISIT),
        account=AccountFactory(branch=cast.branch_a),
    )


def _draw(target: Target):
    overrides = st.fixed_dictionaries({}, optional=target.fields)
    files = st.fixed_dictionaries({}, optional=target.files)
    return st.tuples(st.sampled_from(target.roles), overrides, files, st.booleans())


@pytest.mark.parametrize("name", sorted(TARGETS))
@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_hostile_input_never_causes_a_500_and_a_refusal_changes_nothing(client, fuzz, name, data):
    target = TARGETS[name]
    role, overrides, files, keep_baseline = data.draw(_draw(target))
    body = {**(target.baseline(fuzz) if keep_baseline else {}), **overrides}
    client.cookies.pop("messages", None)  # only this request's messages tell whether it was refused
    with transaction.atomic():
        if role != "anon":
            client.force_login(getattr(fuzz.cast, role))
        before = snapshot()
        response = send(client, target, fuzz, body, files)
        assert response.status_code < 500, (name, role, body, response.status_code)
        if target.method == "GET" or refused(response):
            assert snapshot() == before, (name, role, body, response.status_code)
        transaction.set_rollback(True)


# The classic ones, every run: huge ids (a database overflow), impossible dates, non-numbers.
HUGE = "9" * 23
KNOWN = [
    # Longer than axes' attempt table holds: a DataError (500) on PostgreSQL before AXES_USERNAME_CALLABLE.
    ("login", "anon", {"username": "x" * 20_000, "password": "wrong-password-123"}),
    ("api:token", "anon", {"username": "\u202e" * 300, "password": "wrong-password-123"}),
    ("case-bulk-assign", "supervisor_x", {"case": [HUGE]}),
    ("screening-open", "supervisor_x", {"scope": "selected", "account": [HUGE, "-1"]}),
    ("pii-reveal", "collector_a", {"field": f"phone:{HUGE}"}),
    ("pii-reveal", "collector_a", {"field": "phone:\uff11"}),
    ("today|get", "collector_a", {"lat": "1e309", "lng": "NaN"}),
    ("today|get", "supervisor_x", {"collector": HUGE}),
    ("today|post", "collector_a", {"action": "up", "case": HUGE}),
    ("dashboard", "manager", {"date_from": "0001-01-01", "date_to": "9999-12-31", "period": "custom"}),
    ("dashboard", "manager", {"branch": HUGE, "export": "csv", "table": "aging"}),
    ("case-preparation", "collector_a", {"planned_at": "0001-01-01T00:00"}),
    ("case-preparation", "collector_a", {"planned_at": "9999-12-31T23:59"}),
    ("case-preparation", "collector_a", {"address": HUGE}),
    ("visit-create", "collector_a", {"checked_in_at": "0001-01-01T00:00", "lat": "1e309"}),
    ("case-assign", "supervisor_x", {"collector": HUGE}),
    ("screening", "supervisor_x", {"branch": HUGE, "after": "zzz", "amount_min": "1e309"}),
    ("case-list", "collector_a", {"page": HUGE}),
    ("audit-log", "manager", {"object_id": "\x00", "after": HUGE, "date_from": "0001-01-01", "date_to": "9999-12-31"}),
    (
        "case-negotiate|promise",
        "collector_a",
        {"promise-amount": "99999999999999.99", "promise-due_date": "9999-12-31"},
    ),
    ("case-negotiate|plan", "collector_a", {"plan-first_due_date": "9999-12-31", "plan-deferral_months": "36"}),
    ("payment-create", "collector_a", {"amount": "99999999999999.99", "paid_on": "0001-01-01"}),
    ("safety-help", "collector_a", {"case": HUGE, "lat": "1e309", "pressed_at": "0001-01-01T00:00"}),
    ("safety-check-in", "collector_a", {"companion": HUGE, "expected_minutes": HUGE}),
    ("playbook-use", "collector_a", {"points": [HUGE, "-1"], "steps": ["\x00"]}),
    ("review-detail", "supervisor_x", {"playbook": HUGE, "comment": "x" * 20_000}),
    ("contact-attempt-create", "collector_a", {"attempted_at": "0001-01-01T00:00", "phone": HUGE}),
    (
        "api:case-list|get",
        "collector_a",
        {"assigned_collector": HUGE, "due_before": "0001-01-01", "page_size": "1e309"},
    ),
    ("api:case-list|post", "supervisor_x", {"account_ids": [int(HUGE)], "team": int(HUGE)}),
    ("api:case-assign", "supervisor_x", {"collector": int(HUGE), "reason": "x"}),
    ("api-dashboard", "manager", {"date_from": "0001-01-01", "date_to": "9999-12-31", "period": "custom"}),
]


def test_known_hostile_values_are_refused_cleanly(client, fuzz):
    failures = []
    for name, role, override in KNOWN:
        target = TARGETS[name]
        body = {**target.baseline(fuzz), **override}
        client.cookies.pop("messages", None)
        with transaction.atomic():
            if role != "anon":
                client.force_login(getattr(fuzz.cast, role))
            before = snapshot()
            try:
                response = send(client, target, fuzz, body, {})
            except Exception as exc:  # noqa: BLE001 - collected: every case is reported, not just the first
                failures.append(f"{name} as {role} with {override}: raised {exc!r}")
            else:
                if response.status_code >= 500:
                    failures.append(f"{name} as {role} with {override}: HTTP {response.status_code}")
                elif (target.method == "GET" or refused(response)) and snapshot() != before:
                    failures.append(f"{name} as {role} with {override}: refused but changed the data")
            transaction.set_rollback(True)
    assert not failures, "\n".join(failures)


# POST URLs whose body is at most a note or nothing at all: their refusals are the access matrix's.
BODYLESS = {
    "logout",
    "case-link",
    "link-revoke",
    "complaint-acknowledge",
    "strategy-toggle",
    "case-auto-assign",
    "plan-submit",
    "plan-cancel",
    "notification-read",
    "notification-read-all",
    "sync-conflict-discard",
    "token-revoke-user",
    "api:user-tokens-revoke",
}


def test_every_url_that_takes_input_is_fuzzed():
    """A new URL that accepts a POST from some role must be added to TARGETS (or BODYLESS)."""
    from tests.security.test_access_matrix import EXPECTED, OK

    fuzzed = {name.split("|")[0] for name in TARGETS}
    takes_input = {name for name, methods in EXPECTED.items() if OK in methods["POST"].values()}
    missing = sorted(takes_input - fuzzed - BODYLESS)
    assert not missing, f"add hostile-input targets for: {missing}"
