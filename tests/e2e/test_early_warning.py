"""In a browser: a supervisor opens a care case from the early-warning list; the collector records it on a phone."""

import pytest

from risk.models import CareCase
from tests.e2e.conftest import PageWatch, horizontal_overflow, login, overflowing_elements
from tests.e2e.tour import build_tour

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def tour(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return build_tour(accounts=4)


def test_supervisor_opens_a_care_case_from_the_list_and_the_collector_records_it(tour, new_context, shoot):
    supervisor_page = new_context().new_page()
    supervisor_watch = PageWatch(supervisor_page)
    login(supervisor_page, tour.supervisor.username)
    supervisor_page.goto("/early-warning/")
    row = supervisor_page.locator('[data-account="E2E-CUR-02"]')
    row.locator("select[name=collector]").select_option(str(tour.collector.pk))
    row.get_by_test_id("open-care").click()
    supervisor_page.get_by_text("Care case opened for E2E-CUR-02").wait_for()
    assert supervisor_page.locator('[data-account="E2E-CUR-02"]').get_by_text("Care case open").is_visible()
    shoot(supervisor_page, "risk_early_warning_after_open_desktop")
    care = CareCase.objects.get(account__account_no="E2E-CUR-02", status=CareCase.Status.OPEN)
    assert care.assigned_collector == tour.collector

    phone = new_context(on_phone=True).new_page()
    phone_watch = PageWatch(phone)
    login(phone, tour.collector.username)
    phone.goto("/care/")
    assert horizontal_overflow(phone) <= 0, overflowing_elements(phone)
    phone.locator('[data-account="E2E-CUR-02"]').click()
    phone.wait_for_url(f"**/care/{care.pk}/")
    assert horizontal_overflow(phone) <= 0, overflowing_elements(phone)
    assert phone.get_by_test_id("statement-chart").is_visible()
    phone.select_option("select[name=channel]", "visit")
    phone.select_option("select[name=outcome]", "reached_difficulty")
    phone.fill("textarea[name=note]", "Hours cut at the factory; asks to move the due date.")
    shoot(phone, "risk_care_record_phone")
    phone.get_by_role("button", name="Record").click()
    phone.get_by_text("Care contact recorded.").wait_for()
    care.refresh_from_db()
    assert (care.status, care.channel, care.outcome) == (CareCase.Status.DONE, "visit", "reached_difficulty")
    assert care.recorded_by == tour.collector
    assert supervisor_watch.errors + supervisor_watch.dialogs + phone_watch.errors + phone_watch.dialogs == []
