"""The field day in a real browser: pages kept offline, a visit captured offline and synced once.

Each test loads /today/ online (the service worker keeps today's pages), goes offline with
``context.set_offline(True)``, logs a visit with a photo and checks what the server has after
the network returns.
"""

import datetime as dt
import io
import re
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from PIL import Image

from collections_app.models import Notification, Stage
from collections_app.services.cases import case_assign, case_open, case_transition
from tests.e2e.conftest import horizontal_overflow, login
from tests.factories import AccountFactory, visit_plan_ready
from visits.models import SyncConflict, Visit, VisitPlan

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("field_daytime", "private_media")]
SHANGHAI = ZoneInfo("Asia/Shanghai")
PASSWORD = "doorstep-demo"


@pytest.fixture
def visit_case(cast):
    """Collector A's case in the visit stage with a visit planned this afternoon."""
    cast.collector_a.set_password(PASSWORD)
    cast.collector_a.save()
    account = AccountFactory(branch=cast.branch_a)
    case = case_open(account=account, actor=cast.supervisor_x, team=cast.team_x)
    case = case_assign(case=case, collector=cast.collector_a, actor=cast.supervisor_x)
    case_transition(case=case, target=Stage.PREPARATION, actor=cast.collector_a)
    visit_plan_ready(case, cast.collector_a)
    case_transition(case=case, target=Stage.VISIT, actor=cast.collector_a)
    today = dt.datetime.now(SHANGHAI).date()
    address = account.borrower.addresses.get()
    VisitPlan.objects.update_or_create(
        case=case,
        defaults={
            "planned_at": dt.datetime.combine(today, dt.time(15, 0), SHANGHAI),
            "address": address,
            "updated_by": cast.collector_a,
        },
    )
    second = AccountFactory(branch=cast.branch_a)
    other = case_assign(
        case=case_open(account=second, actor=cast.supervisor_x, team=cast.team_x),
        collector=cast.collector_a,
        actor=cast.supervisor_x,
    )
    case_transition(case=other, target=Stage.PREPARATION, actor=cast.collector_a)
    far = second.borrower.addresses.get()
    far.lat, far.lng = Decimal("31.350000"), Decimal("120.650000")
    far.save()
    VisitPlan.objects.create(
        case=other,
        planned_at=dt.datetime.combine(today, dt.time(16, 0), SHANGHAI),
        address=far,
        updated_by=cast.collector_a,
    )
    return case


def _png() -> dict:
    buffer = io.BytesIO()
    Image.new("RGB", (32, 24), (20, 120, 200)).save(buffer, "PNG")
    return {"name": "door.png", "mimeType": "image/png", "buffer": buffer.getvalue()}


def _ready_offline(page, shoot=None) -> None:
    """Open /today/ online and wait until the worker kept today's pages."""
    login(page, "collector_a", PASSWORD)
    page.goto("/today/")
    page.wait_for_function("() => navigator.serviceWorker.ready.then(() => true)")
    page.wait_for_selector("[data-offline-ready='5']")  # /today/ + 2 cases x (case page, visit form)
    assert horizontal_overflow(page) == 0
    if shoot:
        shoot(page, "offline_today_phone")


def _log_visit_offline(context, page, case) -> None:
    page.goto(f"/cases/{case.pk}/visits/new/")
    # Any page loaded after the worker's activation is controlled by it.
    page.wait_for_function("() => navigator.serviceWorker.controller !== null")
    context.set_offline(True)
    page.wait_for_selector(".js-net-status[data-online='false']")
    page.check("input[name=identity_confirmed]")
    page.check("input[name=met][value=borrower]")
    page.select_option("select[name=outcome]", "promised")
    page.fill("textarea[name=notes]", "Promised 2000 on Friday (captured offline).")
    page.set_input_files("input[name=photos]", files=[_png()])
    page.click("form[data-offline-outbox] button[type=submit]")
    page.wait_for_selector(".js-queued")
    page.wait_for_selector(".js-net-status[data-waiting='1']")


