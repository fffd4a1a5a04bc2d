"""Every writer on a case takes the case lock first (README, "One write authority"): racing writers queue
instead of deadlocking, and nothing is written onto a case after its ``closed_at``."""

import datetime as dt
import uuid

import pytest
from django.utils import timezone

from collections_app.models import Case, CaseEvent, Stage
from repayment.models import Payment
from tests.concurrency.conftest import TRIALS, api_client, assert_no_server_errors, race, walked_case
from tests.visits.helpers import DAYTIME
from visits.models import ContactAttempt, Visit

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]
CLOSE = {"target": "closed", "close_reason": "cured"}
WRITE_KINDS = (CaseEvent.Kind.PAYMENT, CaseEvent.Kind.VISIT, CaseEvent.Kind.CONTACT_ATTEMPT)


def _payment(case, key=None) -> dict:
    data = {"case": case.pk, "amount": "100.00", "paid_on": timezone.localdate().isoformat(), "channel": "cash"}
    return {**data, **({"idempotency_key": key} if key else {})}


def _visit(case, **overrides) -> dict:
    data = {
        "case": case.pk,
        "idempotency_key": str(uuid.uuid4()),
        "checked_in_at": (DAYTIME - dt.timedelta(minutes=40)).isoformat(),
        "checked_out_at": (DAYTIME - dt.timedelta(minutes=5)).isoformat(),
        "identity_confirmed": True,
        "met": "borrower",
        "outcome": "other",
        "geo_status": "unavailable",
        "notes": "Talked at the door.",
    }
    return {**data, **overrides}


def assert_nothing_after_close(case: Case) -> None:
    """The close is the case's last write: no payment, visit or contact after it, and no next action."""
    case.refresh_from_db()
    assert case.stage == Stage.CLOSED and case.closed_at is not None
    assert case.next_action == "" and case.next_action_due is None
    close = CaseEvent.objects.get(case=case, kind=CaseEvent.Kind.TRANSITION, to_stage=Stage.CLOSED)
    assert not CaseEvent.objects.filter(case=case, kind__in=WRITE_KINDS, pk__gt=close.pk).exists()
    assert not Payment.objects.filter(case=case, recorded_at__gt=case.closed_at).exists()
    assert not Visit.objects.filter(case=case, created_at__gt=case.closed_at).exists()
    assert not ContactAttempt.objects.filter(case=case, created_at__gt=case.closed_at).exists()


def test_payment_racing_a_close_never_deadlocks_nor_lands_after_it(cast):
    collector, supervisor = api_client(cast.collector_a), api_client(cast.supervisor_x)
    for _trial in range(TRIALS):
        case = walked_case(cast, Stage.VISIT)
        pay, close = race(
            lambda case=case: collector.post("/api/v1/payments/", _payment(case), format="json"),
            lambda case=case: supervisor.post(f"/api/v1/cases/{case.pk}/transition/", CLOSE, format="json"),
        )
        assert_no_server_errors([pay, close])
        assert close.status == 200, close.body
        assert pay.status in (201, 409), pay.body
        if pay.status == 409:
            assert pay.body["code"] in ("case_closed", "StaleObject")
        assert_nothing_after_close(case)


def test_visit_racing_a_close_never_deadlocks_nor_lands_after_it(cast):
    collector, supervisor = api_client(cast.collector_a), api_client(cast.supervisor_x)
    for _trial in range(TRIALS):
        case = walked_case(cast, Stage.VISIT)
        visit, close = race(
            lambda case=case: collector.post("/api/v1/visits/", _visit(case), format="json"),
            lambda case=case: supervisor.post(f"/api/v1/cases/{case.pk}/transition/", CLOSE, format="json"),
        )
        assert_no_server_errors([visit, close])
        assert close.status == 200, close.body
        assert visit.status in (201, 409), visit.body
        assert_nothing_after_close(case)


class _Answer:
    """A service call's outcome in the shape ``race`` reads from a response."""

    def __init__(self, status_code: int, body: dict):
        self.status_code, self.body = status_code, body

    def json(self) -> dict:
        return self.body


def _attempt(cast, case, result=ContactAttempt.Result.ANSWERED) -> _Answer:
    """Log a call through the service (contact attempts have no API): 201, or the refusal as 409/400."""
    from visits.services import contact_attempt_log

    try:
        contact_attempt_log(
            case=Case.objects.select_related("account__branch").get(pk=case.pk),
            actor=cast.collector_a,
            channel=ContactAttempt.Channel.CALL,
            party="borrower",
            phone_number=f"138{case.pk:08d}",  # the cap counts per number: one number per case
            result=result,
            idempotency_key=uuid.uuid4(),
        )
    except Exception as exc:  # noqa: BLE001 -- a refusal is an answer
        status = 409 if getattr(exc, "conflict", False) else 400
        return _Answer(status, {"detail": str(exc), "code": getattr(exc, "code", "")})
    return _Answer(201, {})


