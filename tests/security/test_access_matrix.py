"""The access matrix: every URL pattern, GET and POST, as every role, against collector A's objects.

``EXPECTED`` says, for each URL name and method, what each role gets: ``OK`` (allowed: 2xx, a
redirect that is not to a login page, or a 400/409 refusing a POST's body), ``LOGIN`` (302 to a login
page; 401/403 from the API to an anonymous caller), ``FORBIDDEN`` (403), ``NOT_FOUND`` (404) or
``NOT_ALLOWED`` (405). A URL name the resolver knows but ``EXPECTED`` does not fails the test
("add an expectation"), and so does an expectation for a URL that is gone.

Each request runs in a savepoint that is rolled back, so a POST (an approval, an auto-assign, a
log-out) does not change the world the next request sees.
"""

import datetime as dt
import json
from collections.abc import Callable

import pytest
from django.conf import settings
from django.db import transaction
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

from tests.security.world import WORLD_TIME, World, build_world
from voice import links as voice_links

pytestmark = pytest.mark.django_db

OK, LOGIN, FORBIDDEN, NOT_FOUND, NOT_ALLOWED = "ok", "login", "403", "404", "405"
ROLES = ("anon", "collector_a", "collector_a2", "collector_b", "supervisor_x", "supervisor_y", "manager", "admin")
STAFF = ("admin",)

# --- expectations -----------------------------------------------------------------------------------


def roles(default: str, anon: str = LOGIN, **overrides: str) -> dict[str, str]:
    table = dict.fromkeys(ROLES, default)
    table["anon"] = anon
    table.update(overrides)
    return table


def public() -> dict[str, str]:
    """No login needed: everyone, anonymous included."""
    return roles(OK, anon=OK)


def signed_in(outcome: str = OK) -> dict[str, str]:
    """Every signed-in role gets ``outcome``; anonymous goes to the login page."""
    return roles(outcome)


def case_readers() -> dict[str, str]:
    """Who may see collector A's case: A, team X's supervisor, manager, admin; everyone else 404."""
    return roles(NOT_FOUND, collector_a=OK, supervisor_x=OK, manager=OK, admin=OK)


def case_actors() -> dict[str, str]:
    """Who may act on A's case: as ``case_readers`` but the manager reads only (403)."""
    return {**case_readers(), "manager": FORBIDDEN}


def case_supervisors() -> dict[str, str]:
    """Supervisor X (and admin) act; supervisor Y does not see the case (404); other roles are refused (403)."""
    return roles(FORBIDDEN, supervisor_x=OK, supervisor_y=NOT_FOUND, admin=OK)


def supervisors_only() -> dict[str, str]:
    """A supervisor's own page (their team's data): both supervisors and admin; other roles 403."""
    return roles(FORBIDDEN, supervisor_x=OK, supervisor_y=OK, admin=OK)


def complaint_overseers() -> dict[str, str]:
    """A complaint on A's case: its supervisor, the manager and admin; supervisor Y 404; collectors 403."""
    return roles(FORBIDDEN, supervisor_x=OK, supervisor_y=NOT_FOUND, manager=OK, admin=OK)


def supervisors_and_managers() -> dict[str, str]:
    return roles(FORBIDDEN, supervisor_x=OK, supervisor_y=OK, manager=OK, admin=OK)


def managers_only() -> dict[str, str]:
    return roles(FORBIDDEN, manager=OK, admin=OK)


def collectors_only() -> dict[str, str]:
    return roles(FORBIDDEN, collector_a=OK, collector_a2=OK, collector_b=OK)


def own_only(owner: str) -> dict[str, str]:
    """An object of one user (a notification, an import job): the owner; others 404."""
    return roles(NOT_FOUND, **{owner: OK})


def get_only(get: dict[str, str]) -> dict[str, dict[str, str]]:
    """A read: POST answers 405 to signed-in users."""
    return {"GET": get, "POST": signed_in(NOT_ALLOWED)}


def post_only(post: dict[str, str]) -> dict[str, dict[str, str]]:
    return {"GET": signed_in(NOT_ALLOWED), "POST": post}


