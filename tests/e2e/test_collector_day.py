"""A collector's whole field day from the home screen, on a 375 px phone.

The home opens on today's route; from it the collector calls the first borrower (the number is revealed,
audited, and offered as a ``tel:`` link; the call is then recorded as a contact attempt), has the map link
of each stop, logs three visits — the second first refused by the quiet-hours rule and saved after the
time is corrected, its photo kept on the server without choosing it again — and proposes a plan for the
borrower who agreed to one. Each step checks the page and the database.
"""

import datetime as dt
import re
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import expect

from collections_app.models import AuditLog, Stage
from repayment.models import RepaymentPlan
from tests.e2e.conftest import PHONE, PageWatch, horizontal_overflow, login, overflowing_elements
from tests.factories import PASSWORD
from tests.offline.conftest import planned_case  # noqa: F401 — the fixture
from visits.models import ContactAttempt, Visit, VisitPhoto

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("private_media"),
]
SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.fixture(autouse=True)
def _before_the_first_stop(time_machine):
    """The day's stops are planned from 11:00, in order: the day starts at 10:30, today when it is not later,
    else tomorrow (never in the past, so the browser, whose clock is not moved, keeps its session cookie)."""
    now = dt.datetime.now(SHANGHAI)
    if dt.time(9, 0) <= now.time() < dt.time(10, 30):
        return
    day = now.date() if now.time() < dt.time(9, 0) else now.date() + dt.timedelta(days=1)
    time_machine.move_to(dt.datetime.combine(day, dt.time(10, 30), SHANGHAI), tick=True)


def _local(moment: dt.datetime) -> str:
    return moment.astimezone(SHANGHAI).strftime("%Y-%m-%dT%H:%M")


def _route(page) -> list[int]:
    return [int(pk) for pk in page.locator("[data-testid=home-route] [data-stop]").evaluate_all(
        "items => items.map(item => item.dataset.stop)"
    )]  # fmt: skip


def _home(page, watch) -> None:
    page.locator("a.navbar-brand").click()
    page.wait_for_url(re.compile(r"/$"))
    assert page.get_by_test_id("home-route").is_visible()
    assert horizontal_overflow(page) <= 0, overflowing_elements(page)
    assert watch.errors == [], watch.errors


def _visit(page, case, *, start: dt.datetime, minutes: int, outcome: str, photo=None, income=False) -> None:
    page.locator(f"[data-testid=home-route] [data-stop='{case.pk}']").get_by_role("link", name="Log a visit").click()
    page.wait_for_url(re.compile(rf"/cases/{case.pk}/visits/new/$"))
    page.wait_for_load_state("networkidle")  # the form's scripts (drafts, rule hints) have run
    page.fill("input[name=checked_in_at]", _local(start))
    page.fill("input[name=checked_out_at]", _local(start + dt.timedelta(minutes=minutes)))
    page.check("input[name=identity_confirmed]")
    page.check("input[name=met][value=borrower]")
    if income:
        for name, value in (("monthly_income", "9000"), ("monthly_expenses", "4000"), ("other_debt_payments", "500")):
            page.fill(f"input[name={name}]", value)
    page.select_option("select[name=outcome]", outcome)
    if photo is not None:
        page.set_input_files("input[name=photos]", str(photo))
    page.get_by_role("button", name="Save visit and check out").click()


