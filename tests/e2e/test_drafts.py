"""In a real browser: a form typed while the session ends is still filled in after logging in again,
and the pages run under the strict CSP without a single violation."""

import datetime as dt
import re

import pytest
from django.contrib.sessions.models import Session
from django.utils import timezone

from collections_app.models import Stage
from collections_app.services.cases import case_transition
from tests.e2e.conftest import PHONE, PageWatch
from tests.factories import PASSWORD

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

TALKING_POINTS = "Ask about the shop's slow season; offer a 6-month instalment plan."


@pytest.fixture
def phone_page(browser, live_server):
    context = browser.new_context(base_url=live_server.url, locale="en-US", timezone_id="Asia/Shanghai", **PHONE)
    context.set_default_timeout(15_000)
    yield context.new_page()
    context.close()


def _log_in(page, username):
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")


def _draft_keys(page) -> list[str]:
    return page.evaluate(
        "Object.keys(localStorage).filter(function (k) { return k.indexOf('doorstep-draft:') === 0; })"
    )


def test_a_form_typed_when_the_session_ended_is_restored_after_login_and_cleared_after_saving(phone_page, case_a, cast):
    case_transition(case=case_a, target=Stage.PREPARATION, actor=cast.collector_a)
    page = phone_page
    watch = PageWatch(page)
    form_url = f"/cases/{case_a.pk}/preparation/"

    page.goto(form_url)
    _log_in(page, "collector_a")
    page.wait_for_url(re.compile(re.escape(form_url) + "$"))
    planned = timezone.localtime() + dt.timedelta(days=1)
    page.fill("textarea[name=talking_points]", TALKING_POINTS)
    page.fill("input[name=planned_at]", planned.replace(hour=10, minute=0).strftime("%Y-%m-%dT%H:%M"))
    assert len(_draft_keys(page)) == 1

    Session.objects.all().delete()  # the session ends (idle or 12 hours) while the collector types
    page.click("form[data-draft-key] [type=submit]")
    page.wait_for_url(re.compile(r"/accounts/login/\?next="))
    assert len(_draft_keys(page)) == 1

    _log_in(page, "collector_a")
    page.wait_for_url(re.compile(re.escape(form_url) + "$"))
    assert page.input_value("textarea[name=talking_points]") == TALKING_POINTS
    assert page.get_attribute("form[data-draft-key]", "data-draft-restored") == "true"

    page.click("form[data-draft-key] [type=submit]")
    page.wait_for_url(re.compile(rf"/cases/{case_a.pk}/$"))
    assert _draft_keys(page) == []
    # Content-Security-Policy violations are reported as console errors ("Refused to ...").
    blocked = [e for e in watch.errors if "Content Security Policy" in e or "Refused to" in e or "pageerror" in e]
    assert blocked == []