def _badge(page) -> str:
    return page.locator(".js-net-status").inner_text()


def test_visit_logged_offline_survives_a_reload_and_syncs_exactly_once(phone, visit_case, shoot):
    page = phone.new_page()
    _ready_offline(page, shoot)
    _log_visit_offline(phone, page, visit_case)
    assert not Visit.objects.exists()

    page.reload()  # offline: the worker answers from the pages kept this morning
    page.wait_for_selector("[data-outbox-item][data-status='pending']")
    assert re.search(r"Offline · 1 to sync", _badge(page))
    assert page.locator("form[data-offline-outbox]").count() == 1
    shoot(page, "offline_outbox_phone")
    page.goto("/cases/")  # never kept: the worker's offline page, not the browser's error
    assert "You are offline" in page.content()
    page.goto("/today/")
    page.wait_for_selector(".js-net-status[data-waiting='1']")

    phone.set_offline(False)
    page.wait_for_selector(".js-net-status[data-online='true'][data-waiting='0']")
    visit = Visit.objects.get()
    assert visit.case == visit_case and visit.notes.startswith("Promised 2000")
    assert visit.photos.count() == 1
    assert page.locator("[data-outbox-item]").count() == 0
    page.reload()
    page.wait_for_selector(".js-net-status[data-online='true'][data-waiting='0']")
    assert Visit.objects.count() == 1


LOSE_THE_ANSWER = """() => {
  // The server gets and saves the visit, but the phone never hears back.
  window.realFetch = window.fetch;
  window.lostAnswers = [];
  window.fetch = (url, options) => window.realFetch(url, options).then((response) => {
    if (!String(url).includes("/sync/visits/")) { return response; }
    window.lostAnswers.push(response.status);
    throw new TypeError("the answer was lost");
  });
}"""


def test_an_item_sent_twice_after_a_lost_answer_exists_once(phone, visit_case):
    # Playwright's routing does not see requests of a page a service worker controls, so the
    # lost answer is staged in the page itself.
    page = phone.new_page()
    _ready_offline(page)
    _log_visit_offline(phone, page, visit_case)
    page.evaluate(LOSE_THE_ANSWER)
    phone.set_offline(False)
    page.wait_for_function("() => window.lostAnswers.length === 1")
    assert page.evaluate("window.lostAnswers") == [201] and Visit.objects.count() == 1
    assert page.locator(".js-net-status").get_attribute("data-waiting") == "1"  # still on the device

    page.evaluate("() => { window.fetch = window.realFetch; }")
    with page.expect_response("**/sync/visits/") as response:
        page.click(".js-outbox-sync")
    assert response.value.status == 200 and response.value.json()["status"] == "duplicate"
    page.wait_for_selector(".js-net-status[data-waiting='0']")
    assert Visit.objects.count() == 1


def test_a_case_reassigned_while_offline_shows_a_conflict_and_tells_the_supervisor(phone, visit_case, cast):
    page = phone.new_page()
    _ready_offline(page)
    _log_visit_offline(phone, page, visit_case)
    case_assign(case=visit_case, collector=cast.collector_a2, actor=cast.supervisor_x, reason="sick leave")

    phone.set_offline(False)
    item = page.wait_for_selector("[data-outbox-item][data-status='conflict']")
    assert "reassigned" in item.inner_text() and "supervisor has been told" in item.inner_text()
    assert page.locator(".js-net-status").get_attribute("data-waiting") == "0"
    conflict = SyncConflict.objects.get()
    assert conflict.payload["fields"]["notes"].startswith("Promised 2000")
    note = Notification.objects.get(recipient=cast.supervisor_x, kind="sync_conflict")
    assert "Promised 2000" in note.message and not Visit.objects.exists()

    page.once("dialog", lambda dialog: dialog.accept())
    with page.expect_response(re.compile(r".*/sync/conflicts/\d+/discard/$")):
        page.click("[data-outbox-item] .js-item-discard")
    page.wait_for_selector("[data-outbox-item]", state="detached")
    conflict.refresh_from_db()
    assert conflict.discarded_at is not None
