"""In a real browser: a collector on a phone checks in at the door and overstays, and the supervisor's home page
shows the alert in red; the supervisor reviews the visit and the collector reads the review on the phone."""

import datetime as dt
import uuid
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from collections_app.models import AuditLog, Notification, Stage
from quality import safety
from quality.models import HelpRequest, SafetyCheckIn, VisitReview
from tests.e2e.conftest import horizontal_overflow, login
from tests.factories import PASSWORD
from tests.visits.helpers import image_upload
from visits.services import visit_log

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("field_daytime", "private_media"),
]
SHANGHAI = ZoneInfo("Asia/Shanghai")


def test_overstay_alerts_the_supervisor_and_a_review_reaches_the_collector(new_context, cast, case_in_stage, settings):
    # No random sample: the supervisor picks the visit (a sampled one would already be in the queue).
    settings.QUALITY_REVIEW_RATE = settings.QUALITY_REVIEW_NEW_COLLECTOR_RATE = 0.0
    case = case_in_stage(Stage.VISIT)
    phone = new_context(on_phone=True).new_page()
    login(phone, cast.collector_a.username, PASSWORD)
    phone.goto(case.get_absolute_url())
    panel = phone.locator("#safety")
    expect(panel).to_be_visible()
    panel.locator("input[name=expected_minutes]").fill("10")
    panel.get_by_role("button", name="Check in at the door").click()
    expect(phone.locator("[data-checked-in]")).to_be_visible()
    assert horizontal_overflow(phone) <= 0
    checkin = SafetyCheckIn.objects.get(case=case)
    assert checkin.lat is not None  # the phone gave its position

    # Time runs out: the timer's due time is moved into the past and the minute sweep runs.
    SafetyCheckIn.objects.filter(pk=checkin.pk).update(alert_due_at=timezone.now() - dt.timedelta(minutes=1))
    assert safety.safety_sweep() == {"alerted": 1, "escalated": 0}
    desk = new_context().new_page()
    login(desk, cast.supervisor_x.username, PASSWORD)
    alerts = desk.locator("#safety-alerts")
    expect(alerts).to_be_visible()
    expect(alerts).to_contain_text("collector_a is overdue on a visit")

    # The visit is logged; the supervisor picks it for review and scores it.
    phone.locator("form[action$='check-out/'] button").click()
    visit, _created = visit_log(
        case=case,
        actor=cast.collector_a,
        idempotency_key=uuid.uuid4(),
        checked_in_at=timezone.now() - dt.timedelta(minutes=30),
        checked_out_at=timezone.now(),
        identity_confirmed=True,
        met="borrower",
        outcome="promised",
        lat=Decimal("31.298900"),
        lng=Decimal("120.585300"),
        geo_status="ok",
        photos=[image_upload()],
    )
    desk.goto(case.get_absolute_url())
    desk.locator(f"[data-visit-review='{visit.pk}']").get_by_role("button", name="Pick for review").click()
    expect(desk.get_by_role("heading", name="Visit review")).to_be_visible()
    desk.locator("input[name=listened_verdict][value=fail]").check()
    desk.locator("input[name=listened_note]").fill("Interrupted the borrower twice")
    desk.locator("textarea[name=comment]").fill("Let the borrower finish before answering.")
    desk.get_by_role("button", name="Save review").click()
    review = VisitReview.objects.get(visit=visit)
    expect(desk.locator(f"[data-reviewed='{review.pk}']")).to_be_visible()
    assert review.status == VisitReview.Status.DONE and review.score == Decimal("83.3")

    # The collector reads it on the phone.
    phone.goto("/reviews/mine/")
    phone.locator(f"[data-review='{review.pk}']").click()
    expect(phone.locator("#review-result")).to_contain_text("Interrupted the borrower twice")
    expect(phone.locator("[data-score]")).to_contain_text("83.3")
    assert horizontal_overflow(phone) <= 0


def test_help_pressed_offline_is_queued_on_the_phone_and_reaches_the_supervisor_once_back_online(
    new_context, cast, case_in_stage
):
    case = case_in_stage(Stage.VISIT)
    desk = new_context().new_page()
    login(desk, cast.supervisor_x.username, PASSWORD)
    expect(desk.locator("[data-help]")).to_have_count(0)

    phone_context = new_context(on_phone=True)  # 375 px wide, with a position
    phone = phone_context.new_page()
    login(phone, cast.collector_a.username, PASSWORD)
    phone.goto(case.get_absolute_url())
    button = phone.locator("[data-help-button]")
    expect(button).to_be_visible()
    assert horizontal_overflow(phone) <= 0

    # No signal: the press is kept on the phone and the collector is told so; the server has nothing yet.
    phone_context.set_offline(True)
    button.click()
    status = phone.locator("[data-help-status]")
    expect(status).to_contain_text("saved on this phone")
    queued = phone.evaluate("JSON.parse(localStorage.getItem('doorstep-help-queue') || '[]')")
    assert len(queued) == 1 and queued[0]["case"] == str(case.pk) and queued[0]["lat"]
    assert not HelpRequest.objects.exists()

    # Back online: the queue is sent by itself (the `online` event), once.
    phone_context.set_offline(False)
    expect(status).to_contain_text("Your supervisor has been told.")
    help_request = HelpRequest.objects.get()
    assert str(help_request.client_id) == queued[0]["client_id"]
    assert (help_request.collector, help_request.case_id) == (cast.collector_a, case.pk)
    assert help_request.lat is not None and help_request.lng is not None
    assert phone.evaluate("JSON.parse(localStorage.getItem('doorstep-help-queue') || '[]').length") == 0
    assert AuditLog.objects.filter(action="safety.help", object_id=str(help_request.pk)).count() == 1
    assert Notification.objects.filter(recipient=cast.supervisor_x, kind="help").count() == 1

    # The supervisor's home page shows it in red, with the case.
    desk.reload()
    alert = desk.locator(f"#safety-alerts [data-help='{help_request.pk}']")
    expect(alert).to_contain_text("collector_a pressed “I need help”")
    expect(alert.locator(f"a[href='{case.get_absolute_url()}']")).to_be_visible()
    assert horizontal_overflow(phone) <= 0
