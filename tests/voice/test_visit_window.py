"""A visit time the borrower asks for through their link goes on the case's preparation, and the collector's
route arrives inside it; a time that is past, too far ahead, backwards or in the quiet hours is refused."""

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse

from collections_app.models import AuditLog, BorrowerAddress, CaseEvent, Stage
from tests.visits.helpers import DAYTIME
from visits.models import VisitPlan
from visits.selectors_today import today_route
from voice import links
from voice.services_link import link_create

pytestmark = pytest.mark.django_db
TODAY = DAYTIME.date()  # 2026-03-10, 10:30 in Shanghai


@pytest.fixture
def visit_case(case_in_stage):
    case = case_in_stage(Stage.VISIT)  # its preparation plans the visit for tomorrow
    address = BorrowerAddress.objects.create(
        borrower=case.account.borrower, text="苏州市姑苏区人民路1号", lat=Decimal("31.3000"), lng=Decimal("120.6000")
    )
    VisitPlan.objects.filter(case=case).update(address=address)
    return case


def _ask(client, case, cast, **fields):
    link = link_create(case=case, actor=cast.collector_a)
    data = {"action": "request", "request-kind": "visit", **{f"request-{k}": v for k, v in fields.items()}}
    return client.post(reverse("borrower-page", kwargs={"token": links.sign(link)}), data)


def test_the_borrowers_window_moves_the_planned_visit_into_it_and_the_route_arrives_inside(client, cast, visit_case):
    response = _ask(client, visit_case, cast, day=TODAY.isoformat(), time_from="14:00", time_to="16:00")
    assert response.status_code == 302
    plan = VisitPlan.objects.get(case=visit_case)
    starts = DAYTIME.replace(hour=14, minute=0)
    assert (plan.window_start, plan.window_end, plan.planned_at) == (starts, starts.replace(hour=16), starts)
    asked = CaseEvent.objects.get(case=visit_case, payload__action="visit_requested")
    assert (asked.payload["starts"], asked.payload["ends"]) == (starts.isoformat(), starts.replace(hour=16).isoformat())
    assert AuditLog.objects.filter(action="visit_plan.window", object_id=str(plan.pk)).exists()

    route = today_route(viewer=cast.collector_a, collector=cast.collector_a, start=(31.29, 120.58), now=DAYTIME)
    [stop] = route.stops
    assert stop.plan == plan and starts <= stop.eta <= starts.replace(hour=16)

    client.force_login(cast.collector_a)
    timeline = client.get(visit_case.get_absolute_url()).content.decode()
    assert "The borrower asked for a visit · 03/10/2026 2 p.m. - 4 p.m." in timeline


def test_a_planned_time_already_inside_the_window_stays(client, cast, visit_case):
    VisitPlan.objects.filter(case=visit_case).update(planned_at=DAYTIME.replace(hour=15))
    _ask(client, visit_case, cast, day=TODAY.isoformat(), time_from="14:00", time_to="16:00")
    assert VisitPlan.objects.get(case=visit_case).planned_at == DAYTIME.replace(hour=15)


@pytest.mark.parametrize(
    "fields,message",
    [
        ({"day": TODAY.isoformat(), "time_from": "16:00", "time_to": "14:00"}, "after its start"),
        ({"day": TODAY.isoformat(), "time_from": "14:00"}, "Give the day, and the time from and until"),
        ({"day": (TODAY - dt.timedelta(days=1)).isoformat(), "time_from": "14:00", "time_to": "16:00"}, "not passed"),
        ({"day": (TODAY + dt.timedelta(days=61)).isoformat(), "time_from": "14:00", "time_to": "16:00"}, "60 days"),
        ({"day": TODAY.isoformat(), "time_from": "20:30", "time_to": "22:30"}, "Choose a time between"),
        ({}, "Say when suits you"),
    ],
)
def test_a_window_that_cannot_be_kept_is_refused_and_changes_nothing(client, cast, visit_case, fields, message):
    before = VisitPlan.objects.get(case=visit_case).planned_at
    response = _ask(client, visit_case, cast, **fields)
    assert response.status_code == 400 and message in response.content.decode()
    plan = VisitPlan.objects.get(case=visit_case)
    assert (plan.window_start, plan.window_end, plan.planned_at) == (None, None, before)
    assert not CaseEvent.objects.filter(case=visit_case, payload__action="visit_requested").exists()


def test_a_callback_at_a_time_leaves_the_visit_preparation_alone(client, cast, visit_case):
    before = VisitPlan.objects.get(case=visit_case).planned_at
    link = link_create(case=visit_case, actor=cast.collector_a)
    data = {
        "action": "request",
        "request-kind": "callback",
        "request-day": TODAY.isoformat(),
        "request-time_from": "14:00",
        "request-time_to": "15:00",
    }
    assert client.post(reverse("borrower-page", kwargs={"token": links.sign(link)}), data).status_code == 302
    plan = VisitPlan.objects.get(case=visit_case)
    assert (plan.window_start, plan.planned_at) == (None, before)
    assert CaseEvent.objects.get(case=visit_case, payload__action="callback_requested").payload["starts"]
