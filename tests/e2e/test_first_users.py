"""What the first users hit, in a real browser at 375 px and on a desktop, in both languages."""
# ruff: noqa: RUF001  -- the expected Chinese texts use Chinese (full-width) punctuation, as the catalogue does.

import datetime as dt
import io
import re
import uuid
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command
from django.utils import timezone
from playwright.sync_api import expect

from collections_app.models import AuditLog, Case, Stage
from collections_app.services.screening import accounts_refresh_screening_keys
from repayment.models import PromiseToPay, RepaymentPlan
from repayment.services import plan_propose
from tests.e2e.conftest import DESKTOP, PHONE, PageWatch, horizontal_overflow, overflowing_elements
from tests.e2e.tour import DEMO_PASSWORD
from tests.factories import PASSWORD, AccountFactory, agreement_ready
from tests.offline.conftest import planned_case  # noqa: F401 — the fixture
from visits.models import Party, Visit

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def _page(browser, live_server, options, locale="en-US"):
    context = browser.new_context(base_url=live_server.url, locale=locale, timezone_id="Asia/Shanghai", **options)
    context.set_default_timeout(15_000)
    return context, context.new_page()


def _log_in(page, username, next_url):
    page.goto(f"/accounts/login/?next={next_url}")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"**{next_url}")


@pytest.mark.parametrize("options,folded", [(PHONE, True), (DESKTOP, False)], ids=["phone", "desktop"])
def test_screening_filters_fold_on_a_phone_so_the_list_starts_on_the_first_screen(
    browser, live_server, cast, options, folded
):
    for _ in range(3):
        AccountFactory(branch=cast.branch_a)
    accounts_refresh_screening_keys()
    context, page = _page(browser, live_server, options)
    watch = PageWatch(page)
    try:
        _log_in(page, "supervisor_x", "/screening/")
        filters = page.locator("[data-testid=screening-filters]")
        assert filters.evaluate("d => d.open") is (not folded)
        first_row = page.locator("table tbody tr").first.bounding_box()
        assert first_row is not None
        if folded:
            assert first_row["y"] + first_row["height"] <= options["viewport"]["height"]
        filters.locator("summary").click()  # the filters are one tap away
        assert filters.evaluate("d => d.open") is folded
        assert watch.errors == []
    finally:
        context.close()


@pytest.mark.parametrize("options,folded", [(PHONE, True), (DESKTOP, False)], ids=["phone", "desktop"])
def test_dashboard_filters_fold_on_a_phone_and_stay_open_when_they_hold_an_error(
    browser, live_server, cast, options, folded
):
    context, page = _page(browser, live_server, options, locale="zh-CN")
    watch = PageWatch(page)
    try:
        _log_in(page, "manager", "/dashboard/")
        filters = page.locator("[data-testid=dashboard-filters]")
        assert filters.evaluate("d => d.open") is (not folded)
        expect(filters.locator("summary")).to_contain_text("筛选")
        expect(filters.locator("summary")).to_contain_text("本月")  # the period in force, seen while folded
        if folded:
            heading = page.get_by_role("heading", name="资产组合").bounding_box()
            assert heading is not None and heading["y"] + heading["height"] <= options["viewport"]["height"]
        page.goto("/dashboard/?period=custom&date_from=2026-05-01")  # a custom period without its end
        filters = page.locator("[data-testid=dashboard-filters]")
        assert filters.evaluate("d => d.open") is True
        expect(filters).to_contain_text("自定义期间须同时填写开始日期和结束日期")
        assert watch.errors == []
    finally:
        context.close()


def test_dashboard_charts_over_buckets_and_classes_draw_bars_not_lines(browser, live_server, cast):
    for _ in range(3):
        AccountFactory(branch=cast.branch_a)
    context, page = _page(browser, live_server, DESKTOP)
    watch = PageWatch(page)
    try:
        _log_in(page, "manager", "/dashboard/")
        for chart in ("chart-aging", "chart-classification"):
            types = page.evaluate(
                "id => { const c = Chart.getChart(document.getElementById(id));"
                " return c.config.data.datasets.map(d => d.type || c.config.type); }",
                chart,
            )
            assert types == ["bar", "bar"], chart
        assert watch.errors == []
    finally:
        context.close()


