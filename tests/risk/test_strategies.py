"""Champion/challenger: a seeded, recorded, balanced assignment; intervals match hand-computed values."""

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from collections_app.models import Case, CaseEvent, CloseReason, Stage
from collections_app.services.cases import case_open
from risk.models import Strategy, StrategyAssignment
from risk.strategies import (
    draw,
    pick,
    ratio_interval,
    strategy_assign,
    strategy_create,
    strategy_results,
    two_proportion_p,
    wilson,
)
from tests.factories import AccountFactory

pytestmark = pytest.mark.django_db


def _strategies(cast, holdout_weight=1):
    visit = strategy_create(actor=cast.manager, name="Visit in 3 days", first_step="visit", first_due_days=3, weight=2)
    call = strategy_create(
        actor=cast.manager, name="Call twice, visit after 7", first_step="call", first_due_days=1, weight=2
    )
    holdout = strategy_create(
        actor=cast.manager, name="Usual", first_step="visit", first_due_days=0, weight=holdout_weight, is_holdout=True
    )
    return visit, call, holdout


def test_wilson_interval_matches_the_hand_computed_example():
    # 8 of 20: p = 0.4, z = 1.959964; centre = (0.4 + z²/40) / (1 + z²/20) = 0.416117,
    # half width = z·sqrt(0.4·0.6/20 + z²/1600) / (1 + z²/20) = 0.197306.
    low, high = wilson(8, 20)
    assert low == pytest.approx(0.2188, abs=1e-4) and high == pytest.approx(0.6134, abs=1e-4)
    assert wilson(0, 0) is None
    assert wilson(0, 10)[0] == 0.0


def test_two_proportion_test_matches_the_hand_computed_example():
    # 30/100 vs 15/100: pooled 0.225, se = sqrt(0.225·0.775·0.02) = 0.059055, z = 2.540, p = 0.0111.
    assert two_proportion_p(30, 100, 15, 100) == pytest.approx(0.0111, abs=1e-4)
    assert two_proportion_p(10, 100, 10, 100) == pytest.approx(1.0)


def test_ratio_interval_matches_the_hand_computed_example():
    # paid 50, 0, 100 of 100, 100, 200: R = 150/400 = 0.375; residuals 12.5, -37.5, 25;
    # se = sqrt((156.25 + 1406.25 + 625) / 6) / (400/3) = 19.094 / 133.33 = 0.14321.
    ratio, (low, high) = ratio_interval([50, 0, 100], [100, 100, 200])
    assert ratio == 0.375
    assert low == pytest.approx(0.375 - 1.959964 * 0.143205, abs=1e-5)
    assert high == pytest.approx(0.375 + 1.959964 * 0.143205, abs=1e-5)


def test_the_draw_is_reproducible_and_assignment_is_balanced_within_tolerance(cast):
    strategies = list(_strategies(cast))
    assert draw("doorstep", 42) == draw("doorstep", 42) != draw("other", 42)
    counts = {s.pk: 0 for s in strategies}
    n = 10_000
    for case_id in range(1, n + 1):
        counts[pick(strategies, draw("doorstep", case_id)).pk] += 1
    # Shares 2 : 2 : 1 → 40 %, 40 %, 20 %; three standard errors of 10,000 draws is about 1.5 points.
    expected = [0.4, 0.4, 0.2]
    for strategy, share in zip(strategies, expected, strict=True):
        assert abs(counts[strategy.pk] / n - share) < 0.015


