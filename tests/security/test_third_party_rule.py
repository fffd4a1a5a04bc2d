"""The rule pack's third-party rule: unrelated third parties only once the borrower proved unreachable."""

import datetime as dt
import uuid

import pytest
from django.urls import reverse

from collections_app.exceptions import RuleRefused
from collections_app.models import CaseEvent, RulePack, Stage
from dashboard.forms import Filters
from dashboard.selectors import dashboard
from tests.visits.helpers import DAYTIME
from visits.models import ContactAttempt, Visit
from visits.services import contact_attempt_log, visit_log

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _daytime(time_machine):
    time_machine.move_to(DAYTIME, tick=True)


def _attempt(case, actor, *, party="borrower", result="no_answer", minutes_ago=30):
    return contact_attempt_log(
        case=case,
        actor=actor,
        channel="call",
        party=party,
        phone_number="13900001111" if party != "borrower" else "13812345678",
        result=result,
        attempted_at=DAYTIME - dt.timedelta(minutes=minutes_ago),
    )


def _refusals(case):
    return CaseEvent.objects.filter(case=case, kind=CaseEvent.Kind.REFUSED, payload__rule="third_party")


def test_calling_a_third_party_before_the_borrower_was_unreachable_is_refused_and_counted(cast, case_a):
    _attempt(case_a, cast.collector_a, minutes_ago=50)
    _attempt(case_a, cast.collector_a, minutes_ago=40)
    with pytest.raises(RuleRefused) as refused:
        _attempt(case_a, cast.collector_a, party="third_party", result="answered")
    assert refused.value.rule == "third_party"
    assert "third-party rule (CN)" in refused.value.message and "never mentioning the debt" in refused.value.message
    assert "2 since the last contact" in refused.value.message
    assert not ContactAttempt.objects.filter(party="third_party").exists()
    assert _refusals(case_a).count() == 1
    compliance = dashboard(user=cast.manager, filters=Filters.default())["compliance"]
    assert [(row["username"], row["third_party"]) for row in compliance] == [("collector_a", 1)]


def test_after_three_failed_attempts_a_third_party_may_be_called(cast, case_a):
    for minutes in (50, 45, 40):
        _attempt(case_a, cast.collector_a, result="busy" if minutes == 45 else "no_answer", minutes_ago=minutes)
    attempt = _attempt(case_a, cast.collector_a, party="third_party", result="message_left")
    assert attempt.party == "third_party" and not _refusals(case_a).exists()


def test_a_successful_contact_starts_the_count_again(cast, case_a):
    for minutes in (60, 55, 50):
        _attempt(case_a, cast.collector_a, minutes_ago=minutes)
    _attempt(case_a, cast.collector_a, result="answered", minutes_ago=45)
    with pytest.raises(RuleRefused):
        _attempt(case_a, cast.collector_a, party="third_party", result="answered")


def test_family_members_are_not_unrelated_third_parties(cast, case_a):
    assert _attempt(case_a, cast.collector_a, party="family", result="answered").pk


def test_the_packs_threshold_is_data(cast, case_a):
    RulePack.objects.filter(code="CN").update(third_party_after_failed_attempts=1)
    _attempt(case_a, cast.collector_a)
    assert _attempt(case_a, cast.collector_a, party="third_party", result="answered").pk


def test_the_contact_form_shows_the_rule_and_records_nothing(client, cast, case_a):
    client.force_login(cast.collector_a)
    response = client.post(
        reverse("contact-attempt-create", args=[case_a.pk]),
        {"channel": "call", "party": "third_party", "other_number": "13900001111", "result": "answered"},
    )
    assert response.status_code == 200
    assert "third-party rule" in " ".join(response.context["form"].non_field_errors())
    assert not ContactAttempt.objects.exists() and _refusals(case_a).count() == 1


def _visit(case, actor, *, outcome):
    return visit_log(
        case=case,
        actor=actor,
        idempotency_key=uuid.uuid4(),
        checked_in_at=DAYTIME - dt.timedelta(minutes=20),
        checked_out_at=DAYTIME - dt.timedelta(minutes=10),
        identity_confirmed=True,
        met="third_party",
        outcome=outcome,
    )


def test_a_visit_dealing_only_with_a_third_party_needs_an_unreachable_borrower(cast, case_in_stage):
    case = case_in_stage(Stage.VISIT)
    with pytest.raises(RuleRefused) as refused:
        _visit(case, cast.collector_a, outcome=Visit.Outcome.OTHER)
    assert refused.value.rule == "third_party" and not Visit.objects.exists()
    case.refresh_from_db()
    assert case.stage == Stage.VISIT and _refusals(case).count() == 1


def test_a_visit_that_did_not_find_the_borrower_may_record_the_third_party_met(cast, case_in_stage):
    case = case_in_stage(Stage.VISIT)
    visit, created = _visit(case, cast.collector_a, outcome=Visit.Outcome.NOT_HOME)
    assert created and visit.met == "third_party" and not _refusals(case).exists()


def test_a_not_home_visit_counts_as_a_failed_attempt(cast, case_in_stage):
    case = case_in_stage(Stage.VISIT)
    _visit(case, cast.collector_a, outcome=Visit.Outcome.NOT_HOME)  # back to preparation
    _attempt(case, cast.collector_a, minutes_ago=9)
    _attempt(case, cast.collector_a, minutes_ago=8)
    assert _attempt(case, cast.collector_a, party="third_party", result="answered", minutes_ago=5).pk