def api_get_only(get: dict[str, str]) -> dict[str, dict[str, str]]:
    return {"GET": get, "POST": signed_in(NOT_ALLOWED)}


EXPECTED: dict[str, dict[str, dict[str, str]]] = {
    # -- public and account pages
    "home": get_only(signed_in()),
    "healthz": {"GET": public(), "POST": roles(NOT_ALLOWED, anon=NOT_ALLOWED)},
    # Public like healthz, but only to METRICS_ALLOWED_IPS (the test client is 127.0.0.1; tests/ops).
    "metrics": {"GET": public(), "POST": roles(NOT_ALLOWED, anon=NOT_ALLOWED)},
    "login": {"GET": public(), "POST": public()},
    "logout": {"GET": signed_in(NOT_ALLOWED), "POST": roles(LOGIN, anon=LOGIN)},
    "set_language": {"GET": public(), "POST": public()},
    "javascript-catalog": {"GET": public(), "POST": roles(NOT_ALLOWED, anon=NOT_ALLOWED)},
    "pwa-manifest": get_only(signed_in()),
    "pwa-service-worker": get_only(signed_in()),
    # -- cases
    "case-list": get_only(signed_in()),
    "case-detail": get_only(case_readers()),
    "complaint-create": {"GET": case_actors(), "POST": case_actors()},
    "case-link": {"GET": case_actors(), "POST": case_actors()},
    "link-revoke": post_only(case_actors()),
    # The signed token is the key: anyone holding the link, signed in or not.
    "borrower-page": {"GET": public(), "POST": public()},
    "complaint-list": get_only(supervisors_and_managers()),
    "complaint-detail": {"GET": complaint_overseers(), "POST": {**complaint_overseers(), "manager": FORBIDDEN}},
    "complaint-acknowledge": post_only({**complaint_overseers(), "manager": FORBIDDEN}),
    "case-transition": post_only(case_actors()),
    "contact-point-status": post_only(case_actors()),
    # -- search: every signed-in role; what it lists is scoped per role (tests/collections_app/test_search.py)
    "search": get_only(signed_in()),
    "contact-attempt-create": {"GET": case_actors(), "POST": case_actors()},
    "case-preparation": {"GET": case_actors(), "POST": case_actors()},
    "visit-create": {"GET": case_actors(), "POST": case_actors()},
    "visit-detail": get_only(case_readers()),
    "visit-photo": get_only(case_readers()),
    "pii-reveal": post_only(case_readers()),
    # -- screening and assignment
    "screening": get_only(supervisors_and_managers()),
    "screening-open": post_only(supervisors_only()),
    "assignments": get_only(supervisors_only()),
    "case-bulk-assign": post_only(supervisors_only()),
    "case-auto-assign": post_only(supervisors_only()),
    "case-assign": {"GET": case_supervisors(), "POST": case_supervisors()},
    "workload": get_only(supervisors_and_managers()),
    # -- the field day and offline sync
    "today": {
        # ?collector=<A>: A's own day; their supervisor may look; another collector or supervisor: 404.
        "GET": roles(NOT_FOUND, collector_a=OK, supervisor_x=OK, manager=FORBIDDEN, admin=FORBIDDEN),
        "POST": roles(NOT_FOUND, collector_a=OK, supervisor_x=FORBIDDEN, manager=FORBIDDEN, admin=FORBIDDEN),
    },
    "visit-sync": post_only(collectors_only()),
    "sync-conflict-list": get_only(signed_in()),
    "sync-conflict-detail": get_only(roles(NOT_FOUND, collector_a=OK, supervisor_x=OK, manager=OK, admin=OK)),
    "sync-conflict-discard": post_only(
        roles(NOT_FOUND, collector_a=OK, supervisor_x=FORBIDDEN, manager=FORBIDDEN, admin=FORBIDDEN)
    ),
    # -- repayment
    "case-negotiate": {"GET": case_actors(), "POST": case_actors()},
    "payment-create": {"GET": case_actors(), "POST": case_actors()},
    "plan-detail": get_only(case_readers()),
    "plan-agreement": get_only(case_readers()),
    "plan-submit": post_only(case_actors()),
    "plan-cancel": post_only(case_actors()),
    "plan-approve": post_only({**case_readers(), "collector_a": FORBIDDEN, "manager": FORBIDDEN}),
    "plan-reject": post_only({**case_readers(), "collector_a": FORBIDDEN, "manager": FORBIDDEN}),
    "promise-cancel": post_only(case_actors()),
    "payment-receipt": get_only(case_readers()),
    "case-finances": {"GET": case_readers(), "POST": case_actors()},
    "finance-figure-evidence": post_only(case_actors()),
    "finance-figure-verify": post_only(case_actors()),
    "finance-evidence": get_only(case_readers()),
    "notification-list": get_only(signed_in()),
    "notification-read": post_only(own_only("collector_a")),
    "notification-read-all": post_only(signed_in()),
    # -- imports (supervisor X's job) and the audit trail
    "import-list": {"GET": supervisors_only(), "POST": supervisors_only()},
    "import-progress": get_only(roles(FORBIDDEN, supervisor_x=OK, supervisor_y=NOT_FOUND, admin=OK)),
    "import-report": get_only(roles(FORBIDDEN, supervisor_x=OK, supervisor_y=NOT_FOUND, admin=OK)),
    "audit-log": get_only(managers_only()),
    "audit-export": get_only(managers_only()),
    # -- API tokens (a lost phone): the page is for supervisors and admins
    "token-list": get_only(supervisors_only()),
    "token-revoke-user": post_only(roles(FORBIDDEN, supervisor_x=OK, supervisor_y=NOT_FOUND, admin=OK)),
    # -- the legal handoff: packs for the case's supervisor and managers; verifying for managers
    "case-legal": {
        "GET": roles(FORBIDDEN, supervisor_x=OK, supervisor_y=NOT_FOUND, manager=OK, admin=OK),
        "POST": roles(FORBIDDEN, supervisor_x=OK, supervisor_y=NOT_FOUND, manager=OK, admin=OK),
    },
    "evidence-pack-pdf": get_only(roles(FORBIDDEN, supervisor_x=OK, supervisor_y=NOT_FOUND, manager=OK, admin=OK)),
    "evidence-pack-manifest": get_only(roles(FORBIDDEN, supervisor_x=OK, supervisor_y=NOT_FOUND, manager=OK, admin=OK)),
    "evidence-verify": get_only(managers_only()),
    # -- visit quality review: the team's supervisor reviews, the collector reads and replies
    "review-queue": get_only(signed_in()),
    "my-reviews": get_only(collectors_only()),
    # collector A's quality over time: A, A's supervisor, managers; other collectors and supervisor Y 404
    "collector-quality": get_only(case_readers()),
    "review-detail": {
        "GET": case_readers(),
        "POST": {**case_readers(), "collector_a": FORBIDDEN, "manager": FORBIDDEN},
    },
    "review-reply": post_only(case_readers()),
    "review-pick": post_only({**case_readers(), "collector_a": FORBIDDEN, "manager": FORBIDDEN}),
    # -- field safety: the case's collector checks in (others are refused by the service), help is JSON
    "safety-check-in": post_only(
        {**case_readers(), "supervisor_x": FORBIDDEN, "manager": FORBIDDEN, "admin": FORBIDDEN}
    ),
    "safety-check-out": post_only(roles(NOT_FOUND, collector_a=OK)),
    "safety-help": post_only(signed_in()),
    # -- playbooks: supervisors and managers write them; the case's collector records their use
    "playbook-list": get_only(supervisors_and_managers()),
    "playbook-create": {"GET": supervisors_and_managers(), "POST": supervisors_and_managers()},
    "playbook-edit": {"GET": supervisors_and_managers(), "POST": supervisors_and_managers()},
    "playbook-use": post_only({**case_readers(), "supervisor_x": FORBIDDEN, "manager": FORBIDDEN, "admin": FORBIDDEN}),
    # -- dashboard
    "dashboard": get_only(supervisors_and_managers()),
    "api-dashboard": api_get_only(supervisors_and_managers()),
    # -- risk: statements (supervisor X's job), early warning, care cases (collector A's), model, strategies
    "statement-imports": {"GET": supervisors_only(), "POST": supervisors_only()},
    "statement-import-progress": get_only(roles(FORBIDDEN, supervisor_x=OK, supervisor_y=NOT_FOUND, admin=OK)),
    "early-warning": get_only(supervisors_and_managers()),
    # The account is in branch A: supervisor Y does not see it; the manager may ask (the service refuses).
    "care-open": post_only(roles(FORBIDDEN, supervisor_x=OK, supervisor_y=NOT_FOUND, manager=OK, admin=OK)),
    "care-list": get_only(signed_in()),
    "care-detail": {"GET": case_readers(), "POST": case_readers()},
    "risk-model-card": get_only(supervisors_and_managers()),
    "strategies": {"GET": supervisors_and_managers(), "POST": supervisors_and_managers()},
    "strategy-toggle": post_only(supervisors_and_managers()),
    "api-risk-account": api_get_only(roles(FORBIDDEN, supervisor_x=OK, supervisor_y=NOT_FOUND, manager=OK, admin=OK)),
    # -- the API
    # Signed in, the session gets a token pair; anonymous with no credentials is a 401.
    "api:token": {"GET": roles(NOT_ALLOWED, anon=NOT_ALLOWED), "POST": {**public(), "anon": LOGIN}},
    # A refresh or a revoke is its own credential (the token in the body): no sign-in needed.
    "api:token-refresh": {"GET": roles(NOT_ALLOWED, anon=NOT_ALLOWED), "POST": public()},
    "api:token-revoke": {"GET": roles(NOT_ALLOWED, anon=NOT_ALLOWED), "POST": public()},
    # Collector A's tokens: A themself, their supervisor, an admin; anyone else does not see A (404).
    "api:user-tokens-revoke": {
        "GET": signed_in(NOT_ALLOWED),
        "POST": roles(NOT_FOUND, collector_a=OK, supervisor_x=OK, admin=OK),
    },
    "api:schema": api_get_only(signed_in()),
    "api:docs": api_get_only(signed_in()),
    "api:account-list": api_get_only(signed_in()),
    "api:account-detail": api_get_only(
        # Accounts are read by branch for supervisors: X's branch holds A's account.
        roles(NOT_FOUND, collector_a=OK, supervisor_x=OK, manager=OK, admin=OK)
    ),
    "api:case-list": {"GET": signed_in(), "POST": supervisors_only()},
    "api:case-detail": api_get_only(case_readers()),
    "api:case-assign": {
        "GET": signed_in(NOT_ALLOWED),
        "POST": roles(FORBIDDEN, supervisor_x=OK, supervisor_y=NOT_FOUND, admin=OK),
    },
    "api:case-transition": {"GET": signed_in(NOT_ALLOWED), "POST": case_actors()},
    "api:visit-list": {"GET": signed_in(), "POST": case_actors()},
    "api:visit-detail": api_get_only(case_readers()),
    "api:promise-list": {"GET": signed_in(), "POST": case_actors()},
    "api:promise-detail": api_get_only(case_readers()),
    "api:plan-list": {"GET": signed_in(), "POST": case_actors()},
    "api:plan-detail": api_get_only(case_readers()),
    "api:plan-approve": {
        "GET": signed_in(NOT_ALLOWED),
        "POST": {**case_readers(), "collector_a": FORBIDDEN, "manager": FORBIDDEN},
    },
    "api:plan-reject": {
        "GET": signed_in(NOT_ALLOWED),
        "POST": {**case_readers(), "collector_a": FORBIDDEN, "manager": FORBIDDEN},
    },
    "api:payment-list": {"GET": signed_in(), "POST": case_actors()},
    "api:payment-detail": api_get_only(case_readers()),
    "api:finance-list": {"GET": signed_in(), "POST": case_actors()},
    "api:finance-detail": api_get_only(case_readers()),
    "api:finance-figure-detail": api_get_only(case_readers()),
    "api:finance-figure-evidence": {"GET": signed_in(NOT_ALLOWED), "POST": case_actors()},
    "api:finance-figure-verify": {"GET": signed_in(NOT_ALLOWED), "POST": case_actors()},
    "api:finance-figure-unverify": {"GET": signed_in(NOT_ALLOWED), "POST": case_actors()},
    "api:screening-list": {
        "GET": supervisors_and_managers(),
        # The role check comes before the method check here: collectors are refused whatever they send.
        "POST": roles(NOT_ALLOWED, collector_a=FORBIDDEN, collector_a2=FORBIDDEN, collector_b=FORBIDDEN),
    },
    "api:not-found": {"GET": signed_in(NOT_FOUND), "POST": signed_in(NOT_FOUND)},
    # The daily feed (supervisor X's job): importers only; the role check comes before the method check.
    "api:import-list": {"GET": supervisors_only(), "POST": supervisors_only()},
    "api:import-detail": {
        "GET": roles(FORBIDDEN, supervisor_x=OK, supervisor_y=NOT_FOUND, admin=OK),
        "POST": roles(FORBIDDEN, supervisor_x=NOT_ALLOWED, supervisor_y=NOT_ALLOWED, admin=NOT_ALLOWED),
    },
    "api:import-errors": {
        "GET": roles(FORBIDDEN, supervisor_x=OK, supervisor_y=NOT_FOUND, admin=OK),
        "POST": roles(FORBIDDEN, supervisor_x=NOT_ALLOWED, supervisor_y=NOT_ALLOWED, admin=NOT_ALLOWED),
    },
}

