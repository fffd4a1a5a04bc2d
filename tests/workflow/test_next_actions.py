"""The next action is derived from the stage on every move, shown in the reader's language, and gone on close."""

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone, translation

from collections_app.models import Case, Stage
from collections_app.selectors.home import next_cases
from collections_app.services.cases import case_transition
from collections_app.workflow import NEXT_STEPS
from repayment.services import payment_record, promise_create
from tests.factories import AccountFactory, CaseFactory

pytestmark = pytest.mark.django_db


def _page(client, case, language: str) -> str:
    return client.get(reverse("case-detail", args=[case.pk]), HTTP_ACCEPT_LANGUAGE=language).content.decode()


def test_a_closed_case_has_no_next_action(cast, case_in_stage):
    case = case_in_stage(Stage.NEGOTIATION)
    assert case.next_action == NEXT_STEPS[Stage.NEGOTIATION] and case.next_action_due is not None
    case_transition(case=case, target=Stage.CLOSED, actor=cast.supervisor_x, close_reason="written_off")
    case.refresh_from_db()
    assert (case.next_action, case.next_action_due) == ("", None)


def test_a_case_cured_by_a_payment_has_no_next_action(cast, case_in_stage):
    case = case_in_stage(Stage.NEGOTIATION)
    payment_record(
        case=case,
        actor=cast.collector_a,
        amount=case.account.overdue_amount,
        paid_on=timezone.localdate(),
        channel="cash",
    )
    case = Case.objects.get(pk=case.pk)
    assert case.stage == Stage.CLOSED and (case.next_action, case.next_action_due) == ("", None)


def test_an_agreement_replaces_the_negotiation_step_with_the_follow_up_step(cast, case_in_stage):
    case = case_in_stage(Stage.NEGOTIATION)
    promise_create(
        case=case, actor=cast.collector_a, amount=Decimal("100.00"), due_date=timezone.localdate() + dt.timedelta(3)
    )
    case = Case.objects.get(pk=case.pk)
    assert case.stage == Stage.FOLLOW_UP
    assert case.next_action == NEXT_STEPS[Stage.FOLLOW_UP] and case.next_action_due is None


def test_a_step_written_by_a_chinese_user_reads_in_each_readers_language(client, cast, case_in_stage):
    with translation.override("zh-hans"):
        case = case_in_stage(Stage.NEGOTIATION)
    client.force_login(cast.collector_a)
    english, chinese = _page(client, case, "en"), _page(client, case, "zh-hans")
    assert "Negotiate a repayment plan" in english and "协商还款计划" not in english
    assert "协商还款计划" in chinese and "Negotiate a repayment plan" not in chinese


def test_a_typed_note_is_shown_as_written_in_both_languages(client, cast, case_a):
    Case.objects.filter(pk=case_a.pk).update(next_action="给借款人打电话", next_action_due=timezone.now())
    client.force_login(cast.collector_a)
    assert "给借款人打电话" in _page(client, case_a, "en") and "给借款人打电话" in _page(client, case_a, "zh-hans")


def test_undated_next_actions_sort_last_on_the_home_page(cast):
    def case(due):
        return CaseFactory(
            account=AccountFactory(branch=cast.branch_a),
            team=cast.team_x,
            stage=Stage.FOLLOW_UP,
            assigned_collector=cast.collector_a,
            next_action="x",
            next_action_due=due,
        )

    undated, later, sooner = case(None), case(timezone.now() + dt.timedelta(days=2)), case(timezone.now())
    assert [c.pk for c in next_cases(cast.collector_a)] == [sooner.pk, later.pk, undated.pk]
