"""Field safety: the safety timer (alert, escalation, cancel on check-out), the help button's queue, the
two-collector rule, and the supervisor's home page in red."""

import datetime as dt
import uuid

import pytest
from django.urls import reverse
from django.utils import timezone

from collections_app.exceptions import DoorstepError
from collections_app.models import AuditLog, Notification, Stage
from quality import safety
from quality.models import HelpRequest, SafetyCheckIn, UnsafeAddress
from quality.tasks import sweep_safety

pytestmark = pytest.mark.django_db


@pytest.fixture
def visit_case(case_in_stage):
    return case_in_stage(Stage.VISIT)


def test_overstay_alerts_the_supervisor_then_the_manager(visit_case, cast, time_machine):
    checkin = safety.safety_check_in(case=visit_case, actor=cast.collector_a, expected_minutes=30)
    time_machine.shift(dt.timedelta(minutes=44))  # expected 30 + grace 15 not yet over
    assert sweep_safety() == {"alerted": 0, "escalated": 0}
    time_machine.shift(dt.timedelta(minutes=2))
    assert sweep_safety() == {"alerted": 1, "escalated": 0}
    assert sweep_safety() == {"alerted": 0, "escalated": 0}  # once
    alert = Notification.objects.get(recipient=cast.supervisor_x, kind="safety")
    assert "collector_a" in alert.text and str(visit_case.pk) in alert.text
    time_machine.shift(dt.timedelta(minutes=16))
    assert sweep_safety() == {"alerted": 0, "escalated": 1}
    assert Notification.objects.filter(recipient=cast.manager, kind="safety").count() == 1
    checkin.refresh_from_db()
    assert checkin.alerted_at and checkin.escalated_at
    assert AuditLog.objects.filter(action="safety.alert").count() == 2


def test_checking_out_in_time_cancels_the_alert(visit_case, cast, time_machine):
    checkin = safety.safety_check_in(case=visit_case, actor=cast.collector_a, expected_minutes=30)
    time_machine.shift(dt.timedelta(minutes=20))
    safety.safety_check_out(checkin=checkin, actor=cast.collector_a)
    time_machine.shift(dt.timedelta(hours=3))
    assert sweep_safety() == {"alerted": 0, "escalated": 0}
    assert not Notification.objects.filter(kind="safety").exists()


def test_one_open_check_in_per_collector_and_only_the_collector(visit_case, cast):
    safety.safety_check_in(case=visit_case, actor=cast.collector_a, expected_minutes=30)
    with pytest.raises(DoorstepError, match="already checked in"):
        safety.safety_check_in(case=visit_case, actor=cast.collector_a, expected_minutes=30)
    with pytest.raises(DoorstepError, match="case's collector"):
        safety.safety_check_in(case=visit_case, actor=cast.collector_a2, expected_minutes=30)


def test_an_unsafe_address_needs_a_second_collector_of_the_team(visit_case, cast):
    from collections_app.models import BorrowerAddress
    from visits.models import VisitPlan

    address = BorrowerAddress.objects.create(borrower=visit_case.account.borrower, text="苏州市姑苏区 1 号")
    VisitPlan.objects.filter(case=visit_case).update(address=address)
    plan = VisitPlan.objects.get(case=visit_case)
    UnsafeAddress.objects.create(address=plan.address, flagged_by=cast.supervisor_x, reason="dog, threats")
    assert safety.needs_two_collectors(visit_case)
    with pytest.raises(DoorstepError, match="second collector"):
        safety.safety_check_in(case=visit_case, actor=cast.collector_a, expected_minutes=30)
    with pytest.raises(DoorstepError, match="team"):
        safety.safety_check_in(case=visit_case, actor=cast.collector_a, expected_minutes=30, companion=cast.collector_b)
    checkin = safety.safety_check_in(
        case=visit_case, actor=cast.collector_a, expected_minutes=30, companion=cast.collector_a2
    )
    assert checkin.companion == cast.collector_a2