@pytest.mark.parametrize("locale", ["zh-CN", "en-US"])
def test_date_fields_open_with_their_default_date_in_both_languages(browser, live_server, cast, case_in_stage, locale):
    case = case_in_stage(Stage.NEGOTIATION)
    context, page = _page(browser, live_server, PHONE, locale=locale)
    try:
        _log_in(page, "collector_a", f"/cases/{case.pk}/negotiate/")
        for name in ("promise-due_date", "plan-first_due_date"):
            assert page.locator(f"input[name={name}]").input_value() != "", name
        page.goto(f"/cases/{case.pk}/payments/new/")
        assert page.locator("input[name=paid_on]").input_value() != ""
    finally:
        context.close()


# --- 4. The approval page leads with affordability; approving against it needs a note -----------------

ZH, EN = "zh-CN", "en-US"
# Each finding at 375 px in Chinese and on a desktop in English: both widths, both languages.
PHONE_ZH, DESKTOP_EN = (PHONE, ZH), (DESKTOP, EN)
BOTH = pytest.mark.parametrize(("options", "locale"), [PHONE_ZH, DESKTOP_EN], ids=["phone-zh", "desktop-en"])
WORDS = {
    EN: {
        "warning": "The instalment is above the borrower's monthly capacity. Approving needs a note saying why.",
        "refused": "The instalment is above the borrower's monthly capacity: say in the note why you approve it.",
        "approved": "Plan approved: it is active now.",
        "needs_approval": "Needs a supervisor's approval",
        "record": ("kept 2", "broken 1"),
        "approve": "Approve",
        "active": "Active",
        "no_promise_due": "No promise was due",
        "kept_rate": "Kept rate",
        "assignments": "Assignments",
        "opened": "Opened 2 cases.",
        "assign_them": "Assign them",
        "auto_assigned": "Auto-assigned 2 cases.",
        "see_workload": "See the workload",
        "log_visit": "Log a visit",
        "record_payment": "Record a payment",
        "negotiate_plan": "Negotiate a plan",
        "call": "Call",
        "navigate": "Navigate",
        "leaving": "Leaving at 08:00.",
        "not_enough_history": "not enough history",
    },
    ZH: {
        "warning": "单期金额超出借款人每月还款能力。如仍批准，须在备注中说明理由。",
        "refused": "单期金额超出借款人每月还款能力：请在备注中说明批准理由。",
        "approved": "方案已批准，现已生效。",
        "needs_approval": "需要主管审批",
        "record": ("已履行 2", "已违约 1"),
        "approve": "批准",
        "active": "执行中",
        "no_promise_due": "期内没有到期的承诺",
        "kept_rate": "履约率",
        "assignments": "案件分配",
        "opened": "已立案 2 件。",
        "assign_them": "去分配",
        "auto_assigned": "已自动分配 2 件案件。",
        "see_workload": "查看工作量",
        "log_visit": "登记走访",
        "record_payment": "登记还款",
        "negotiate_plan": "协商还款方案",
        "call": "拨打",
        "navigate": "导航",
        "leaving": "出发时间 08:00。",
        "not_enough_history": "历史数据不足",
    },
}


def _declared_finances(case, collector, *, income: str, expenses: str) -> None:
    """A visit that recorded the borrower's income and expenses: what the capacity is computed from."""
    Visit.objects.create(
        case=case,
        collector=collector,
        idempotency_key=uuid.uuid4(),
        checked_in_at=timezone.now() - dt.timedelta(days=1),
        identity_confirmed=True,
        met=Party.BORROWER,
        outcome=Visit.Outcome.AGREED_PLAN,
        monthly_income=Decimal(income),
        monthly_expenses=Decimal(expenses),
        other_debt_payments=Decimal("0.00"),
    )


