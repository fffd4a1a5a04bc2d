"""The one write authority: refusals name their rule, the API maps them to 400/409, keys make writes once."""

import datetime as dt
import uuid
from decimal import Decimal

import pytest
from django.utils import timezone

from collections_app.exceptions import CaseRuleError
from collections_app.models import Case, CaseEvent, Stage
from collections_app.services.authority import case_lock
from collections_app.services.cases import case_transition
from repayment.models import Payment
from repayment.services import payment_record
from tests.factories import agreement_ready
from tests.visits.helpers import DAYTIME
from visits.models import ContactAttempt
from visits.services import contact_attempt_log

pytestmark = pytest.mark.django_db


def _pay(client, case, **extra):
    data = {"case": case.pk, "amount": "100.00", "paid_on": timezone.localdate().isoformat(), "channel": "cash"}
    return client.post("/api/v1/payments/", {**data, **extra}, format="json")


def test_a_payment_on_a_case_closed_through_a_stale_copy_is_refused_as_a_conflict(cast, case_in_stage):
    case = case_in_stage(Stage.NEGOTIATION)
    stale = Case.objects.get(pk=case.pk)
    case_transition(case=case, target=Stage.CLOSED, actor=cast.supervisor_x, close_reason="written_off")
    with pytest.raises(CaseRuleError) as refused:
        payment_record(
            case=stale, actor=cast.collector_a, amount=Decimal("10.00"), paid_on=timezone.localdate(), channel="cash"
        )
    assert refused.value.rule == "case_closed" and refused.value.conflict
    assert not Payment.objects.exists()


def test_the_api_answers_409_with_the_rule_for_a_closed_case(api, cast, case_in_stage):
    case = case_in_stage(Stage.NEGOTIATION)
    case_transition(case=case, target=Stage.CLOSED, actor=cast.supervisor_x, close_reason="written_off")
    response = _pay(api(cast.supervisor_x), case)
    assert response.status_code == 409
    assert response.json()["code"] == "case_closed" and "closed" in response.json()["detail"]


def test_the_idempotency_key_header_makes_a_payment_once(api, cast, case_in_stage):
    case = case_in_stage(Stage.NEGOTIATION)
    client = api(cast.collector_a)
    client.credentials(HTTP_AUTHORIZATION=client._credentials["HTTP_AUTHORIZATION"], HTTP_IDEMPOTENCY_KEY="pay-h1")
    first, again = _pay(client, case), _pay(client, case)
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json() == again.json() and Payment.objects.get().idempotency_key == "pay-h1"
    differ = _pay(client, case, idempotency_key="other")
    assert differ.status_code == 400 and "idempotency_key" in differ.json()["errors"]


def test_the_case_lock_refreshes_the_callers_copy(cast, case_in_stage):
    from django.db import transaction

    case = case_in_stage(Stage.NEGOTIATION)
    stale = Case.objects.get(pk=case.pk)
    agreement_ready(case, cast.collector_a)
    case_transition(case=case, target=Stage.FOLLOW_UP, actor=cast.collector_a)
    with transaction.atomic():
        assert case_lock(stale).stage == Stage.FOLLOW_UP


def test_the_same_contact_form_posted_twice_records_one_attempt(client, cast, case_a, time_machine):
    time_machine.move_to(DAYTIME, tick=False)
    key = uuid.uuid4()
    kwargs = {
        "case": case_a,
        "actor": cast.collector_a,
        "channel": ContactAttempt.Channel.CALL,
        "party": "borrower",
        "phone_number": "13800000000",
        "result": ContactAttempt.Result.NO_ANSWER,
        "idempotency_key": key,
    }
    first = contact_attempt_log(**kwargs)
    again = contact_attempt_log(**kwargs)
    assert first.pk == again.pk and ContactAttempt.objects.count() == 1
    assert CaseEvent.objects.filter(case=case_a, kind=CaseEvent.Kind.CONTACT_ATTEMPT).count() == 1


def test_the_contact_page_sends_its_key_once(client, cast, case_a, time_machine):
    from django.urls import reverse

    time_machine.move_to(DAYTIME, tick=True)
    client.force_login(cast.collector_a)
    url = reverse("contact-attempt-create", args=[case_a.pk])
    assert 'name="idempotency_key"' in client.get(url).content.decode()
    data = {
        "channel": "call",
        "party": "borrower",
        "other_number": "13800000000",
        "result": "no_answer",
        "idempotency_key": str(uuid.uuid4()),
    }
    assert client.post(url, data).status_code == 302
    assert client.post(url, data).status_code == 302
    assert ContactAttempt.objects.filter(case=case_a).count() == 1
    assert ContactAttempt.objects.get().attempted_at <= timezone.now() + dt.timedelta(minutes=1)


@pytest.mark.parametrize(
    "details", [{"monthly_income": Decimal("8000.00")}, {"outcome": "promised"}, {"overdue_reason": "income_loss"}]
)
def test_the_service_itself_keeps_debt_details_from_a_third_party_visit(cast, case_in_stage, time_machine, details):
    """The rule lives in the service: whichever door (form, API, sync) is bypassed, ``visit_log`` refuses."""
    from visits.models import Visit
    from visits.services import VisitRefused, visit_log

    time_machine.move_to(DAYTIME, tick=True)
    case = case_in_stage(Stage.VISIT)
    kwargs = {
        "case": case,
        "actor": cast.collector_a,
        "idempotency_key": uuid.uuid4(),
        "checked_in_at": DAYTIME - dt.timedelta(minutes=30),
        "checked_out_at": None,
        "identity_confirmed": True,
        "met": "third_party",
        "outcome": "not_home",
        **details,
    }
    with pytest.raises(VisitRefused, match="third party"):
        visit_log(**kwargs)
    assert not Visit.objects.exists()
