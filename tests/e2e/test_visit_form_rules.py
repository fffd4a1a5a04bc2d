"""The visit form never loses work and says what the rules will refuse before the collector presses Save."""

import datetime as dt
import re
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import expect

from collections_app.models import Stage
from tests.e2e.conftest import PageWatch, login
from tests.factories import PASSWORD
from visits.models import ContactAttempt, Visit, VisitPhoto, VisitPlan

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("private_media")]
SHANGHAI = ZoneInfo("Asia/Shanghai")
# Two days back: always in the past for the server and the browser, whatever the hour of the run.
DAY = dt.datetime.now(SHANGHAI).date() - dt.timedelta(days=2)


def _at(hour: int, minute: int = 0) -> str:
    return dt.datetime.combine(DAY, dt.time(hour, minute)).strftime("%Y-%m-%dT%H:%M")


def _open_visit_form(page, case):
    login(page, "collector_a", PASSWORD)
    page.goto(f"/cases/{case.pk}/visits/new/")


def test_a_visit_refused_for_quiet_hours_was_warned_about_and_comes_back_with_its_photo(
    phone, cast, case_in_stage, photo
):
    case = case_in_stage(Stage.VISIT)
    page = phone.new_page()
    watch = PageWatch(page)
    _open_visit_form(page, case)
    quiet = page.get_by_test_id("rule-warning-quiet-hours")
    page.fill("input[name=checked_in_at]", _at(23, 15))
    expect(quiet).to_be_visible()
    assert "23:15" in quiet.inner_text() and "22:00" in quiet.inner_text()
    page.fill("input[name=checked_out_at]", _at(23, 45))
    page.check("input[name=identity_confirmed]")
    page.check("input[name=met][value=borrower]")
    page.select_option("select[name=outcome]", Visit.Outcome.PROMISED)
    page.set_input_files("input[name=photos]", str(photo))
    page.get_by_role("button", name="Save visit and check out").click()

    # Refused by the server; the photo is still attached, so only the time needs changing.
    page.wait_for_selector("text=quiet-hours rule")
    page.wait_for_load_state()
    # The server's values win over the draft saved at submit (a refusal is an error like any other).
    assert page.get_attribute("form[data-draft-key]", "data-draft-restored") is None
    kept = page.get_by_label("door.png")
    assert kept.is_checked()
    assert not Visit.objects.exists()
    page.fill("input[name=checked_in_at]", _at(14, 0))
    page.fill("input[name=checked_out_at]", _at(14, 30))
    expect(page.get_by_test_id("rule-warning-quiet-hours")).to_be_hidden()
    page.get_by_role("button", name="Save visit and check out").click()
    page.wait_for_url(re.compile(r".*/visits/\d+/$"))
    visit = Visit.objects.get()
    assert VisitPhoto.objects.get().visit == visit and visit.case_id == case.pk
    assert watch.errors == []


def test_an_implausibly_long_visit_is_flagged_while_the_times_are_typed(phone, cast, case_in_stage, settings):
    settings.DOORSTEP_VISIT_MAX_MINUTES = 90
    case = case_in_stage(Stage.VISIT)
    page = phone.new_page()
    watch = PageWatch(page)
    _open_visit_form(page, case)
    duration = page.get_by_test_id("rule-warning-duration")
    page.fill("input[name=checked_in_at]", _at(10, 0))
    page.fill("input[name=checked_out_at]", _at(11, 45))  # 105 min against a limit of 90
    expect(duration).to_be_visible()
    assert "1 h 45 min" in duration.inner_text() and "90" in duration.inner_text()
    assert (
        page.locator("input[name=checked_out_at]").get_attribute("aria-describedby").endswith("rule-warning-duration")
    )
    page.fill("input[name=checked_out_at]", _at(11, 0))
    expect(duration).to_be_hidden()
    # An empty check-out means "now": two days after the check-in.
    page.fill("input[name=checked_out_at]", "")
    expect(duration).to_be_visible()
    expect(page.get_by_test_id("rule-warning-quiet-hours")).to_be_hidden()
    assert watch.errors == []