@BOTH
def test_the_approval_page_leads_with_affordability_and_approving_against_it_needs_a_note(
    browser, live_server, cast, case_in_stage, options, locale
):
    case = case_in_stage(Stage.NEGOTIATION)
    # Income 3,000 - expenses 2,000: half the 1,000 left = ¥500 a month; 24,000 over 24 months = ¥1,000.
    _declared_finances(case, cast.collector_a, income="3000.00", expenses="2000.00")
    past = timezone.localdate() - dt.timedelta(days=30)
    for status in (PromiseToPay.Status.KEPT, PromiseToPay.Status.KEPT, PromiseToPay.Status.BROKEN):
        agreement_ready(case, cast.collector_a, status=status, due_date=past)
    plan = plan_propose(
        case=case,
        actor=cast.collector_a,
        kind=RepaymentPlan.Kind.INSTALMENTS,
        base_amount=Decimal("24000.00"),
        instalment_count=24,
        first_due_date=timezone.localdate() + dt.timedelta(days=10),
    )
    assert plan.status == RepaymentPlan.Status.PENDING_APPROVAL
    words = WORDS[locale]
    context, page = _page(browser, live_server, options, locale=locale)
    watch = PageWatch(page)
    try:
        _log_in(page, "supervisor_x", f"/plans/{plan.pk}/")
        facts = page.locator("#plan-facts")
        assert facts.get_attribute("data-fits") == "no"
        assert "1,000.00" in facts.locator("[data-instalment-max]").inner_text()
        assert "500.00" in facts.locator("[data-capacity]").inner_text()
        expect(facts.locator("[data-warning=unaffordable]")).to_have_text(words["warning"])
        record = facts.locator("[data-promise-record]").inner_text()
        assert all(part in record for part in words["record"]), record
        # Affordability first, then the schedule folded, then the decision.
        schedule = page.locator("details:has([data-schedule])")
        assert schedule.evaluate("d => d.open") is False
        assert not page.locator("[data-schedule]").is_visible()
        decision = page.locator("#decision")
        tops = [box.bounding_box()["y"] for box in (facts, schedule, decision)]
        assert tops == sorted(tops), tops
        assert horizontal_overflow(page) <= 0, overflowing_elements(page)

        # Without a note the approval is refused, and the page says why.
        decision.get_by_role("button", name=words["approve"], exact=True).click()
        page.wait_for_url(f"**/plans/{plan.pk}/")
        expect(page.locator(".alert-danger")).to_contain_text(words["refused"])
        plan.refresh_from_db()
        assert plan.status == RepaymentPlan.Status.PENDING_APPROVAL and plan.decided_by is None

        note = "Her employer confirmed a raise from next month."
        page.locator("#decision textarea[name=note]").fill(note)
        page.locator("#decision").get_by_role("button", name=words["approve"], exact=True).click()
        expect(page.locator(".alert-success")).to_contain_text(words["approved"])
        expect(page.locator("[data-plan-status]")).to_have_attribute("data-plan-status", "active")
        expect(page.locator("[data-plan-status]")).to_have_text(words["active"])
        assert words["needs_approval"] not in page.locator("main").inner_text()
        assert page.locator("#decision").count() == 0
        plan.refresh_from_db()
        assert plan.status == RepaymentPlan.Status.ACTIVE
        assert (plan.decided_by, plan.decision_note) == (cast.supervisor_x, note)
        assert watch.errors == [] and watch.dialogs == []
    finally:
        context.close()


# --- 5. A kept rate with nothing due reads "—" ------------------------------------------------------


@BOTH
def test_a_kept_rate_with_no_promise_due_reads_a_dash_not_zero_percent(
    browser, live_server, cast, case_in_stage, options, locale
):
    case_in_stage(Stage.NEGOTIATION)  # work on the team, but no promise due in the period
    words = WORDS[locale]
    context, page = _page(browser, live_server, options, locale=locale)
    watch = PageWatch(page)
    try:
        _log_in(page, "supervisor_x", "/dashboard/")
        headline = page.locator("[data-kpi=kept-rate]")
        expect(headline).to_have_text("—")
        card = page.locator(".card-body:has([data-kpi=kept-rate])")
        expect(card).to_contain_text(words["no_promise_due"])
        rows = page.locator("#table-collectors tbody tr")
        assert rows.count() == 2  # collector_a and collector_a2
        headers = [th.strip() for th in page.locator("#table-collectors thead th").all_inner_texts()]
        kept_column = headers.index(words["kept_rate"])
        for index in range(rows.count()):
            cell = rows.nth(index).locator("td").nth(kept_column)
            assert cell.inner_text().strip() == "—", cell.inner_text()
            assert cell.locator("[title]").get_attribute("title") == words["no_promise_due"]
        assert "0%" not in card.inner_text(), "a rate of nothing would read as a bad score"
        assert horizontal_overflow(page) <= 0, overflowing_elements(page)
        assert watch.errors == []
    finally:
        context.close()


