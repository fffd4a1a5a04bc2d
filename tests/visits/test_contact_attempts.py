import datetime as dt

import pytest
from django.urls import reverse

from collections_app.models import AuditLog, CaseEvent, RulePack
from tests.visits.helpers import DAYTIME, QUIET
from visits.models import ContactAttempt
from visits.services import contact_attempt_log

pytestmark = pytest.mark.django_db


def _post(client, case, **data):
    phone = case.account.borrower.phones.first()
    payload = {"channel": "call", "party": "borrower", "phone": phone.pk, "result": "no_answer", **data}
    return client.post(reverse("contact-attempt-create", args=[case.pk]), payload)


def _log(case, actor, number, result="no_answer", when=None):
    return contact_attempt_log(
        case=case,
        actor=actor,
        channel="call",
        party="borrower",
        phone_number=number,
        result=result,
        attempted_at=when or DAYTIME - dt.timedelta(minutes=30),
    )


def test_collector_logs_a_contact_attempt_from_the_case_page(client, cast, case_a):
    client.force_login(cast.collector_a)
    response = _post(client, case_a, result="answered", note="Will call back")
    assert response.status_code == 302 and response.url == case_a.get_absolute_url()
    attempt = ContactAttempt.objects.get(case=case_a)
    assert (attempt.actor, attempt.result, attempt.phone_number) == (cast.collector_a, "answered", "13812345678")
    event = CaseEvent.objects.get(case=case_a, kind=CaseEvent.Kind.CONTACT_ATTEMPT)
    assert event.payload["phone"] == "138****5678"
    assert AuditLog.objects.filter(action="contact_attempt.log", object_id=str(attempt.pk)).exists()
    case_a.account.refresh_from_db()
    assert case_a.account.last_contact_at == attempt.attempted_at

    page = client.get(case_a.get_absolute_url()).content.decode()
    assert "138****5678" in page and "13812345678" not in page
    assert "Contact attempt" in page


def test_unanswered_attempt_does_not_count_as_contact(client, cast, case_a):
    client.force_login(cast.collector_a)
    _post(client, case_a, result="busy")
    case_a.account.refresh_from_db()
    assert case_a.account.last_contact_at is None


def test_contact_in_quiet_hours_is_refused_and_recorded(client, cast, case_a, time_machine):
    time_machine.move_to(QUIET, tick=True)
    client.force_login(cast.collector_a)
    response = _post(client, case_a)
    assert response.status_code == 200
    assert "quiet-hours rule" in response.content.decode()
    assert not ContactAttempt.objects.exists()
    refusal = CaseEvent.objects.get(case=case_a, kind=CaseEvent.Kind.REFUSED)
    assert refusal.payload["rule"] == "quiet_hours" and refusal.payload["action"] == "contact"


def test_attempt_cap_refuses_the_seventh_unanswered_call_to_a_number_that_day(client, cast, case_a):
    for _ in range(6):
        _log(case_a, cast.collector_a, "13812345678")
    client.force_login(cast.collector_a)
    response = _post(client, case_a)
    assert response.status_code == 200
    assert "attempt-cap rule" in response.content.decode()
    assert ContactAttempt.objects.count() == 6
    refusal = CaseEvent.objects.get(case=case_a, kind=CaseEvent.Kind.REFUSED)
    assert refusal.payload["rule"] == "attempt_cap"
    # Another number, an SMS, and yesterday's attempts are outside the cap.
    assert _post(client, case_a, phone="", other_number="13900001111").status_code == 302
    assert _post(client, case_a, channel="sms").status_code == 302


def test_attempts_from_yesterday_do_not_count_towards_todays_cap(cast, case_a):
    for _ in range(6):
        _log(case_a, cast.collector_a, "13812345678", when=DAYTIME - dt.timedelta(days=1))
    assert _log(case_a, cast.collector_a, "13812345678").pk


def test_attempt_cap_counts_per_debt_when_the_pack_says_so(cast, case_a):
    RulePack.objects.update_or_create(
        code="CN",
        defaults={
            "name": "test",
            "max_unanswered_attempts": 2,
            "attempts_window_days": 7,
            "attempts_per_number": False,
        },
    )
    _log(case_a, cast.collector_a, "13800000001", when=DAYTIME - dt.timedelta(days=3))
    _log(case_a, cast.collector_a, "13800000002")
    from collections_app.exceptions import RuleRefused

    with pytest.raises(RuleRefused) as refused:
        _log(case_a, cast.collector_a, "13800000003")
    assert refused.value.rule == "attempt_cap"


def test_attempt_in_the_future_is_a_form_error(client, cast, case_a):
    client.force_login(cast.collector_a)
    future = (DAYTIME + dt.timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M")
    response = _post(client, case_a, attempted_at=future)
    assert response.status_code == 200 and "in the future" in response.content.decode()
    assert not ContactAttempt.objects.exists()


def test_manager_may_not_log_attempts_and_other_teams_get_404(client, cast, case_a):
    client.force_login(cast.manager)
    assert _post(client, case_a).status_code == 403
    for user in (cast.collector_b, cast.supervisor_y, cast.collector_a2):
        client.force_login(user)
        assert _post(client, case_a).status_code == 404
    client.force_login(cast.supervisor_x)
    assert _post(client, case_a).status_code == 302
    assert ContactAttempt.objects.get().actor == cast.supervisor_x


def test_the_contact_form_knows_how_many_unanswered_calls_each_number_has_used(client, cast, case_a):
    phone = case_a.account.borrower.phones.first()
    for _ in range(2):
        _log(case_a, cast.collector_a, phone.number)
    client.force_login(cast.collector_a)
    response = client.get(reverse("contact-attempt-create", args=[case_a.pk]))
    page = response.content.decode()
    assert response.context["rules"]["attempts_used"][str(phone.pk)] == 2
    assert response.context["rules"]["attempts_max"] == 6
    assert 'data-rule-attempts-max="6"' in page and "data-rule-attempts-used=" in page