# Django admin: every page without an object id, GET only. Non-staff users go to the admin's login.
ADMIN_GET = roles(LOGIN, admin=OK)
ADMIN_EXCEPTIONS = {
    "admin:login": public(),
    # Logging out is a POST; a GET by anyone but staff is sent to the admin index (and on to its login).
    "admin:logout": roles(OK, admin=NOT_ALLOWED),
    # The autocomplete needs its query parameters; the audit trail and axes' records are never added by hand.
    "admin:autocomplete": roles(LOGIN, admin=FORBIDDEN),
    "admin:axes_accessattempt_add": roles(LOGIN, admin=FORBIDDEN),
    "admin:axes_accessfailurelog_add": roles(LOGIN, admin=FORBIDDEN),
    "admin:axes_accesslog_add": roles(LOGIN, admin=FORBIDDEN),
    "admin:collections_app_auditlog_add": roles(LOGIN, admin=FORBIDDEN),
    # Tallies are written by tasks only (README, "Dashboard"): nobody adds one by hand.
    "admin:dashboard_daytally_add": roles(LOGIN, admin=FORBIDDEN),
    "admin:dashboard_statetally_add": roles(LOGIN, admin=FORBIDDEN),
    "admin:dashboard_tallymark_add": roles(LOGIN, admin=FORBIDDEN),
    # Tokens are issued through the API only.
    "admin:credentials_apitoken_add": roles(LOGIN, admin=FORBIDDEN),
    # Risk rows are written by services, tasks and their own pages (README, "Risk and early warning").
    "admin:risk_carecase_add": roles(LOGIN, admin=FORBIDDEN),
    "admin:risk_riskmodel_add": roles(LOGIN, admin=FORBIDDEN),
    "admin:risk_riskscore_add": roles(LOGIN, admin=FORBIDDEN),
    "admin:risk_statementimport_add": roles(LOGIN, admin=FORBIDDEN),
    "admin:risk_strategy_add": roles(LOGIN, admin=FORBIDDEN),
    "admin:risk_strategyassignment_add": roles(LOGIN, admin=FORBIDDEN),
}

