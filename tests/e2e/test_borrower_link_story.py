"""In a real browser, on a phone, in Chinese: the collector shows the borrower link as a QR code; the borrower
opens it in a browser of their own (no login), confirms the plan, asks for a visit window and rates the
visit; the collector sees all three on the case."""

import datetime as dt
import re
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from collections_app.models import Stage
from repayment.services.plans import plan_propose
from tests.e2e.conftest import PHONE, horizontal_overflow, login
from tests.factories import PASSWORD
from visits.models import VisitPlan
from voice.models import BorrowerLink, VisitRating

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("field_daytime")]
SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.fixture
def chinese_phone(browser, live_server):
    """A 375 px phone browser in Chinese, with cookies of its own; closed after the test."""
    opened = []

    def make():
        context = browser.new_context(base_url=live_server.url, locale="zh-CN", timezone_id="Asia/Shanghai", **PHONE)
        context.set_default_timeout(15_000)
        opened.append(context)
        return context.new_page()

    yield make
    for context in opened:
        context.close()


def test_the_borrower_confirms_asks_for_a_visit_and_rates_it_from_the_qr_link(chinese_phone, cast, case_in_stage):
    case = case_in_stage(Stage.NEGOTIATION)
    plan_propose(
        case=case,
        actor=cast.collector_a,
        kind="instalments",
        base_amount=Decimal("3000.00"),
        instalment_count=3,
        first_due_date=timezone.localdate() + dt.timedelta(days=10),
        note="",
    )

    collector = chinese_phone()
    login(collector, cast.collector_a.username, PASSWORD)
    collector.goto(case.get_absolute_url())
    collector.get_by_role("link", name="自助链接").click()
    collector.get_by_role("button", name="生成链接").click()
    qr = collector.get_by_label("链接二维码")
    expect(qr.locator("svg")).to_be_visible()
    url = collector.locator("input[readonly]").input_value()
    assert url.startswith("http") and "/b/" in url and case.account.account_no not in url
    assert horizontal_overflow(collector) <= 0

    borrower = chinese_phone()  # a fresh browser: no session, no cookie of the collector's
    borrower.goto(url)
    expect(borrower.get_by_role("heading", name="您的还款")).to_be_visible()
    assert horizontal_overflow(borrower) <= 0
    borrower.get_by_role("button", name="我确认此还款计划").click()
    expect(borrower.get_by_role("status").first).to_be_visible()

    borrower.locator("summary", has_text="预约电话或上门").click()
    ask = borrower.locator("form:has(input[name=action][value=request])")
    ask.locator("select[name=request-kind]").select_option("visit")
    tomorrow = (timezone.localdate() + dt.timedelta(days=1)).isoformat()
    ask.locator("input[name=request-day]").fill(tomorrow)
    ask.locator("input[name=request-time_from]").fill("09:00")
    ask.locator("input[name=request-time_to]").fill("11:00")
    ask.locator("input[name=request-window]").fill("周六上午 9-11 点")
    ask.get_by_role("button", name="提交").click()
    expect(borrower.get_by_role("status").first).to_be_visible()
    # The range is on the visit preparation: the collector's route for that day arrives inside it.
    window = VisitPlan.objects.get(case=case)
    assert timezone.localtime(window.window_start).strftime("%Y-%m-%d %H:%M") == f"{tomorrow} 09:00"
    assert window.window_start <= window.planned_at < window.window_end

    borrower.locator("summary", has_text="评价上门拜访").click()
    rate = borrower.locator("form:has(input[name=action][value=rating])")
    rate.locator("select[name=rating-rating]").select_option("5")
    rate.locator("textarea[name=rating-comment]").fill("态度很好")
    rate.get_by_role("button", name="提交").click()
    expect(borrower.get_by_role("status").first).to_be_visible()
    assert VisitRating.objects.get(case=case).rating == 5
    assert BorrowerLink.objects.get(case=case).last_used_at is not None

    collector.goto(case.get_absolute_url())
    page = collector.locator("body")
    expect(page).to_contain_text("借款人确认了还款计划")
    expect(page).to_contain_text(re.compile(r"借款人预约了上门拜访 · .*09:00 - 11:00 · 周六上午 9-11 点"))
    expect(page).to_contain_text("借款人给上门拜访打了 5/5 分")
    assert horizontal_overflow(collector) <= 0