def test_a_collector_runs_the_whole_day_from_the_home_screen(phone, cast, planned_case, photo):  # noqa: F811
    now = dt.datetime.now(SHANGHAI)
    today = now.date()
    first = planned_case(31.300, 120.600, when=dt.datetime.combine(today, dt.time(11, 0), SHANGHAI))
    second = planned_case(31.310, 120.600, when=dt.datetime.combine(today, dt.time(12, 0), SHANGHAI))
    third = planned_case(31.320, 120.600, when=dt.datetime.combine(today, dt.time(13, 0), SHANGHAI))
    page = phone.new_page()
    watch = PageWatch(page)

    # 1. The home is today's route, in the planned order, with the phone's tab bar.
    login(page, "collector_a", PASSWORD)
    assert page.get_by_test_id("tabbar").is_visible()
    assert _route(page) == [first.pk, second.pk, third.pk]
    stop = page.locator(f"[data-testid=home-route] [data-stop='{first.pk}']")
    assert stop.get_by_role("link", name="Log a visit").is_visible()

    # 2. Call: the number is revealed (audited) as a tel: link, then the call is recorded.
    phone_row = first.account.borrower.phones.get(is_primary=True)
    stop.locator("[data-action=call]").click()
    dial = stop.locator("[data-action=dial]")
    dial.wait_for()
    assert dial.get_attribute("href") == f"tel:{phone_row.number}"
    assert AuditLog.objects.filter(action="pii.reveal", object_id=str(phone_row.pk), actor=cast.collector_a).exists()
    stop.get_by_role("link", name=first.account.borrower.name).click()
    page.wait_for_url(re.compile(rf"/cases/{first.pk}/$"))
    page.locator("#contact-attempts summary").click()
    page.select_option("#contact-attempts select[name=channel]", ContactAttempt.Channel.CALL)
    page.select_option("#contact-attempts select[name=party]", "borrower")
    page.select_option("#contact-attempts select[name=phone]", str(phone_row.pk))
    page.select_option("#contact-attempts select[name=result]", ContactAttempt.Result.ANSWERED)
    page.locator("#contact-attempts form button[type=submit]").click()
    recorded = page.locator("#contact-attempts li.list-group-item").first
    recorded.wait_for()
    assert "Phone call · Answered" in recorded.inner_text()
    attempt = ContactAttempt.objects.get(case=first)
    assert attempt.result == ContactAttempt.Result.ANSWERED and attempt.phone_number == phone_row.number

    # 3. Navigate: every stop carries the geo: link of its address for the phone's map app.
    _home(page, watch)
    for case in (first, second, third):
        address = case.account.borrower.addresses.get()
        link = page.locator(f"[data-testid=home-route] [data-stop='{case.pk}'] [data-action=navigate]")
        assert link.is_visible()
        assert link.get_attribute("href") == f"geo:{address.lat},{address.lng}?q={address.lat},{address.lng}"

    # 4. First visit: the borrower agrees to a plan; the case leaves the route for negotiation.
    _visit(page, first, start=now - dt.timedelta(minutes=90), minutes=25, outcome=Visit.Outcome.AGREED_PLAN,
           photo=photo, income=True)  # fmt: skip
    page.wait_for_url(re.compile(r"/visits/\d+/$"))
    visit = Visit.objects.get(case=first)
    assert visit.photos.count() == 1 and visit.outcome == Visit.Outcome.AGREED_PLAN
    first.refresh_from_db()
    assert first.stage == Stage.NEGOTIATION
    _home(page, watch)
    assert _route(page) == [second.pk, third.pk]

    # 5. Second visit: typed in the quiet hours, refused; the photo stays attached on the server, so only
    #    the times change before it saves.
    early = dt.datetime.combine(today, dt.time(7, 15), SHANGHAI)
    _visit(page, second, start=early, minutes=20, outcome=Visit.Outcome.NOT_HOME, photo=photo)
    page.wait_for_selector("text=quiet-hours rule")
    assert not Visit.objects.filter(case=second).exists()
    kept = page.get_by_label("door.png")
    assert kept.is_checked()
    assert page.locator("input[name=photos]").evaluate("input => input.files.length") == 0
    page.wait_for_load_state("networkidle")
    page.fill("input[name=checked_in_at]", _local(now - dt.timedelta(minutes=50)))
    page.fill("input[name=checked_out_at]", _local(now - dt.timedelta(minutes=35)))
    expect(page.locator("input[name=checked_in_at]")).to_have_value(_local(now - dt.timedelta(minutes=50)))
    expect(page.get_by_test_id("rule-warning-quiet-hours")).to_be_hidden()
    page.get_by_role("button", name="Save visit and check out").click()
    page.wait_for_url(re.compile(r"/visits/\d+/$"))
    visit = Visit.objects.get(case=second)
    assert VisitPhoto.objects.get(visit=visit).sha256 == VisitPhoto.objects.get(visit__case=first).sha256
    assert visit.outcome == Visit.Outcome.NOT_HOME
    second.refresh_from_db()
    assert second.stage == Stage.PREPARATION  # a revisit is to be planned
    _home(page, watch)
    assert _route(page) == [third.pk]

    # 6. Third visit: the borrower promised to pay.
    _visit(page, third, start=now - dt.timedelta(minutes=30), minutes=20, outcome=Visit.Outcome.PROMISED)
    page.wait_for_url(re.compile(r"/visits/\d+/$"))
    assert Visit.objects.get(case=third).outcome == Visit.Outcome.PROMISED
    assert Visit.objects.filter(collector=cast.collector_a).count() == 3
    _home(page, watch)
    assert _route(page) == []
    assert page.get_by_test_id("home-route-empty").is_visible()

    # 7. A plan for the borrower who agreed to one, proposed from the case.
    page.goto(f"/cases/{first.pk}/negotiate/")
    page.select_option("select[name=plan-kind]", RepaymentPlan.Kind.INSTALMENTS)
    page.fill("input[name=plan-base_amount]", str(first.account.overdue_amount))
    page.fill("input[name=plan-instalment_count]", "6")
    page.click("#plan-form button[name=save][value=submit]")
    page.wait_for_url(re.compile(r"/plans/\d+/$"))
    plan = RepaymentPlan.objects.get(case=first)
    assert plan.instalment_count == 6 and plan.base_amount == first.account.overdue_amount
    assert plan.status != RepaymentPlan.Status.DRAFT
    assert page.get_attribute("[data-plan-status]", "data-plan-status") == plan.status
    assert watch.errors == [] and watch.dialogs == []


@pytest.mark.parametrize(("locale", "words"), [("en-US", ("Today's route", "Log a visit", "Navigate")),
                                                ("zh-CN", ("今日路线", "登记走访", "导航"))])  # fmt: skip
def test_the_home_route_fits_a_phone_in_both_languages(browser, live_server, cast, planned_case, locale, words):  # noqa: F811
    today = dt.datetime.now(SHANGHAI).date()
    case = planned_case(31.300, 120.600, when=dt.datetime.combine(today, dt.time(15, 0), SHANGHAI))
    context = browser.new_context(base_url=live_server.url, locale=locale, timezone_id="Asia/Shanghai", **PHONE)
    context.set_default_timeout(15_000)
    page = context.new_page()
    watch = PageWatch(page)
    try:
        login(page, "collector_a", PASSWORD)
        route = page.get_by_test_id("home-route")
        # On the first screen, above the tab bar: the route and its first stop's actions.
        bar_top = page.get_by_test_id("tabbar").bounding_box()["y"]
        log_visit = route.locator(f"[data-stop='{case.pk}'] a[href='/cases/{case.pk}/visits/new/']")
        assert log_visit.bounding_box()["y"] + log_visit.bounding_box()["height"] <= bar_top
        text = route.inner_text()
        assert all(word in text for word in words), text
        assert horizontal_overflow(page) <= 0, overflowing_elements(page)
        assert watch.errors == []
    finally:
        context.close()
