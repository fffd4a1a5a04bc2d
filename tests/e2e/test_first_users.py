"""What the first users hit, in a real browser at 375 px and on a desktop, in both languages."""

import pytest

from collections_app.models import Stage
from collections_app.services.screening import accounts_refresh_screening_keys
from tests.e2e.conftest import DESKTOP, PHONE, PageWatch
from tests.factories import PASSWORD, AccountFactory

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
