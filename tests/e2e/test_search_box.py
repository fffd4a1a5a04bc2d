"""The search box in a real browser: on a phone (375 px) one tap away from every page, on a desktop in
the navbar; the results fit the screen and show personal numbers masked."""

import pytest

from collections_app.models import BorrowerPhone
from tests.e2e.conftest import DESKTOP, PHONE, PageWatch, horizontal_overflow, overflowing_elements
from tests.factories import PASSWORD

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def _log_in(page, username):
    page.goto("/accounts/login/?next=/cases/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/cases/")


@pytest.mark.parametrize("locale", ["zh-CN", "en-US"])
def test_collector_finds_own_case_by_phone_tail_on_a_phone(browser, live_server, cast, case_a, locale):
    borrower = case_a.account.borrower
    borrower.phones.all().delete()
    BorrowerPhone.objects.create(borrower=borrower, number="13955557788", is_primary=True)
    context = browser.new_context(base_url=live_server.url, locale=locale, timezone_id="Asia/Shanghai", **PHONE)
    context.set_default_timeout(15_000)
    page = context.new_page()
    watch = PageWatch(page)
    try:
        _log_in(page, "collector_a")
        page.click("[data-testid=nav-search-link]")
        page.wait_for_url("**/search/")
        page.fill("#search-page-q", "7788")
        page.press("#search-page-q", "Enter")
        results = page.locator("[data-testid=search-results] a")
        assert results.count() == 1
        assert "139****7788" in results.first.inner_text()
        assert "13955557788" not in page.content()
        assert horizontal_overflow(page) <= 0, overflowing_elements(page)
        results.first.click()
        page.wait_for_url(f"**/cases/{case_a.pk}/")
        assert watch.errors == []
    finally:
        context.close()


def test_supervisor_searches_from_the_desktop_navbar(browser, live_server, cast, case_a):
    context = browser.new_context(base_url=live_server.url, timezone_id="Asia/Shanghai", **DESKTOP)
    context.set_default_timeout(15_000)
    page = context.new_page()
    watch = PageWatch(page)
    try:
        _log_in(page, "supervisor_x")
        page.fill("#nav-search-q", case_a.account.account_no)
        page.press("#nav-search-q", "Enter")
        page.wait_for_url("**/search/?q=*")
        assert page.locator("[data-testid=search-results] a").count() == 1
        assert watch.errors == []
    finally:
        context.close()
