"""Screening in expected-recovery order on a 375 px phone: the risk and expected-recovery columns stay
inside the table's own scroller (the page never scrolls sideways), in Chinese and in English."""

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from collections_app.services.screening import account_refresh_screening_key
from risk.models import RiskScore, Statement
from risk.scoring import accounts_refresh_payment_probability
from tests.e2e.conftest import PHONE, PageWatch, horizontal_overflow, overflowing_elements
from tests.factories import PASSWORD, AccountFactory
from tests.risk.helpers import PERIOD, a_model

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

FACTORS = [
    {"feature": "months_since_full_payment", "value": 7.0, "contribution": 0.9},
    {"feature": "pay_ratio_3m", "value": 0.1, "contribution": 0.7},
    {"feature": "max_dpd_6m", "value": 60.0, "contribution": 0.4},
]


@pytest.mark.parametrize("locale", ["zh-CN", "en-US"])
def test_expected_recovery_column_fits_a_phone(browser, live_server, cast, locale):
    model = a_model()
    for i, score in enumerate((0.35, None, 0.8)):
        account = AccountFactory(
            branch=cast.branch_a,
            overdue_amount=Decimal("123456.78") + i,
            overdue_since=timezone.localdate() - dt.timedelta(days=40),
        )
        account_refresh_screening_key(account=account)
        if score is not None:
            Statement.objects.create(
                account=account, period_end=PERIOD, balance=5000, amount_due=500, amount_paid=0, dpd=40
            )
            RiskScore.objects.create(
                account=account, model=model, period_end=PERIOD, score=score, dpd=40, factors=FACTORS
            )
            accounts_refresh_payment_probability(id_range=(account.pk, account.pk))
    context = browser.new_context(base_url=live_server.url, locale=locale, timezone_id="Asia/Shanghai", **PHONE)
    context.set_default_timeout(15_000)
    page = context.new_page()
    watch = PageWatch(page)
    try:
        page.goto("/accounts/login/?next=/screening/%3Fsort%3Dexpected_recovery")
        page.fill("input[name=username]", "supervisor_x")
        page.fill("input[name=password]", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url("**/screening/?sort=expected_recovery")
        cells = page.locator("[data-recovery]")
        assert cells.count() == 3
        assert cells.nth(0).get_attribute("data-recovery") == "80246.91"  # 0.65 x 123456.78, rounded
        assert cells.nth(2).inner_text().strip() == "—"
        assert horizontal_overflow(page) <= 0, overflowing_elements(page)
        assert watch.errors == []
    finally:
        context.close()