# --- 6. A supervisor finds Assignments in the menu; batch messages link onward and say who got what --


@BOTH
def test_a_supervisor_finds_assignments_in_the_menu_and_the_batch_messages_lead_onward(
    browser, live_server, cast, options, locale
):
    accounts = [AccountFactory(branch=cast.branch_a) for _ in range(2)]
    accounts_refresh_screening_keys()
    words = WORDS[locale]
    context, page = _page(browser, live_server, options, locale=locale)
    watch = PageWatch(page)
    try:
        _log_in(page, "supervisor_x", "/")
        menu = page.locator("#main-nav")
        if options is PHONE:  # folded behind the menu button on a phone
            assert not menu.get_by_role("link", name=words["assignments"]).is_visible()
            page.locator(".navbar-toggler").click()
        menu.get_by_role("link", name=words["assignments"]).click()
        page.wait_for_url("**/assignments/")

        page.goto("/screening/")
        for account in accounts:
            page.locator(f"input.js-select-row[value='{account.pk}']").check()
        page.locator("[data-testid=open-actions] button[value=selected]").click()
        opened = page.locator(".alert-success")
        expect(opened).to_contain_text(words["opened"])
        assert opened.get_by_role("link", name=words["assign_them"]).get_attribute("href") == "/assignments/"
        opened.get_by_role("link", name=words["assign_them"]).click()
        page.wait_for_url("**/assignments/")

        watch.accept_next_dialog()
        page.get_by_test_id("auto-assign").click()
        assigned = page.locator(".alert-success")
        expect(assigned).to_contain_text(words["auto_assigned"])
        cases = list(Case.objects.filter(account__in=accounts).select_related("assigned_collector"))
        assert len(cases) == 2 and all(case.assigned_collector is not None for case in cases)
        for collector in {case.assigned_collector for case in cases}:
            got = sum(case.assigned_collector == collector for case in cases)
            separator = "：" if locale == ZH else ": "
            assert f"{collector.username}{separator}{got}" in assigned.inner_text(), assigned.inner_text()
        workload = assigned.get_by_role("link", name=words["see_workload"])
        assert workload.get_attribute("href") == "/workload/"
        assert horizontal_overflow(page) <= 0, overflowing_elements(page)
        workload.click()
        page.wait_for_url("**/workload/")
        assert watch.errors == [] and watch.dialogs == []
    finally:
        context.close()


# --- 8. The case page shows one way to negotiate; at the visit stage "Log a visit" leads -------------


@BOTH
def test_the_case_page_offers_one_way_to_negotiate_and_leads_with_log_a_visit(
    browser, live_server, cast, case_in_stage, options, locale
):
    case = case_in_stage(Stage.VISIT)
    words = WORDS[locale]
    negotiate_links = f"main a[href='/cases/{case.pk}/negotiate/']"
    context, page = _page(browser, live_server, options, locale=locale)
    watch = PageWatch(page)
    try:
        _log_in(page, "collector_a", f"/cases/{case.pk}/")
        log_visit = page.locator("#actions").get_by_role("link", name=words["log_visit"])
        assert "btn-primary" in log_visit.get_attribute("class").split()
        record_payment = page.get_by_role("link", name=words["record_payment"])
        assert "btn-primary" not in record_payment.get_attribute("class").split()
        assert page.locator("#actions .btn-primary").all_inner_texts() == [log_visit.inner_text()]
        assert log_visit.bounding_box()["y"] < record_payment.bounding_box()["y"]
        assert page.locator(negotiate_links).count() == 1
        assert horizontal_overflow(page) <= 0, overflowing_elements(page)

        case_in_stage(Stage.NEGOTIATION)
        page.reload()
        assert page.locator(negotiate_links).count() == 1
        negotiate = page.locator(negotiate_links)
        expect(negotiate).to_have_text(words["negotiate_plan"])
        assert negotiate.get_attribute("data-action") == "negotiate"
        moves = page.locator("#actions [data-transition]").all_inner_texts()
        assert moves and not any(words["negotiate_plan"] in move for move in moves), moves
        assert words["negotiate_plan"] not in page.locator("#repayment-panel").inner_text()
        assert horizontal_overflow(page) <= 0, overflowing_elements(page)
        assert watch.errors == []
    finally:
        context.close()