# --- objects and bodies ---------------------------------------------------------------------------------

URL_OBJECTS: dict[str, Callable[[World], dict]] = {
    "case-detail": lambda w: {"pk": w.case.pk},
    "complaint-create": lambda w: {"pk": w.case.pk},
    "case-link": lambda w: {"pk": w.case.pk},
    "link-revoke": lambda w: {"pk": w.link.pk},
    "borrower-page": lambda w: {"token": voice_links.sign(w.link)},
    "complaint-detail": lambda w: {"pk": w.complaint.pk},
    "complaint-acknowledge": lambda w: {"pk": w.complaint.pk},
    "case-transition": lambda w: {"pk": w.case.pk},
    "contact-point-status": lambda w: {"pk": w.case.pk},
    "case-assign": lambda w: {"pk": w.case.pk},
    "contact-attempt-create": lambda w: {"pk": w.case.pk},
    "case-preparation": lambda w: {"pk": w.case.pk},
    "visit-create": lambda w: {"pk": w.case.pk},
    "visit-detail": lambda w: {"pk": w.visit.pk},
    "visit-photo": lambda w: {"pk": w.photo.pk},
    "pii-reveal": lambda w: {"borrower_id": w.borrower.pk, "field": "national_id"},
    "sync-conflict-detail": lambda w: {"pk": w.conflict.pk},
    "sync-conflict-discard": lambda w: {"pk": w.conflict.pk},
    "case-negotiate": lambda w: {"case_id": w.case.pk},
    "payment-create": lambda w: {"case_id": w.case.pk},
    "plan-detail": lambda w: {"plan_id": w.plan.pk},
    "plan-agreement": lambda w: {"plan_id": w.plan.pk},
    "plan-submit": lambda w: {"plan_id": w.plan.pk},
    "plan-cancel": lambda w: {"plan_id": w.plan.pk},
    "plan-approve": lambda w: {"plan_id": w.plan.pk},
    "plan-reject": lambda w: {"plan_id": w.plan.pk},
    "promise-cancel": lambda w: {"promise_id": w.promise.pk},
    "payment-receipt": lambda w: {"payment_id": w.payment.pk},
    "case-finances": lambda w: {"case_id": w.case.pk},
    "finance-figure-evidence": lambda w: {"figure_id": w.figure.pk},
    "finance-figure-verify": lambda w: {"figure_id": w.figure.pk},
    "finance-evidence": lambda w: {"pk": w.finance_evidence.pk},
    "notification-read": lambda w: {"pk": w.notification.pk},
    "import-progress": lambda w: {"pk": w.import_job.pk},
    "import-report": lambda w: {"pk": w.import_job.pk},
    "case-legal": lambda w: {"pk": w.case.pk},
    "review-detail": lambda w: {"pk": w.review.pk},
    "collector-quality": lambda w: {"pk": w.cast.collector_a.pk},
    "review-reply": lambda w: {"pk": w.review.pk},
    "review-pick": lambda w: {"pk": w.visit.pk},
    "safety-check-in": lambda w: {"pk": w.case.pk},
    "playbook-edit": lambda w: {"pk": w.playbook.pk},
    "playbook-use": lambda w: {"pk": w.case.pk, "playbook_id": w.playbook.pk},
    "safety-check-out": lambda w: {"pk": w.checkin.pk},
    "evidence-pack-pdf": lambda w: {"pk": w.pack.pk},
    "evidence-pack-manifest": lambda w: {"pk": w.pack.pk},
    "api:account-detail": lambda w: {"pk": w.case.account_id},
    "api:case-detail": lambda w: {"pk": w.case.pk},
    "api:case-assign": lambda w: {"pk": w.case.pk},
    "api:case-transition": lambda w: {"pk": w.case.pk},
    "api:visit-detail": lambda w: {"pk": w.visit.pk},
    "api:promise-detail": lambda w: {"pk": w.promise.pk},
    "api:plan-detail": lambda w: {"pk": w.plan.pk},
    "api:plan-approve": lambda w: {"pk": w.plan.pk},
    "api:plan-reject": lambda w: {"pk": w.plan.pk},
    "api:payment-detail": lambda w: {"pk": w.payment.pk},
    "api:finance-detail": lambda w: {"pk": w.declaration.pk},
    "api:finance-figure-detail": lambda w: {"pk": w.figure.pk},
    "api:finance-figure-evidence": lambda w: {"pk": w.figure.pk},
    "api:finance-figure-verify": lambda w: {"pk": w.figure.pk},
    "api:finance-figure-unverify": lambda w: {"pk": w.figure.pk},
    "token-revoke-user": lambda w: {"pk": w.cast.collector_a.pk},
    "api:import-detail": lambda w: {"pk": w.import_job.pk},
    "api:import-errors": lambda w: {"pk": w.import_job.pk},
    "api:user-tokens-revoke": lambda w: {"pk": w.cast.collector_a.pk},
    "statement-import-progress": lambda w: {"pk": w.risk.job.pk},
    "care-open": lambda w: {"account_id": w.risk.account.pk},
    "care-detail": lambda w: {"pk": w.risk.care.pk},
    "strategy-toggle": lambda w: {"pk": w.risk.strategy.pk},
    "api-risk-account": lambda w: {"pk": w.case.account_id},
}
# Paths that cannot be reversed (a catch-all regex) or need a query string to aim at A's objects.
PATHS: dict[str, Callable[[World], str]] = {
    "api:not-found": lambda w: "/api/v1/no-such-endpoint/",
    "today": lambda w: reverse("today") + f"?collector={w.cast.collector_a.pk}",
}
# Minimal bodies that would succeed for an allowed user, so a refusal is the access rule, not the form.
POST_DATA: dict[str, Callable[[World], dict]] = {
    "case-transition": lambda w: {"target": "closed", "close_reason": "cured"},
    "contact-point-status": lambda w: {
        "kind": "address",
        "point": w.case.account.borrower.addresses.first().pk,
        "status": "confirmed",
    },
    "case-assign": lambda w: {"collector": w.cast.collector_a2.pk, "reason": "Holiday cover"},
    "api:case-assign": lambda w: {"collector": w.cast.collector_a2.pk, "reason": "Holiday cover"},
    "api:case-transition": lambda w: {"target": "closed", "close_reason": "cured"},
    "today": lambda w: {"action": "reset"},
    "plan-reject": lambda w: {"note": "Too generous"},
    "complaint-create": lambda w: {"category": "conduct", "text": "Rude on the phone."},
    "complaint-detail": lambda w: {"note": "Fee corrected."},
    "borrower-page": lambda w: {"action": "confirm"},
    "api:plan-reject": lambda w: {"note": "Too generous"},
    # Creating through the API names the case in the body: A's case, in follow-up.
    "api:visit-list": lambda w: {
        "case": w.case.pk,
        "idempotency_key": "5b0c3f52-7e0a-4b8e-9d7e-2f1f3c9a6b11",
        "checked_in_at": (WORLD_TIME - dt.timedelta(minutes=40)).isoformat(),
        "identity_confirmed": True,
        "met": "borrower",
        "outcome": "other",
    },
    "api:promise-list": lambda w: {"case": w.case.pk, "amount": "10.00", "due_date": _in_days(7)},
    "api:plan-list": lambda w: {
        "case": w.case.pk,
        "kind": "instalments",
        "base_amount": "100.00",
        "first_due_date": _in_days(30),
    },
    "api:payment-list": lambda w: {"case": w.case.pk, "amount": "10.00", "paid_on": _in_days(0), "channel": "cash"},
    "api:finance-list": lambda w: {
        "case": w.case.pk,
        "source": "negotiation",
        "figures": [{"kind": "salary", "amount": "100.00"}],
    },
    "api:finance-figure-verify": lambda w: {"evidence": w.finance_evidence.pk},
    "api:finance-figure-unverify": lambda w: {"note": "The payslip is a year old."},
}


