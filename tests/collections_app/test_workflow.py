import pytest

from collections_app.exceptions import NotPermitted, StaleObject, TransitionNotAllowed
from collections_app.models import AuditLog, Case, CaseEvent, CloseReason, Stage
from collections_app.services.cases import case_assign, case_open, case_transition
from collections_app.workflow import COLLECTOR, SUPERVISOR, SYSTEM, TRANSITIONS, transition_targets
from tests.factories import AccountFactory, CaseFactory, agreement_ready, visit_plan_ready

pytestmark = pytest.mark.django_db


def _case(cast, stage):
    return CaseFactory(
        account=AccountFactory(branch=cast.branch_a), team=cast.team_x, stage=stage, assigned_collector=cast.collector_a
    )


def _actor(cast, role):
    return {COLLECTOR: cast.collector_a, SUPERVISOR: cast.supervisor_x, SYSTEM: None}[role]


ALLOWED = [
    (t.source, t.target, role, reason)
    for t in TRANSITIONS
    for role in sorted(t.roles)
    for reason in (sorted(t.close_reasons) or [""])
]


@pytest.mark.parametrize("source,target,role,reason", ALLOWED)
def test_every_allowed_transition_moves_the_case_and_writes_an_event(cast, source, target, role, reason):
    case = _case(cast, source)
    actor = _actor(cast, role)
    if (source, target) == (Stage.PREPARATION, Stage.VISIT):
        visit_plan_ready(case, cast.collector_a)  # the guard of this move (tests/workflow pins it)
    if (source, target) == (Stage.NEGOTIATION, Stage.FOLLOW_UP):
        agreement_ready(case, cast.collector_a)  # the guard of this move (tests/workflow pins it)
    # A legal close carries the summary its evidence pack needs (tests/evidence/test_legal_doors.py).
    note = "Refused three visits; the file goes to court." if reason == CloseReason.LEGAL else ""
    case_transition(case=case, target=target, actor=actor, close_reason=reason, note=note)
    case.refresh_from_db()
    assert case.stage == target
    event = CaseEvent.objects.get(case=case, kind=CaseEvent.Kind.TRANSITION)
    assert (event.from_stage, event.to_stage, event.actor) == (source, target, actor)
    assert AuditLog.objects.filter(action="case.transition", object_id=str(case.pk)).exists()
    if target == Stage.CLOSED:
        assert case.close_reason == reason and case.closed_at is not None


FORBIDDEN = [
    (Stage.SCREENING, Stage.VISIT, COLLECTOR, ""),
    (Stage.SCREENING, Stage.FOLLOW_UP, SUPERVISOR, ""),
    (Stage.PREPARATION, Stage.NEGOTIATION, COLLECTOR, ""),
    (Stage.PREPARATION, Stage.SCREENING, COLLECTOR, ""),
    (Stage.VISIT, Stage.FOLLOW_UP, COLLECTOR, ""),
    (Stage.NEGOTIATION, Stage.CLOSED, COLLECTOR, CloseReason.WRITTEN_OFF),
    (Stage.FOLLOW_UP, Stage.CLOSED, COLLECTOR, CloseReason.LEGAL),
    (Stage.FOLLOW_UP, Stage.CLOSED, SYSTEM, CloseReason.LEGAL),
    (Stage.FOLLOW_UP, Stage.CLOSED, SUPERVISOR, ""),
    (Stage.CLOSED, Stage.PREPARATION, COLLECTOR, ""),
    (Stage.CLOSED, Stage.VISIT, SUPERVISOR, ""),
    (Stage.SCREENING, Stage.PREPARATION, SYSTEM, ""),
]


@pytest.mark.parametrize("source,target,role,reason", FORBIDDEN)
def test_forbidden_transitions_are_refused_and_change_nothing(cast, source, target, role, reason):
    case = _case(cast, source)
    with pytest.raises(TransitionNotAllowed):
        case_transition(case=case, target=target, actor=_actor(cast, role), close_reason=reason)
    case.refresh_from_db()
    assert case.stage == source
    assert not CaseEvent.objects.filter(case=case).exists()


@pytest.mark.parametrize("who", ["collector_b", "collector_a2", "supervisor_y", "manager"])
def test_users_without_a_role_on_the_case_cannot_move_it(cast, who):
    case = _case(cast, Stage.PREPARATION)
    with pytest.raises(TransitionNotAllowed):
        case_transition(case=case, target=Stage.VISIT, actor=getattr(cast, who))
    assert transition_targets(case, getattr(cast, who)) == []


def test_unknown_stage_is_refused(cast):
    with pytest.raises(TransitionNotAllowed):
        case_transition(case=_case(cast, Stage.VISIT), target="teleport", actor=cast.collector_a)


