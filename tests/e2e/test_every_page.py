"""Every page as every role, in a real browser on a 375 px phone (and a desktop for the screenshots).

Each URL name the project has is listed once below: a page (opened in the browser), a file or
fragment (fetched with the browser's session: CSV, photo, JSON, the service worker, an htmx
fragment), or a POST-only action (a GET is 405). A new URL that is in none of these lists fails
``test_every_url_name_is_toured``. For each role each page must answer the expected status (a
role that may not use a page gets 403 — asserted, not skipped) and, when it renders: no console
error, no failed request, no 5xx, no horizontal scrolling at 375 px, no dialog, and the borrower
named ``<img src=x onerror=alert(1)>`` shown as text. Screenshots: test-artifacts/screenshots/pages_*.
"""

import re
from dataclasses import dataclass, field

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from tests.e2e.conftest import PageWatch, horizontal_overflow, login, overflowing_elements
from tests.e2e.tour import XSS_NAME, build_tour

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

C, S, M, A = "collector", "supervisor", "manager", "admin"
ALL = frozenset({C, S, M, A})
USERNAMES = {C: "collector1", S: "supervisor1", M: "manager", A: "admin"}


@dataclass(frozen=True)
class Page:
    name: str
    args: tuple[str, ...] = ()  # Tour attribute paths giving the URL's ids
    allowed: frozenset = ALL  # roles answered 200; the others 403
    query: str = ""
    shows_xss_name: frozenset = field(default_factory=frozenset)  # roles that must see the name as text