def test_scheduling_in_the_quiet_hours_warns_until_the_borrower_consent_is_ticked(desktop, cast, case_in_stage):
    case = case_in_stage(Stage.PREPARATION)
    page = desktop.new_page()
    login(page, "collector_a", PASSWORD)
    page.goto(f"/cases/{case.pk}/preparation/")
    later = (dt.datetime.now(SHANGHAI) + dt.timedelta(days=3)).date()
    page.fill("input[name=planned_at]", f"{later:%Y-%m-%d}T07:30")
    warning = page.get_by_test_id("rule-warning-quiet-hours")
    expect(warning).to_be_visible()
    page.check("input[name=consent_outside_hours]")
    expect(warning).to_be_hidden()
    page.uncheck("input[name=consent_outside_hours]")
    page.fill("input[name=planned_at]", f"{later:%Y-%m-%d}T09:30")
    expect(warning).to_be_hidden()


_FOCUSED_JS = """() => {
  const el = document.activeElement;
  if (!el || el === document.body) return "";
  return el.name || el.getAttribute("data-testid") || el.className || el.tagName;
}"""


def test_the_visit_form_can_be_filled_and_saved_with_the_keyboard_only(desktop, cast, case_in_stage):
    case = case_in_stage(Stage.VISIT)
    # The run's hour may be in the quiet hours: the borrower consented, so the default "now" is fine.
    VisitPlan.objects.filter(case=case).update(consent_outside_hours=True)
    page = desktop.new_page()
    watch = PageWatch(page)
    _open_visit_form(page, case)
    page.locator("input[name=checked_in_at]").focus()
    seen = []
    for _ in range(80):
        name = page.evaluate(_FOCUSED_JS)
        seen.append(name)
        if name == "identity_confirmed":
            page.keyboard.press("Space")
        elif name == "met":
            page.keyboard.press("Space")  # the first choice: the borrower
        elif name == "outcome":
            page.keyboard.press("ArrowDown")  # the first outcome after "—"
        elif name.startswith("btn btn-primary btn-lg"):
            break
        page.keyboard.press("Tab")
    # A date-time input takes one Tab per part (day, month, year, hour, minute): one stop in the order.
    fields = {"checked_in_at", "identity_confirmed", "met", "outcome", "photos", "checked_out_at"}
    order = [n for i, n in enumerate(seen) if n in fields and (i == 0 or seen[i - 1] != n)]
    assert order == ["checked_in_at", "identity_confirmed", "met", "outcome", "photos", "checked_out_at"], seen
    assert seen[-1].startswith("btn btn-primary btn-lg"), seen
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r".*/visits/\d+/$"))
    assert Visit.objects.get().met == "borrower"
    assert watch.errors == []


def test_the_contact_form_warns_when_the_number_has_used_its_unanswered_calls(desktop, cast, case_in_stage):
    case = case_in_stage(Stage.PREPARATION)
    phone = case.account.borrower.phones.first()
    now = dt.datetime.now(SHANGHAI)
    for minutes in range(6):  # seconds apart; the CN pack's cap: 6 unanswered calls per number per day
        ContactAttempt.objects.create(
            case=case,
            actor=cast.collector_a,
            channel=ContactAttempt.Channel.CALL,
            party="borrower",
            phone_number=phone.number,
            result=ContactAttempt.Result.NO_ANSWER,
            attempted_at=now - dt.timedelta(seconds=minutes),
        )
    page = desktop.new_page()
    watch = PageWatch(page)
    login(page, "collector_a", PASSWORD)
    page.goto(f"/cases/{case.pk}/contact/")
    page.select_option("select[name=channel]", "call")
    page.select_option("select[name=phone]", str(phone.pk))
    warning = page.get_by_test_id("rule-warning-attempt-cap")
    expect(warning).to_be_visible()
    assert "6" in warning.inner_text()
    page.select_option("select[name=channel]", "sms")
    expect(warning).to_be_hidden()
    assert watch.errors == []