def test_preparation_needs_an_assigned_collector(cast):
    case = case_open(account=AccountFactory(branch=cast.branch_a), actor=cast.supervisor_x, team=cast.team_x)
    with pytest.raises(TransitionNotAllowed, match="Assign a collector"):
        case_transition(case=case, target=Stage.PREPARATION, actor=cast.supervisor_x)


def test_stale_instance_loses_a_concurrent_transition(cast):
    case = _case(cast, Stage.VISIT)
    first = Case.objects.get(pk=case.pk)
    second = Case.objects.get(pk=case.pk)
    case_transition(case=first, target=Stage.NEGOTIATION, actor=cast.collector_a)
    with pytest.raises(StaleObject):
        case_transition(case=second, target=Stage.PREPARATION, actor=cast.collector_a)
    case.refresh_from_db()
    assert case.stage == Stage.NEGOTIATION
    assert CaseEvent.objects.filter(case=case, kind=CaseEvent.Kind.TRANSITION).count() == 1


def test_transition_buttons_match_the_table(cast):
    case = _case(cast, Stage.FOLLOW_UP)
    collector_targets = {(b["target"], b["close_reason"]) for b in transition_targets(case, cast.collector_a)}
    assert collector_targets == {
        (Stage.VISIT, ""),
        (Stage.NEGOTIATION, ""),
        (Stage.CLOSED, CloseReason.CURED),
        (Stage.CLOSED, CloseReason.SETTLED),
    }
    supervisor_targets = {(b["target"], b["close_reason"]) for b in transition_targets(case, cast.supervisor_x)}
    assert (Stage.CLOSED, CloseReason.WRITTEN_OFF) in supervisor_targets
    assert (Stage.CLOSED, CloseReason.LEGAL) in supervisor_targets


def test_open_case_twice_on_one_account_is_refused(cast):
    account = AccountFactory(branch=cast.branch_a)
    case_open(account=account, actor=cast.supervisor_x, team=cast.team_x)
    with pytest.raises(TransitionNotAllowed, match="already has an open case"):
        case_open(account=account, actor=cast.supervisor_x, team=cast.team_x)
    assert Case.objects.filter(account=account).count() == 1


def test_supervisor_cannot_open_a_case_for_another_team(cast):
    with pytest.raises(NotPermitted):
        case_open(account=AccountFactory(branch=cast.branch_b), actor=cast.supervisor_x, team=cast.team_y)


def test_reassignment_needs_a_reason_and_a_collector_of_the_team(case_a, cast):
    with pytest.raises(NotPermitted):
        case_assign(case=case_a, collector=cast.collector_b, actor=cast.supervisor_x, reason="x")
    with pytest.raises(TransitionNotAllowed, match="reason"):
        case_assign(case=case_a, collector=cast.collector_a2, actor=cast.supervisor_x)
    case_assign(case=case_a, collector=cast.collector_a2, actor=cast.supervisor_x, reason="leave")
    case_a.refresh_from_db()
    assert case_a.assigned_collector == cast.collector_a2
    event = CaseEvent.objects.get(case=case_a, kind=CaseEvent.Kind.REASSIGNED)
    assert event.payload["reason"] == "leave"


def test_reopen_refused_while_the_account_has_another_open_case(cast):
    closed = _case(cast, Stage.CLOSED)
    case_open(account=closed.account, actor=cast.supervisor_x, team=cast.team_x)
    with pytest.raises(TransitionNotAllowed, match="another open case"):
        case_transition(case=closed, target=Stage.PREPARATION, actor=cast.supervisor_x)
    closed.refresh_from_db()
    assert closed.stage == Stage.CLOSED


def test_open_case_flag_follows_open_close_and_reopen(cast):
    account = AccountFactory(branch=cast.branch_a)
    case = case_open(account=account, actor=cast.supervisor_x, team=cast.team_x)
    account.refresh_from_db()
    assert account.has_open_case
    case_transition(case=case, target=Stage.CLOSED, actor=cast.supervisor_x, close_reason=CloseReason.WRITTEN_OFF)
    account.refresh_from_db()
    assert not account.has_open_case
    with pytest.raises(TransitionNotAllowed, match="Assign a collector"):
        case_transition(case=case, target=Stage.PREPARATION, actor=cast.supervisor_x)
    Case.objects.filter(pk=case.pk).update(assigned_collector=cast.collector_a)
    case.assigned_collector = cast.collector_a
    case_transition(case=case, target=Stage.PREPARATION, actor=cast.supervisor_x)
    account.refresh_from_db()
    assert account.has_open_case