def _in_days(days: int) -> str:
    return (timezone.localdate() + dt.timedelta(days=days)).isoformat()


# --- walking the resolver ---------------------------------------------------------------------------


def _walk(patterns, namespace=""):
    for entry in patterns:
        if isinstance(entry, URLResolver):
            ns = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            yield from _walk(entry.url_patterns, ns)
        elif isinstance(entry, URLPattern) and entry.name:
            yield f"{namespace}{entry.name}", entry


def url_names() -> dict[str, URLPattern]:
    return dict(_walk(get_resolver().url_patterns))


def _has_kwargs(pattern: URLPattern) -> bool:
    return bool(pattern.pattern.regex.groupindex) or pattern.pattern.regex.groups > 0


def _targets(world: World):
    """(name, method, path, body, expected-by-role) for every URL pattern."""
    for name, pattern in sorted(url_names().items()):
        if name not in EXPECTED and not name.startswith("admin:"):
            continue  # test_every_url_has_an_expectation_and_every_expectation_a_url names it
        if name.startswith("admin:"):
            if not _has_kwargs(pattern):
                yield name, "GET", reverse(name), None, ADMIN_EXCEPTIONS.get(name, ADMIN_GET)
            continue
        if name in PATHS:
            path = PATHS[name](world)
        elif _has_kwargs(pattern):
            if name not in URL_OBJECTS:
                continue
            path = reverse(name, kwargs=URL_OBJECTS[name](world))
        else:
            path = reverse(name)
        body = POST_DATA[name](world) if name in POST_DATA else {}
        for method in ("GET", "POST"):
            yield name, method, path, body, EXPECTED[name][method]