# --- 7 and 10. Today's route honours planned times, offers call and navigate, speaks plain Chinese --

SHANGHAI = ZoneInfo("Asia/Shanghai")
# ASCII punctuation touching Chinese text: an English comma or full stop inside a Chinese sentence.
ASCII_IN_CHINESE = re.compile(r"[\u3400-\u9fff][,.;!?]|[,;!?]\s*[\u3400-\u9fff]|[\d\u3400-\u9fff]\.\s+[\u3400-\u9fff]")
CHINESE = re.compile(r"[\u3400-\u9fff]")


def _english_punctuation_in_chinese(text: str) -> list[str]:
    """The lines of Chinese text with an ASCII comma or full stop in or at the end of a sentence."""
    return [
        line
        for line in text.splitlines()
        if CHINESE.search(line) and (ASCII_IN_CHINESE.search(line) or line.rstrip().endswith("."))
    ]


@pytest.fixture
def early_morning(time_machine):
    """Tomorrow 07:50 in Suzhou, before the quiet hours end at 08:00: the day leaves at 08:00.

    In the future, so the browser (whose clock is not moved) keeps the session cookie."""
    tomorrow = dt.datetime.now(SHANGHAI).date() + dt.timedelta(days=1)
    time_machine.move_to(dt.datetime.combine(tomorrow, dt.time(7, 50), SHANGHAI), tick=True)
    return tomorrow


@pytest.fixture
def two_stops(early_morning, planned_case):  # noqa: F811
    """Two visits planned for the day, at 09:00 and 10:30, a few hundred metres apart."""
    first = planned_case(31.300, 120.600, when=dt.datetime.combine(early_morning, dt.time(9, 0), SHANGHAI))
    later = planned_case(31.305, 120.600, when=dt.datetime.combine(early_morning, dt.time(10, 30), SHANGHAI))
    return first, later


def _etas(page, scope: str) -> dict[int, str]:
    stops = page.locator(f"{scope} [data-stop]")
    return {int(stop.get_attribute("data-stop")): stop.locator("[data-eta]").inner_text() for stop in stops.all()}


@BOTH
def test_todays_route_honours_planned_times_and_every_stop_can_be_called_and_navigated(
    browser, live_server, cast, two_stops, options, locale
):
    first, later = two_stops
    words = WORDS[locale]
    context, page = _page(browser, live_server, options, locale=locale)
    watch = PageWatch(page)
    try:
        _log_in(page, "collector_a", "/")
        # Without pressing any button: the 10:30 visit is not reached before 10:30, on the home and the route.
        assert _etas(page, "[data-testid=home-route]") == {first.pk: "09:00", later.pk: "10:30"}
        page.goto("/today/")
        assert _etas(page, "[data-route]") == {first.pk: "09:00", later.pk: "10:30"}
        expect(page.locator("main")).to_contain_text(words["leaving"])
        for case in (first, later):
            stop = page.locator(f"[data-route] [data-stop='{case.pk}']")
            expect(stop.locator("[data-action=call]")).to_have_text(words["call"])
            navigate = stop.locator("[data-action=navigate]")
            expect(navigate).to_have_text(words["navigate"])
            address = case.account.borrower.addresses.get()
            assert navigate.get_attribute("href") == f"geo:{address.lat},{address.lng}?q={address.lat},{address.lng}"
        stop = page.locator(f"[data-route] [data-stop='{later.pk}']")
        stop.locator("[data-action=call]").click()
        number = later.account.borrower.phones.get(is_primary=True).number
        expect(stop.locator("[data-action=dial]")).to_have_attribute("href", f"tel:{number}")
        assert AuditLog.objects.filter(action="pii.reveal", actor=cast.collector_a).exists()
        assert horizontal_overflow(page) <= 0, overflowing_elements(page)
        assert watch.errors == []
    finally:
        context.close()


