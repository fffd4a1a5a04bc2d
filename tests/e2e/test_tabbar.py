"""Collectors' bottom tab bar: on a phone (375 px) the field day is one thumb away; desktops keep the navbar."""

import re

import pytest

from tests.e2e.conftest import DESKTOP, PHONE, PageWatch, horizontal_overflow, overflowing_elements
from tests.factories import PASSWORD

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

_OVERLAP_JS = """() => {
  window.scrollTo(0, document.documentElement.scrollHeight);
  const bar = document.querySelector('[data-testid=tabbar]').getBoundingClientRect();
  const last = document.querySelector('main').lastElementChild.getBoundingClientRect();
  return { barTop: bar.top, barBottom: bar.bottom, lastBottom: last.bottom, height: window.innerHeight };
}"""


def _open(browser, live_server, options, username, locale="en-US"):
    context = browser.new_context(base_url=live_server.url, locale=locale, timezone_id="Asia/Shanghai", **options)
    context.set_default_timeout(15_000)
    page = context.new_page()
    page.goto("/accounts/login/?next=/today/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r".*/today/$") if username.startswith("collector") else re.compile(r".*/$"))
    return context, page


@pytest.mark.parametrize("locale", ["en-US", "zh-CN"])
def test_a_collector_on_a_phone_runs_the_day_from_the_bottom_tab_bar(browser, live_server, cast, case_a, locale, shoot):
    context, page = _open(browser, live_server, PHONE, "collector_a", locale)
    watch = PageWatch(page)
    try:
        bar = page.get_by_test_id("tabbar")
        assert bar.is_visible()
        box = bar.bounding_box()
        assert abs(box["y"] + box["height"] - PHONE["viewport"]["height"]) <= 1  # on the bottom edge
        tabs = bar.locator("a, button")
        assert tabs.count() == 5
        for index in range(tabs.count()):
            tab = tabs.nth(index).bounding_box()
            assert tab["height"] >= 44 and tab["width"] >= 44
        assert bar.locator("a[href='/today/']").get_attribute("aria-current") == "page"
        shoot(page, f"tabbar_today_phone_{locale}")

        bar.locator("a[href='/cases/']").click()
        page.wait_for_url("**/cases/")
        assert page.get_by_test_id("tabbar").locator("a[href='/cases/']").get_attribute("aria-current") == "page"
        # Scrolled to the end, the page's last element ends above the bar: nothing hides behind it.
        place = page.evaluate(_OVERLAP_JS)
        assert place["lastBottom"] <= place["barTop"] + 0.5, place
        assert horizontal_overflow(page) <= 0, overflowing_elements(page)

        page.get_by_test_id("tabbar").locator("a[href='/search/']").click()
        page.wait_for_url("**/search/")
        page.get_by_test_id("tabbar").locator("a[href='/notifications/']").click()
        page.wait_for_url("**/notifications/")

        # "More" opens the full menu (care, reviews, language, log out) in view.
        page.get_by_test_id("tabbar").locator(".js-tab-more").click()
        menu = page.locator("#main-nav")
        menu.locator("button[type=submit]").wait_for(state="visible")
        assert page.evaluate("() => window.scrollY") == 0
        assert watch.errors == []
    finally:
        context.close()


def test_the_tab_bar_is_hidden_on_a_desktop(browser, live_server, cast, case_a):
    context, page = _open(browser, live_server, DESKTOP, "collector_a")
    try:
        assert page.get_by_test_id("tabbar").is_hidden()
        assert page.locator("#main-nav a[href='/today/']").is_visible()
    finally:
        context.close()


def test_supervisors_keep_the_menu_without_a_tab_bar(browser, live_server, cast):
    context, page = _open(browser, live_server, PHONE, "supervisor_x")
    try:
        assert page.get_by_test_id("tabbar").count() == 0
    finally:
        context.close()