def test_help_pressed_offline_and_sent_twice_when_back_online_is_one_request(client, visit_case, cast, time_machine):
    client.force_login(cast.collector_a)
    pressed = timezone.now()
    payload = {
        "client_id": str(uuid.uuid4()),
        "pressed_at": pressed.isoformat(),
        "case": visit_case.pk,
        "lat": "31.298900",
        "lng": "120.585300",
    }
    time_machine.shift(dt.timedelta(minutes=7))  # the phone was offline; its queue sends when back online
    first = client.post(reverse("safety-help"), payload)
    again = client.post(reverse("safety-help"), payload)  # a retry whose first answer was lost
    assert (first.status_code, again.status_code) == (201, 200)
    request = HelpRequest.objects.get()
    assert request.pressed_at == pressed and request.received_at > pressed
    alert = Notification.objects.get(recipient=cast.supervisor_x, kind="help")
    assert "31.298900, 120.585300" in alert.text
    assert AuditLog.objects.filter(action="safety.help").count() == 1
    bad = client.post(reverse("safety-help"), {"client_id": "nope"})
    assert bad.status_code == 400 and "client_id" in bad.json()["errors"]


def test_supervisor_home_shows_overdue_and_help_in_red(client, visit_case, cast, time_machine):
    safety.safety_check_in(case=visit_case, actor=cast.collector_a, expected_minutes=30)
    safety.help_request(actor=cast.collector_a, client_id=uuid.uuid4(), pressed_at=timezone.now(), case=visit_case)
    time_machine.shift(dt.timedelta(minutes=50))
    sweep_safety()
    client.force_login(cast.supervisor_x)
    page = client.get(reverse("home")).content.decode()
    assert (
        'id="safety-alerts"' in page and "text-bg-danger" in page and "data-overdue=" in page and "data-help=" in page
    )
    client.force_login(cast.supervisor_y)
    assert 'id="safety-alerts"' not in client.get(reverse("home")).content.decode()
    client.force_login(cast.manager)
    assert "data-overdue=" not in client.get(reverse("home")).content.decode()  # not escalated yet


def test_case_page_check_in_and_out(client, visit_case, cast):
    client.force_login(cast.collector_a)
    page = client.get(visit_case.get_absolute_url()).content.decode()
    assert 'id="safety"' in page and "data-help-button" in page
    response = client.post(reverse("safety-check-in", args=[visit_case.pk]), {"expected_minutes": "40"})
    assert response.status_code == 302
    checkin = SafetyCheckIn.objects.get()
    assert "data-checked-in" in client.get(visit_case.get_absolute_url()).content.decode()
    client.force_login(cast.collector_a2)
    assert client.post(reverse("safety-check-out", args=[checkin.pk])).status_code == 404
    client.force_login(cast.collector_a)
    assert client.post(reverse("safety-check-out", args=[checkin.pk])).status_code == 302
    checkin.refresh_from_db()
    assert checkin.status == SafetyCheckIn.Status.CHECKED_OUT
    client.force_login(cast.supervisor_x)
    assert 'id="safety"' not in client.get(visit_case.get_absolute_url()).content.decode()


def test_a_hostile_visit_flags_its_address_for_two_collectors(visit_case, cast, django_capture_on_commit_callbacks):
    from collections_app.models import BorrowerAddress
    from visits.models import Visit, VisitPlan

    address = BorrowerAddress.objects.create(borrower=visit_case.account.borrower, text="无锡市 2 号")
    VisitPlan.objects.filter(case=visit_case).update(address=address)
    with django_capture_on_commit_callbacks(execute=True):
        Visit.objects.create(
            case=visit_case,
            collector=cast.collector_a,
            checked_in_at=timezone.now(),
            outcome="refused",
            attitude="hostile",
        )
    assert UnsafeAddress.objects.filter(address=address).exists()
    assert safety.needs_two_collectors(visit_case)
