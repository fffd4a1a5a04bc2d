"""One rule, one answer, whichever door a move comes in by: the case page, the API, offline sync, the engine."""

import uuid

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse
from django.utils import translation
from rest_framework.test import APIClient

from collections_app.exceptions import CaseRuleError
from collections_app.models import Case, Stage
from collections_app.services.cases import case_transition
from collections_app.workflow import COLLECTOR, SUPERVISOR, SYSTEM, TRANSITIONS
from tests.factories import AccountFactory, CaseFactory, agreement_ready, visit_plan_ready
from tests.visits.helpers import DAYTIME, visit_data

pytestmark = pytest.mark.django_db

# Every move of the table as each of its roles, and each move with the roles that may not fire it.
MOVES = sorted(
    {
        (t.source, t.target, reason, role)
        for t in TRANSITIONS
        for reason in (sorted(t.close_reasons) or [""])
        for role in (COLLECTOR, SUPERVISOR, SYSTEM)
    }
)


def _case(cast, stage: str, *, ready: bool = True, assigned: bool = True) -> Case:
    collector = cast.collector_a if assigned else None
    case = CaseFactory(
        account=AccountFactory(branch=cast.branch_a), team=cast.team_x, stage=stage, assigned_collector=collector
    )
    if ready and stage == Stage.PREPARATION:
        visit_plan_ready(case, cast.collector_a)
    if ready and stage == Stage.NEGOTIATION:
        agreement_ready(case, cast.collector_a)
    return case


def _actor(cast, role):
    return {COLLECTOR: cast.collector_a, SUPERVISOR: cast.supervisor_x, SYSTEM: None}[role]


def _by_page(client, case, target, reason) -> tuple[bool, str]:
    response = client.post(
        reverse("case-transition", args=[case.pk]),
        {"target": target, "close_reason": reason},
        HTTP_ACCEPT_LANGUAGE="en",
    )
    errors = [str(m) for m in get_messages(response.wsgi_request) if m.level_tag == "error"]
    case.refresh_from_db()
    return case.stage == target and not errors, errors[0] if errors else ""


def _by_api(user, case, target, reason) -> tuple[bool, str, str]:
    client = APIClient()
    client.force_authenticate(user)
    response = client.post(
        f"/api/v1/cases/{case.pk}/transition/",
        {"target": target, "close_reason": reason},
        format="json",
        HTTP_ACCEPT_LANGUAGE="en",
    )
    body = response.json()
    return (
        response.status_code == 200,
        body.get("detail", "") if response.status_code != 200 else "",
        body.get("code", ""),
    )


def _by_service(case, target, reason, actor) -> tuple[bool, str, str]:
    try:
        with translation.override("en"):
            case_transition(case=case, target=target, actor=actor, close_reason=reason)
    except CaseRuleError as exc:
        return False, str(exc.message), exc.rule
    return True, "", ""


@pytest.mark.parametrize("source,target,reason,role", MOVES)
def test_every_move_gets_the_same_answer_from_the_page_the_api_and_the_service(
    client, cast, source, target, reason, role
):
    actor = _actor(cast, role)
    by_service = _by_service(_case(cast, source), target, reason, actor)
    if role == SYSTEM:  # the engine has no page or API; it answers from the same table
        allowed = any(t.source == source and t.target == target and SYSTEM in t.roles for t in TRANSITIONS)
        assert by_service[0] == (allowed and (target != Stage.CLOSED or reason in ("cured", "settled")))
        return
    client.force_login(actor)
    by_page = _by_page(client, _case(cast, source), target, reason)
    by_api = _by_api(actor, _case(cast, source), target, reason)
    assert by_page == by_service[:2] == by_api[:2]
    assert by_api[2] == by_service[2]


@pytest.mark.parametrize(
    "stage,setup,rule",
    [
        (Stage.PREPARATION, {"ready": False}, "ready_to_visit"),
        (Stage.SCREENING, {"assigned": False}, "collector_assigned"),
        (Stage.NEGOTIATION, {"ready": False}, "agreement_in_place"),
    ],
)
def test_a_guard_refuses_the_same_move_with_the_same_rule_at_every_door(client, cast, stage, setup, rule):
    target = {Stage.PREPARATION: Stage.VISIT, Stage.SCREENING: Stage.PREPARATION}.get(stage, Stage.FOLLOW_UP)
    actor = cast.supervisor_x
    client.force_login(actor)
    by_service = _by_service(_case(cast, stage, **setup), target, "", actor)
    by_page = _by_page(client, _case(cast, stage, **setup), target, "")
    by_api = _by_api(actor, _case(cast, stage, **setup), target, "")
    assert by_service[0] is False and by_service[2] == rule
    assert by_page == by_service[:2] == by_api[:2] and by_api[2] == rule


@pytest.fixture
def _daytime(time_machine, settings, tmp_path):
    time_machine.move_to(DAYTIME, tick=True)
    settings.MEDIA_ROOT = tmp_path / "media"


def _visit_api(cast, case):
    client = APIClient()
    client.force_authenticate(cast.collector_a)
    payload = {
        "case": case.pk,
        "idempotency_key": str(uuid.uuid4()),
        "checked_in_at": DAYTIME.replace(hour=10, minute=0).isoformat(),
        "identity_confirmed": True,
        "met": "borrower",
        "outcome": "other",
    }
    return client.post("/api/v1/visits/", payload, format="json")


def _visit_sync(client, case):
    data = {**visit_data(idempotency_key=str(uuid.uuid4()), outcome="other"), "case": str(case.pk)}
    return client.post(reverse("visit-sync"), data, HTTP_ACCEPT="application/json")


@pytest.mark.usefixtures("_daytime")
@pytest.mark.parametrize(
    "stage,api_answer,sync_answer",
    [
        (Stage.VISIT, (201, ""), (201, "")),
        (Stage.CLOSED, (409, "case_closed"), (409, "closed")),
        (Stage.NEGOTIATION, (409, "case_stage"), (409, "stage")),
    ],
)
def test_a_visit_is_allowed_or_refused_alike_by_the_api_and_offline_sync(client, cast, stage, api_answer, sync_answer):
    api = _visit_api(cast, _case(cast, stage))
    assert (api.status_code, api.json().get("code", "") if api.status_code >= 400 else "") == api_answer
    client.force_login(cast.collector_a)
    sync = _visit_sync(client, _case(cast, stage))
    assert (sync.status_code, sync.json().get("reason", "")) == sync_answer