# Pages rendered in the browser.
PAGES = [
    Page("home"),
    Page("screening", allowed=frozenset({S, M, A}), shows_xss_name=frozenset({S, M, A})),
    Page("assignments", allowed=frozenset({S, A}), shows_xss_name=frozenset({S, A})),
    Page("case-assign", ("negotiation_case.pk",), allowed=frozenset({S, A}), shows_xss_name=frozenset({S, A})),
    Page("workload", allowed=frozenset({S, M, A})),
    Page("case-list", shows_xss_name=ALL),
    Page("search", query="?q=%3Cimg", shows_xss_name=ALL),
    Page("case-detail", ("negotiation_case.pk",), shows_xss_name=ALL),
    Page("case-detail", ("follow_up_case.pk",), shows_xss_name=ALL),
    Page("import-list", allowed=frozenset({S, A})),
    Page("audit-log", allowed=frozenset({M, A})),
    Page("contact-attempt-create", ("visit_case.pk",), allowed=frozenset({C, S, A}), shows_xss_name=frozenset({C})),
    Page("case-preparation", ("visit_case.pk",), allowed=frozenset({C, S, A}), shows_xss_name=frozenset({C})),
    Page("visit-create", ("visit_case.pk",), allowed=frozenset({C, S, A}), shows_xss_name=frozenset({C})),
    Page("visit-detail", ("visit.pk",), shows_xss_name=ALL),
    Page("today", allowed=frozenset({C, S}), shows_xss_name=frozenset({C})),
    Page("today", allowed=frozenset({C, S}), query="?collector={collector.pk}", shows_xss_name=frozenset({C, S})),
    Page("sync-conflict-list"),
    Page("sync-conflict-detail", ("conflict.pk",), shows_xss_name=ALL),
    Page("case-negotiate", ("negotiation_case.pk",), allowed=frozenset({C, S, A}), shows_xss_name=frozenset({C})),
    Page("payment-create", ("follow_up_case.pk",), allowed=frozenset({C, S, A}), shows_xss_name=frozenset({C})),
    Page("plan-detail", ("pending_plan.pk",), shows_xss_name=ALL),
    Page("plan-detail", ("active_plan.pk",), shows_xss_name=ALL),
    Page("plan-agreement", ("active_plan.pk",), shows_xss_name=ALL),
    Page("payment-receipt", ("payment.pk",), shows_xss_name=ALL),
    Page("case-finances", ("negotiation_case.pk",), shows_xss_name=ALL),
    Page("notification-list"),
    Page("dashboard", allowed=frozenset({S, M, A})),
    Page("token-list", allowed=frozenset({S, A})),
    Page("complaint-create", ("negotiation_case.pk",), allowed=frozenset({C, S, A})),
    Page("complaint-list", allowed=frozenset({S, M, A})),
    Page("complaint-detail", ("complaint.pk",), allowed=frozenset({S, M, A}), shows_xss_name=frozenset({S, M, A})),
    Page("case-link", ("negotiation_case.pk",), allowed=frozenset({C, S, A})),
    Page("early-warning", allowed=frozenset({S, M, A}), shows_xss_name=frozenset({S, M, A})),
    Page("early-warning", allowed=frozenset({S, M, A}), query="?order=rise", shows_xss_name=frozenset({S, M, A})),
    Page("care-list", shows_xss_name=frozenset({C, S, M, A})),
    Page("care-detail", ("risk.care.pk",), shows_xss_name=ALL),
    Page("risk-model-card", allowed=frozenset({S, M, A})),
    Page("strategies", allowed=frozenset({S, M, A})),
    Page("statement-imports", allowed=frozenset({S, A})),
    Page("api:docs"),
    Page("evidence-verify", allowed=frozenset({M, A})),
    Page("case-legal", ("negotiation_case.pk",), allowed=frozenset({S, M, A})),
    Page("review-queue"),
    Page("my-reviews", allowed=frozenset({C})),
    Page("collector-quality", ("collector.pk",)),
    Page("review-detail", ("review.pk",)),
    Page("playbook-list", allowed=frozenset({S, M, A})),
    Page("playbook-create", allowed=frozenset({S, M, A})),
    Page("playbook-edit", ("playbook.pk",), allowed=frozenset({S, M, A})),
    Page("admin:index", allowed=frozenset({A})),
    Page("admin:collections_app_borrower_changelist", allowed=frozenset({A}), shows_xss_name=frozenset({A})),
    Page("admin:collections_app_case_changelist", allowed=frozenset({A})),
    Page("admin:repayment_repaymentplan_changelist", allowed=frozenset({A})),
    Page("admin:visits_visit_changelist", allowed=frozenset({A})),
]
# Fetched with the browser's session, not rendered: files, JSON, fragments.
FILES = [
    Page("import-progress", ("import_job.pk",), allowed=frozenset({S, A})),
    Page("import-report", ("import_job.pk",), allowed=frozenset({S, A})),
    Page("statement-import-progress", ("risk.job.pk",), allowed=frozenset({S, A})),
    Page("api-risk-account", ("risk.account.pk",), allowed=frozenset({S, M, A})),
    Page("audit-export", allowed=frozenset({M, A})),
    Page("visit-photo", ("photo.pk",)),
    Page("finance-evidence", ("finance_evidence.pk",)),
    Page("pwa-manifest"),
    Page("pwa-service-worker"),
    Page("api-dashboard", allowed=frozenset({S, M, A})),
    Page("evidence-pack-pdf", ("pack.pk",), allowed=frozenset({S, M, A})),
    Page("evidence-pack-manifest", ("pack.pk",), allowed=frozenset({S, M, A})),
    Page("healthz"),
    Page("metrics"),
    Page("javascript-catalog"),
    Page("api:schema"),
    Page("api:account-list"),
    Page("api:case-list"),
    Page("api:case-detail", ("negotiation_case.pk",)),
    Page("api:account-detail", ("negotiation_case.account_id",)),
]
# Writes only: a GET answers 405.
POST_ONLY = [
    Page("logout"),
    Page("screening-open"),
    Page("case-bulk-assign"),
    Page("case-auto-assign"),
    Page("case-transition", ("negotiation_case.pk",)),
    Page("contact-point-status", ("negotiation_case.pk",)),
    Page("pii-reveal", ("negotiation_case.account.borrower_id",), query="national_id"),
    Page("visit-sync"),
    Page("sync-conflict-discard", ("conflict.pk",)),
    Page("plan-submit", ("pending_plan.pk",)),
    Page("plan-approve", ("pending_plan.pk",)),
    Page("plan-reject", ("pending_plan.pk",)),
    Page("plan-cancel", ("pending_plan.pk",)),
    Page("promise-cancel", ("promise.pk",)),
    Page("finance-figure-evidence", ("finance_figure.pk",)),
    Page("finance-figure-verify", ("finance_figure.pk",)),
    Page("notification-read", ("notification.pk",)),
    Page("notification-read-all"),
    Page("token-revoke-user", ("collector.pk",)),
    Page("complaint-acknowledge", ("complaint.pk",)),
    Page("link-revoke", ("link.pk",)),
    Page("care-open", ("risk.account.pk",)),
    Page("strategy-toggle", ("risk.strategy.pk",)),
    Page("review-reply", ("review.pk",)),
    Page("review-pick", ("visit.pk",)),
    Page("safety-check-in", ("visit_case.pk",)),
    Page("safety-check-out", ("visit.pk",)),
    Page("safety-help"),
    Page("playbook-use", ("negotiation_case.pk", "playbook.pk")),
    Page("api:token"),
    Page("api:case-assign", ("negotiation_case.pk",)),
    Page("api:case-transition", ("negotiation_case.pk",)),
]
# Not a page of its own: the login form (every tour starts there), the language switch (a POST with
# a GET fallback redirect), the API's catch-all 404, and the borrower's own page (no staff login: it
# opens from a signed link, tests/voice).
ELSEWHERE = {"login", "set_language", "api:not-found", "borrower-page"}
# Django's admin (its pages are Django's; the tour opens the index and a few lists) and the JSON API
# (every operation is exercised per role by tests/api with schemathesis; the tour fetches a few).
OWN_TOURS = re.compile(r"^(admin|api):")