def test_contact_attempt_racing_a_close_lands_before_it_or_not_at_all(cast):
    supervisor = api_client(cast.supervisor_x)
    for _trial in range(TRIALS):
        case = walked_case(cast, Stage.VISIT)
        logged, close = race(
            lambda case=case: _attempt(cast, case),
            lambda case=case: supervisor.post(f"/api/v1/cases/{case.pk}/transition/", CLOSE, format="json"),
        )
        assert_no_server_errors([logged, close])
        assert close.status == 200 and logged.status in (201, 409), logged.body
        assert_nothing_after_close(case)


def test_two_transitions_from_one_stage_move_the_case_once(cast):
    collector, supervisor = api_client(cast.collector_a), api_client(cast.supervisor_x)
    for _trial in range(TRIALS):
        case = walked_case(cast, Stage.VISIT)
        url = f"/api/v1/cases/{case.pk}/transition/"
        first, second = race(
            lambda url=url: collector.post(url, {"target": "negotiation"}, format="json"),
            lambda url=url: supervisor.post(url, {"target": "preparation"}, format="json"),
        )
        assert_no_server_errors([first, second])
        winner, loser = (first, second) if first.status == 200 else (second, first)
        assert winner.status == 200, (first.body, second.body)
        # Read while the winner held the lock: a conflict; read after it committed: the table refuses the move.
        assert (loser.status, loser.body["code"]) in ((409, "StaleObject"), (409, "transition")), loser.body
        moves = CaseEvent.objects.filter(case=case, kind=CaseEvent.Kind.TRANSITION, from_stage=Stage.VISIT)
        assert moves.count() == 1


def test_two_assignments_of_one_case_assign_it_once(cast):
    supervisor, admin = api_client(cast.supervisor_x), api_client(cast.admin)
    from collections_app.services.cases import case_open
    from tests.factories import AccountFactory

    for _trial in range(TRIALS):
        case = case_open(account=AccountFactory(branch=cast.branch_a), actor=cast.supervisor_x, team=cast.team_x)
        url = f"/api/v1/cases/{case.pk}/assign/"
        first, second = race(
            lambda url=url: supervisor.post(url, {"collector": cast.collector_a.pk}, format="json"),
            lambda url=url: admin.post(url, {"collector": cast.collector_a2.pk}, format="json"),
        )
        assert_no_server_errors([first, second])
        winner, loser = (first, second) if first.status == 200 else (second, first)
        assert winner.status == 200, (first.body, second.body)
        # Read while the winner held the lock: a conflict; read after it committed: a reassignment needs a reason.
        assert loser.status == 409, loser.body  # a conflict, or (read after the commit) a reassignment needs a reason
        assigned = CaseEvent.objects.filter(case=case, kind__in=(CaseEvent.Kind.ASSIGNED, CaseEvent.Kind.REASSIGNED))
        assert assigned.count() == 1
        winner = cast.collector_a if first.status == 200 else cast.collector_a2
        assert Case.objects.get(pk=case.pk).assigned_collector == winner


def test_four_payments_with_one_key_make_one_row_one_201_and_three_200s(cast):
    collector = api_client(cast.collector_a)
    for trial in range(TRIALS):
        case = walked_case(cast, Stage.VISIT)
        data = _payment(case, key=f"race-{case.pk}-{trial}")
        outcomes = race(*[lambda data=data: collector.post("/api/v1/payments/", data, format="json")] * 4)
        assert_no_server_errors(outcomes)
        assert sorted(o.status for o in outcomes) == [200, 200, 200, 201], [o.body for o in outcomes]
        assert Payment.objects.filter(case=case).count() == 1
        assert len({str(o.body) for o in outcomes}) == 1  # the replays answer the first body


def test_four_visits_with_one_key_make_one_row_one_201_and_three_200s(cast):
    collector = api_client(cast.collector_a)
    for _trial in range(TRIALS):
        case = walked_case(cast, Stage.VISIT)
        data = _visit(case)
        outcomes = race(*[lambda data=data: collector.post("/api/v1/visits/", data, format="json")] * 4)
        assert_no_server_errors(outcomes)
        assert sorted(o.status for o in outcomes) == [200, 200, 200, 201], [o.body for o in outcomes]
        assert Visit.objects.filter(case=case).count() == 1


def test_calls_racing_for_the_last_allowed_attempt_make_one_call_and_record_the_refusals(cast):
    """The attempt cap is judged under the case lock: four calls racing for the last of the pack's six
    unanswered attempts make one call; the other three are refused by the rule, and each refusal is recorded
    (the compliance record outlives the refused write's rollback)."""
    for _trial in range(TRIALS):
        case = walked_case(cast, Stage.VISIT)
        for _used in range(5):
            assert _attempt(cast, case, ContactAttempt.Result.NO_ANSWER).status_code == 201
        outcomes = race(*[lambda case=case: _attempt(cast, case, ContactAttempt.Result.NO_ANSWER)] * 4)
        assert_no_server_errors(outcomes)
        assert sorted(o.status for o in outcomes) == [201, 400, 400, 400], [o.body for o in outcomes]
        assert {o.body["code"] for o in outcomes if o.status == 400} == {"attempt_cap"}
        assert ContactAttempt.objects.filter(case=case).count() == 6
        refusals = CaseEvent.objects.filter(case=case, kind=CaseEvent.Kind.REFUSED, payload__rule="attempt_cap")
        assert refusals.count() == 3