@pytest.mark.parametrize("options", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_the_route_speaks_plain_chinese(browser, live_server, cast, two_stops, options):
    context, page = _page(browser, live_server, options, locale=ZH)
    watch = PageWatch(page)
    try:
        _log_in(page, "collector_a", "/")
        for url in ("/", "/today/"):
            page.goto(url)
            text = page.locator("main").inner_text()
            assert WORDS[ZH]["leaving"] in text, text  # a departure time, with a Chinese full stop
            assert "出发点" not in text
            assert "2-opt" not in page.content()
            assert _english_punctuation_in_chinese(text) == []
        assert watch.errors == []
    finally:
        context.close()


# --- 11. The demo tells a story on the manager's dashboard ---------------------------------------------

HEADLINE = ("recovered-amount", "recovery-rate", "kept-rate", "visits", "contacts", "closed")


@BOTH
def test_the_demo_gives_the_managers_dashboard_rates_stays_weeks_and_comparisons(
    browser, live_server, time_machine, options, locale
):
    # Mid-month, so "this month", the default period, spans three weeks whatever day the test runs on.
    # Next month: in the future, so the browser (whose clock is not moved) keeps the session cookie.
    next_month = (dt.datetime.now(SHANGHAI).date().replace(day=1) + dt.timedelta(days=32)).replace(day=20)
    time_machine.move_to(dt.datetime.combine(next_month, dt.time(10, 30), SHANGHAI), tick=True)
    call_command("seed_demo", force=True, stdout=io.StringIO())
    words = WORDS[locale]
    context, page = _page(browser, live_server, options, locale=locale)
    watch = PageWatch(page)
    try:
        page.goto("/accounts/login/?next=/dashboard/")
        page.fill("input[name=username]", "manager")
        page.fill("input[name=password]", DEMO_PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url("**/dashboard/")
        # Cure and roll rates from the back-filled snapshots, not "not enough history".
        cure = page.locator("[data-kpi=cure-rate]").inner_text()
        assert re.fullmatch(r"\d+%", cure), cure
        assert words["not_enough_history"] not in page.locator("main").inner_text()
        assert page.locator("[data-roll=not-enough-history]").count() == 0
        roll_rates = page.locator("#table-roll tbody tr td:nth-child(3)").all_inner_texts()
        assert any(re.fullmatch(r"[1-9]\d*%", rate.strip()) for rate in roll_rates), roll_rates
        # Stays of days: the stage funnel's averages are not all nothing.
        days = [cell.strip() for cell in page.locator("#table-stages tbody td:nth-child(3)").all_inner_texts()]
        stays = [float(day) for day in days if day != "—"]
        assert stays and all(stay > 0 for stay in stays), days
        # Recovered by week: more than one week with money, in the table and as bars in the chart.
        weeks = page.locator("#table-recovery tbody tr").all_inner_texts()
        assert len(weeks) > 1, weeks
        bars = page.evaluate(
            "() => Chart.getChart('chart-recovery').data.datasets[0].data.filter(amount => amount > 0).length"
        )
        assert bars > 1, bars
        # Every headline figure against the previous period.
        assert page.locator("[data-previous-period]").is_visible()
        for key in HEADLINE:
            change = page.locator(f"[data-change={key}]")
            assert change.is_visible(), key
        compared = [page.get_attribute(f"[data-change={key}]", "data-direction") for key in HEADLINE]
        assert all(direction in ("up", "down", "same") for direction in compared), compared
        assert horizontal_overflow(page) <= 0, overflowing_elements(page)
        assert watch.errors == []
    finally:
        context.close()