def _walk(patterns, namespace=""):
    for entry in patterns:
        if isinstance(entry, URLResolver):
            ns = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            yield from _walk(entry.url_patterns, ns)
        elif isinstance(entry, URLPattern) and entry.name:
            yield f"{namespace}{entry.name}"


def _value(tour, path: str):
    value = tour
    for part in path.split("."):
        value = getattr(value, part)
    return value


def _url(tour, page: Page) -> str:
    args = [_value(tour, a) for a in page.args]
    if page.name == "pii-reveal":
        return reverse(page.name, kwargs={"borrower_id": args[0], "field": page.query})
    return reverse(page.name, args=args) + page.query.format(collector=tour.collector)


def test_every_url_name_is_toured():
    """Every named URL is a page, a file or a POST-only action above (the admin and the API apart)."""
    listed = {p.name for p in PAGES + FILES + POST_ONLY} | ELSEWHERE
    names = set(_walk(get_resolver().url_patterns))
    assert {n for n in names if not OWN_TOURS.match(n)} - listed == set(), "URL names missing from the tour"
    assert listed - names == set(), "stale names in the tour"


def test_post_only_urls_answer_get_with_405(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    tour = build_tour(accounts=0)
    client = Client()
    client.force_login(tour.supervisor)
    wrong = {}
    for page in POST_ONLY:
        status = client.get(_url(tour, page)).status_code
        if status != 405:
            wrong[page.name] = status
    assert wrong == {}


@pytest.fixture
def tour(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return build_tour()


# Controls a thumb must hit on a collector's phone, and the smallest height each may have (CSS px).
_TOUCH_JS = """(minimum) => {
  const small = [];
  const targets = document.querySelectorAll(
    "main .btn, main button, main select, main textarea, main .form-check, main .page-link, " +
    "main input:not([type=hidden]):not([type=checkbox]):not([type=radio]), .navbar-toggler"
  );
  for (const el of targets) {
    const r = el.getBoundingClientRect();
    if (r.width === 0 || r.height === 0 || getComputedStyle(el).visibility === "hidden") continue;
    const name = `${el.tagName.toLowerCase()}.${[...el.classList].join(".")}`;
    if (r.height < minimum) small.push(`${name} ${Math.round(r.height)}px`);
  }
  return small.slice(0, 8);
}"""
# Amount fields open the numeric keyboard.
_AMOUNTS_JS = """() => [...document.querySelectorAll(
  "input[name*=amount], input[name*=income], input[name*=expenses], input[name*=debt_payments]"
)].filter((el) => el.type !== "hidden" && el.type !== "number" && el.getAttribute("inputmode") !== "decimal")
  .map((el) => el.name)"""
TOUCH_MIN_PX = 40


def _document_error(message: str, url: str, status: int) -> bool:
    """Chromium's console line for the page's own non-2xx answer (an expected 403) is not a fault."""
    return message.startswith("console: Failed to load resource") and f"status of {status}" in message


def _check_page(page, watch, tour, role: str, entry: Page, viewport: str, shoot, problems: list[str]) -> int:
    url = _url(tour, entry)
    watch.clear()
    response = page.goto(url, wait_until="load")
    status = response.status if response else 0
    expected = 200 if role in entry.allowed else 403
    where = f"{role} {viewport} {url}"
    if entry.name.startswith("admin:") and role != A:
        # Django's admin sends whoever is not staff to its own login page.
        if "/admin/login/" not in page.url:
            problems.append(f"{where}: expected the admin login, got {page.url} ({status})")
        return status
    if status != expected:
        problems.append(f"{where}: status {status}, expected {expected}")
    errors = [e for e in watch.errors if not _document_error(e, url, status)]
    if errors:
        problems.append(f"{where}: {errors}")
    if watch.dialogs:
        problems.append(f"{where}: a dialog opened: {watch.dialogs}")
    if page.locator("img[src='x']").count():
        problems.append(f"{where}: the borrower's name was rendered as HTML")
    if viewport == "phone":
        over = horizontal_overflow(page)
        if over > 0:
            problems.append(f"{where}: {over}px wider than the screen: {overflowing_elements(page)}")
    # The API's Swagger UI is a developer tool with its own widgets, not a collector page.
    if viewport == "phone" and role == C and status == 200 and not url.startswith("/api/"):
        small = page.evaluate(_TOUCH_JS, TOUCH_MIN_PX)
        if small:
            problems.append(f"{where}: touch targets under {TOUCH_MIN_PX}px: {small}")
        keyboards = page.evaluate(_AMOUNTS_JS)
        if keyboards:
            problems.append(f"{where}: amount inputs without inputmode=decimal: {keyboards}")
    if status == 200 and role in entry.shows_xss_name and not page.get_by_text(XSS_NAME).filter(visible=True).count():
        problems.append(f"{where}: the borrower's name is not shown as text")
    object_part = f"_{entry.args[0].split('.')[0]}" if entry.args else ""
    query_part = "_collector" if entry.query else ""
    shoot(page, f"pages_{role}_{entry.name.replace(':', '-')}{object_part}{query_part}_{viewport}")
    return status


@pytest.mark.parametrize("role", [C, S, M, A])
def test_every_page_as_every_role_on_a_phone(role, tour, phone, desktop, shoot):
    problems: list[str] = []
    phone_page, desktop_page = phone.new_page(), desktop.new_page()
    phone_watch, desktop_watch = PageWatch(phone_page), PageWatch(desktop_page)
    login(phone_page, USERNAMES[role])
    login(desktop_page, USERNAMES[role])
    for entry in PAGES:
        status = _check_page(phone_page, phone_watch, tour, role, entry, "phone", shoot, problems)
        if status == 200:
            _check_page(desktop_page, desktop_watch, tour, role, entry, "desktop", shoot, problems)
    for entry in FILES:
        url = _url(tour, entry)
        status = phone_page.request.get(url, max_redirects=0).status
        expected = 200 if role in entry.allowed else 403
        if status != expected:
            problems.append(f"{role} {url}: status {status}, expected {expected}")
    assert problems == [], "\n".join(problems)