# --- requests and outcomes ------------------------------------------------------------------------------


def _is_login(response) -> bool:
    location = response.headers.get("Location", "")
    return location.startswith((reverse("login"), "/admin/login/"))


def classify(response, *, path: str, role: str, method: str) -> str:
    status = response.status_code
    if role == "anon" and path.startswith("/api/") and status in (401, 403):
        return LOGIN
    if status in (301, 302, 303) and _is_login(response):
        return LOGIN
    if status == 403:
        return FORBIDDEN
    if status == 404:
        return NOT_FOUND
    if status == 405:
        return NOT_ALLOWED
    if status < 400 or (status in (400, 409) and method == "POST"):
        return OK
    return f"HTTP {status}"


def _request(client, method: str, path: str, body: dict) -> object:
    """One request in a rolled-back savepoint, keeping the session cookie (a POST may log out)."""
    cookie = client.cookies.get(settings.SESSION_COOKIE_NAME)
    with transaction.atomic():
        if method == "GET":
            response = client.get(path)
        elif path.startswith("/api/"):
            response = client.post(path, json.dumps(body), content_type="application/json")
        else:
            response = client.post(path, body)
        transaction.set_rollback(True)
    if cookie is not None:
        client.cookies[settings.SESSION_COOKIE_NAME] = cookie.value
    return response