def test_a_new_case_gets_its_strategy_and_first_step_once(cast, django_capture_on_commit_callbacks):
    visit, _call, _holdout = _strategies(cast)
    with django_capture_on_commit_callbacks(execute=True):
        case = case_open(account=AccountFactory(branch=cast.branch_a), actor=cast.supervisor_x, team=cast.team_x)
    assignment = StrategyAssignment.objects.get(case=case)
    assert assignment.draw == draw("doorstep", case.pk) and assignment.seed == "doorstep"
    assert strategy_assign(case_id=case.pk).pk == assignment.pk  # a second delivery changes nothing
    case.refresh_from_db()
    event = case.events.filter(kind=CaseEvent.Kind.NOTE).get()
    assert event.payload["strategy"] == assignment.strategy.name
    if assignment.strategy.is_holdout:
        assert case.next_action_due is None
    else:
        days = assignment.strategy.first_due_days
        assert abs(case.next_action_due - (timezone.now() + dt.timedelta(days=days))) < dt.timedelta(minutes=1)
    assert visit.pk  # strategies were active


def test_no_active_strategy_leaves_new_cases_alone(cast, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        case = case_open(account=AccountFactory(branch=cast.branch_a), actor=cast.supervisor_x, team=cast.team_x)
    assert not StrategyAssignment.objects.filter(case=case).exists()


def _case(cast, strategy, *, days_ago, cured_after=None):
    account = AccountFactory(branch=cast.branch_a)
    opened = timezone.now() - dt.timedelta(days=days_ago)
    case = Case.objects.create(account=account, team=cast.team_x, overdue_amount_at_open=Decimal("1000"))
    fields = {"opened_at": opened}
    if cured_after is not None:
        fields.update(
            stage=Stage.CLOSED, close_reason=CloseReason.CURED, closed_at=opened + dt.timedelta(days=cured_after)
        )
    Case.objects.filter(pk=case.pk).update(**fields)
    StrategyAssignment.objects.create(case=case, strategy=strategy, draw=0.5, seed="t")
    return case


def test_results_count_cures_within_30_and_60_days_and_say_when_data_is_short(cast):
    visit, call, _holdout = _strategies(cast)
    _case(cast, visit, days_ago=90, cured_after=10)
    _case(cast, visit, days_ago=90, cured_after=45)
    _case(cast, visit, days_ago=40)
    _case(cast, visit, days_ago=5, cured_after=2)  # too young for either window
    _case(cast, call, days_ago=90)
    results = strategy_results()
    arm = next(a for a in results["arms"] if a.strategy == visit)
    assert arm.cases == 4
    assert (arm.cure[30]["n"], arm.cure[30]["cured"]) == (3, 1)
    assert (arm.cure[60]["n"], arm.cure[60]["cured"]) == (2, 2)
    assert arm.cure[30]["ci"] == wilson(1, 3)
    assert not results["verdict"]["enough"] and "Not enough data" in results["verdict"]["text"]


def test_results_call_a_winner_only_when_the_difference_is_significant(cast):
    visit, call, holdout = _strategies(cast)
    for i in range(60):
        _case(cast, visit, days_ago=40, cured_after=5 if i < 30 else None)
        _case(cast, holdout, days_ago=40, cured_after=5 if i < 10 else None)
        _case(cast, call, days_ago=40, cured_after=5 if i < 12 else None)
    verdict = strategy_results()["verdict"]
    assert verdict["enough"]
    assert "Visit in 3 days cures more cases within 30 days than Usual" in verdict["text"]
    assert "No significant difference in 30-day cure between Call twice, visit after 7 and Usual" in verdict["text"]


def test_results_page_for_supervisors_and_managers_only(client, cast):
    _strategies(cast)
    client.force_login(cast.supervisor_x)
    body = client.get(reverse("strategies")).content.decode()
    assert 'data-strategy="Visit in 3 days"' in body and 'data-testid="verdict"' in body
    response = client.post(
        reverse("strategies"),
        {"name": "SMS first", "first_step": "call", "first_due_days": 2, "weight": 1, "description": ""},
    )
    assert response.status_code == 302 and Strategy.objects.filter(name="SMS first").exists()
    strategy = Strategy.objects.get(name="SMS first")
    client.post(reverse("strategy-toggle", args=[strategy.pk]))
    strategy.refresh_from_db()
    assert not strategy.is_active
    client.force_login(cast.collector_a)
    assert client.get(reverse("strategies")).status_code == 403
