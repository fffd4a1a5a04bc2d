import datetime as dt

import pytest
from django.urls import reverse

from collections_app.models import CaseEvent, Stage
from tests.visits.helpers import DAYTIME, SHANGHAI, local_input, plan_data
from visits.models import VisitPlan

pytestmark = pytest.mark.django_db


def _save_plan(client, case, **overrides):
    address = case.account.borrower.addresses.first()
    return client.post(reverse("case-preparation", args=[case.pk]), plan_data(address, **overrides))


def _move(client, case, target):
    return client.post(reverse("case-transition", args=[case.pk]), {"target": target})


def test_collector_prepares_a_visit_and_it_becomes_the_next_action(client, cast, case_in_stage):
    case = case_in_stage(Stage.PREPARATION)
    client.force_login(cast.collector_a)
    assert client.get(reverse("case-preparation", args=[case.pk])).status_code == 200
    response = _save_plan(client, case)
    assert response.status_code == 302
    plan = VisitPlan.objects.get(case=case)
    assert plan.ready and plan.address.borrower_id == case.account.borrower_id
    case.refresh_from_db()
    assert case.next_action_due == plan.planned_at == DAYTIME + dt.timedelta(days=1)
    assert "Suzhou Road 1" in case.next_action
    assert CaseEvent.objects.filter(case=case, kind=CaseEvent.Kind.PREPARATION).count() == 1
    # Saving again edits the one current plan.
    _save_plan(client, case, talking_points="New points")
    assert VisitPlan.objects.get(case=case).talking_points == "New points"


def test_scheduling_in_quiet_hours_is_refused_on_the_form_unless_the_borrower_consented(client, cast, case_in_stage):
    case = case_in_stage(Stage.PREPARATION)
    client.force_login(cast.collector_a)
    late = local_input(dt.datetime(2026, 3, 11, 22, 30, tzinfo=SHANGHAI))
    response = _save_plan(client, case, planned_at=late)
    assert response.status_code == 200
    form = response.context["form"]
    assert "quiet-hours rule" in " ".join(form.errors["planned_at"])
    assert not VisitPlan.objects.exists()
    assert CaseEvent.objects.get(case=case, kind=CaseEvent.Kind.REFUSED).payload["action"] == "schedule"

    assert _save_plan(client, case, planned_at=late, consent_outside_hours="on").status_code == 302
    assert VisitPlan.objects.get(case=case).consent_outside_hours


def test_plan_address_must_be_the_borrowers(client, cast, case_in_stage, case_a):
    from tests.factories import AccountFactory

    stranger = AccountFactory(branch=cast.branch_a).borrower.addresses.first()
    case = case_in_stage(Stage.PREPARATION)
    client.force_login(cast.collector_a)
    response = _save_plan(client, case, address=str(stranger.pk))
    assert response.status_code == 200 and "address" in response.context["form"].errors
    assert not VisitPlan.objects.exists()


def test_planned_time_in_the_past_is_a_form_error(client, cast, case_in_stage):
    case = case_in_stage(Stage.PREPARATION)
    client.force_login(cast.collector_a)
    response = _save_plan(client, case, planned_at=local_input(DAYTIME - dt.timedelta(days=1)))
    assert "planned_at" in response.context["form"].errors


def test_moving_to_visit_needs_a_complete_checklist_and_a_planned_time(client, cast, case_in_stage):
    case = case_in_stage(Stage.PREPARATION)
    client.force_login(cast.collector_a)
    response = _move(client, case, Stage.VISIT)
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.stage == Stage.PREPARATION
    messages = [str(m) for m in response.wsgi_request._messages]
    assert any("checklist" in m for m in messages)

    _save_plan(client, case, talking_points="")
    _move(client, case, Stage.VISIT)
    case.refresh_from_db()
    assert case.stage == Stage.PREPARATION

    _save_plan(client, case)
    _move(client, case, Stage.VISIT)
    case.refresh_from_db()
    assert case.stage == Stage.VISIT


def test_preparation_is_refused_outside_preparation_and_visit(client, cast, case_a):
    client.force_login(cast.collector_a)
    response = _save_plan(client, case_a)
    assert response.status_code == 200
    assert "preparation or visit" in response.content.decode()
    assert not VisitPlan.objects.exists()


def test_preparation_page_roles(client, cast, case_in_stage):
    case = case_in_stage(Stage.PREPARATION)
    url = reverse("case-preparation", args=[case.pk])
    client.force_login(cast.manager)
    assert client.get(url).status_code == 403
    client.force_login(cast.supervisor_y)
    assert client.get(url).status_code == 404
    client.force_login(cast.supervisor_x)
    assert _save_plan(client, case).status_code == 302
    assert client.put(url).status_code == 405