@pytest.fixture
def world(cast, case_a, time_machine, settings, tmp_path) -> World:
    time_machine.move_to(WORLD_TIME, tick=True)
    settings.MEDIA_ROOT = tmp_path / "media"
    return build_world(cast, case_a)


def test_every_url_has_an_expectation_and_every_expectation_a_url():
    names = {n for n in url_names() if not n.startswith("admin:")}
    missing = sorted(names - set(EXPECTED))
    stale = sorted(set(EXPECTED) - names)
    needs_object = sorted(n for n in names - set(URL_OBJECTS) - set(PATHS) if _has_kwargs(url_names()[n]))
    problems = [f"add an expectation for {name!r} to EXPECTED" for name in missing]
    problems += [f"{name!r} is in EXPECTED but no URL has that name any more" for name in stale]
    problems += [f"add URL_OBJECTS[{name!r}]: which of A's objects its URL takes" for name in needs_object]
    for name, methods in EXPECTED.items():
        for method in ("GET", "POST"):
            table = methods.get(method, {})
            if set(table) != set(ROLES):
                problems.append(f"EXPECTED[{name!r}][{method!r}] must name every role: {sorted(ROLES)}")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("role", ROLES)
def test_access_matrix(client, world, role):
    user = world.user(role)
    if user is not None:
        client.force_login(user)
    mismatches = []
    for name, method, path, body, expected in _targets(world):
        try:
            response = _request(client, method, path, body)
        except Exception as exc:  # noqa: BLE001 - a crash is a finding like any other mismatch
            mismatches.append(f"{method} {path} ({name}) as {role}: raised {exc!r}")
            continue
        got = classify(response, path=path, role=role, method=method)
        if got != expected[role]:
            mismatches.append(f"{method} {path} ({name}) as {role}: expected {expected[role]}, got {got}")
    assert not mismatches, f"{len(mismatches)} mismatch(es):\n" + "\n".join(mismatches)
