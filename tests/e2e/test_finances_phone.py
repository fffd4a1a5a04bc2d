"""Declared vs verified finances on a 375 px phone in Chinese: the collector records figures, attaches a
payslip photo and verifies it; no horizontal scrolling, thumb-sized controls, the numeric keyboard."""

import io

import pytest
from PIL import Image

from collections_app.models import Stage
from repayment.models import DeclaredFigure, FinanceEvidence
from tests.e2e.conftest import PHONE, PageWatch, horizontal_overflow, overflowing_elements
from tests.e2e.test_every_page import _AMOUNTS_JS, _TOUCH_JS, TOUCH_MIN_PX
from tests.factories import PASSWORD

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def _png(path):
    buffer = io.BytesIO()
    Image.new("RGB", (40, 30), "teal").save(buffer, "PNG")
    path.write_bytes(buffer.getvalue())
    return path


def _fits_the_phone(page) -> list[str]:
    problems = []
    if horizontal_overflow(page) > 0:
        problems.append(f"wider than the screen: {overflowing_elements(page)}")
    small = page.evaluate(_TOUCH_JS, TOUCH_MIN_PX)
    if small:
        problems.append(f"small touch targets: {small}")
    keyboards = page.evaluate(_AMOUNTS_JS)
    if keyboards:
        problems.append(f"amounts without the numeric keyboard: {keyboards}")
    return problems


def test_a_collector_declares_and_verifies_on_a_phone_in_chinese(
    browser, live_server, cast, case_in_stage, settings, tmp_path, shoot
):
    settings.MEDIA_ROOT = tmp_path / "media"
    case = case_in_stage(Stage.NEGOTIATION)
    context = browser.new_context(base_url=live_server.url, locale="zh-CN", timezone_id="Asia/Shanghai", **PHONE)
    context.set_default_timeout(15_000)
    page = context.new_page()
    watch = PageWatch(page)
    try:
        url = f"/cases/{case.pk}/finances/"
        page.goto(f"/accounts/login/?next={url}")
        page.fill("input[name=username]", "collector_a")
        page.fill("input[name=password]", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url(f"**{url}")
        assert "申报与核实" in page.content()
        assert _fits_the_phone(page) == []

        page.select_option("select[name=fig-0-kind]", "salary")
        page.fill("input[name=fig-0-amount]", "4000")
        page.select_option("select[name=fig-1-kind]", "rent")
        page.fill("input[name=fig-1-amount]", "1200")
        page.locator("#declaration-form button[type=submit]").click()
        page.wait_for_selector("[data-figure]")
        assert page.locator("[data-figure][data-status=unverified]").count() == 2
        assert _fits_the_phone(page) == []

        salary = DeclaredFigure.objects.get(kind="salary")
        card = page.locator(f"[data-figure='{salary.pk}']")
        card.locator("summary").click()
        card.locator("select[name=kind]").select_option("payslip")
        card.locator("input[name=photo]").set_input_files(str(_png(tmp_path / "payslip.png")))
        card.locator("form").first.locator("button[type=submit]").click()
        page.wait_for_selector(f"[data-figure='{salary.pk}'] [data-evidence]")
        assert FinanceEvidence.objects.filter(figure=salary).count() == 1

        card = page.locator(f"[data-figure='{salary.pk}']")
        card.locator("summary").click()
        card.locator("input[name=verified_amount]").fill("3800")
        card.locator("button[value=verify]").click()
        page.wait_for_selector(f"[data-figure='{salary.pk}'][data-status=verified]")
        assert page.locator("[data-verified-capacity]").count() == 1
        assert _fits_the_phone(page) == []
        shoot(page, "finances_collector_zh_phone")
        assert watch.errors == []
    finally:
        context.close()
