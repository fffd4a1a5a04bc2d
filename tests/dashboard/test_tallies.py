"""The dashboard's tallies give the numbers a scan of the live rows gives (README, "Dashboard", "Tallies")."""

import datetime as dt
from decimal import Decimal

import pytest
from django.db.models import F
from django.utils import timezone

from collections_app.aging import local_today
from collections_app.models import AuditLog, Case, CaseEvent, Stage
from collections_app.services.cases import case_open, case_transition
from dashboard import selectors
from dashboard.forms import Filters
from dashboard.models import DayTally, StateTally, TallyMark
from dashboard.scope import Scope
from dashboard.tallies import DAY_MARK, ROLL_MARGIN, day_tally_roll, state_tally_refresh
from repayment.models import Payment, RepaymentPlan
from repayment.services import payment_record
from tests.factories import AccountFactory
from visits.models import ContactAttempt, Visit

pytestmark = pytest.mark.django_db

LATER = dt.timedelta(hours=1)


def _live(monkeypatch, user, filters) -> dict:
    """The dashboard computed from the live rows only (what it was before tallies existed)."""
    with monkeypatch.context() as patch:
        patch.setattr(Scope, "reads_tallies", property(lambda self: False))
        return selectors.dashboard(user=user, filters=filters)


def _comparable(data: dict) -> dict:
    return {key: value for key, value in data.items() if key != "state_taken_at"}


def _age_facts() -> None:
    """Move every fact's "recorded" time an hour back, as if the data set had been entered earlier."""
    for model, field in ((Visit, "created_at"), (ContactAttempt, "created_at"), (Payment, "recorded_at")):
        model.objects.update(**{field: F(field) - LATER})
    CaseEvent.objects.filter(created_at__gt=timezone.now() - LATER).update(created_at=F("created_at") - LATER)
    RepaymentPlan.objects.filter(closed_at__gt=timezone.now() - LATER).update(closed_at=F("closed_at") - LATER)


def _roll_everything() -> None:
    """Roll now, after the data set's facts were recorded: all of them go into the day tally."""
    _age_facts()
    day_tally_roll()
    state_tally_refresh()


@pytest.mark.parametrize("role", ["manager", "supervisor_x"])
@pytest.mark.parametrize("period", ["dataset", "month", "90d"])
def test_tallied_dashboard_equals_the_live_one(monkeypatch, cast, dataset, role, period):
    user = getattr(cast, role)
    filters = dataset.period if period == "dataset" else Filters.default()
    if period == "90d":
        today = local_today()
        filters = Filters(None, None, today - dt.timedelta(days=89), today, "90d")
    live = _live(monkeypatch, user, filters)
    _roll_everything()
    assert DayTally.objects.exists() and StateTally.objects.exists()
    tallied = selectors.dashboard(user=user, filters=filters)
    assert tallied["state_taken_at"] is not None  # the state tally was read, not the live rows
    assert _comparable(tallied) == _comparable(live)


def test_facts_recorded_after_the_roll_are_read_live(monkeypatch, cast, dataset):
    _roll_everything()
    case = dataset.cases["follow_up"]
    now = timezone.now()
    Visit.objects.create(case=case, collector=cast.collector_a, checked_in_at=now, outcome="promised")
    Payment.objects.create(
        case=case, amount=Decimal("12.34"), paid_on=local_today(), channel="cash", recorded_by=cast.collector_a
    )
    CaseEvent.objects.create(
        case=case, kind=CaseEvent.Kind.TRANSITION, from_stage="visit", to_stage="negotiation", stage_seconds=86400
    )
    filters = Filters.default()
    tallied = selectors.dashboard(user=cast.manager, filters=filters)
    live = _live(monkeypatch, cast.manager, filters)
    assert _comparable(tallied) == _comparable(live)
    collector = next(row for row in tallied["collectors"] if row["username"] == cast.collector_a.username)
    assert collector["visits"] >= 1


def test_closures_and_plan_ends_after_the_roll_are_read_live(monkeypatch, cast, dataset):
    _roll_everything()
    assert DayTally.objects.filter(metric=DayTally.Metric.CLOSURE).exists()
    assert DayTally.objects.filter(metric=DayTally.Metric.PLAN_END, key="completed").exists()
    before = selectors.dashboard(user=cast.manager, filters=dataset.period)
    case = dataset.cases["follow_up"]
    case_transition(case=case, target=Stage.CLOSED, actor=cast.collector_a, close_reason="cured")
    plan = RepaymentPlan.objects.get(case=case, status=RepaymentPlan.Status.ACTIVE)
    RepaymentPlan.objects.filter(pk=plan.pk).update(status=RepaymentPlan.Status.DEFAULTED, closed_at=timezone.now())
    after = selectors.dashboard(user=cast.manager, filters=dataset.period)
    assert after["stages"]["closed"] == before["stages"]["closed"] + 1
    assert after["plans"]["defaulted"] == before["plans"]["defaulted"] + 1
    live = _live(monkeypatch, cast.manager, dataset.period)  # the state tally is a snapshot: compare the facts
    assert after["stages"]["closed"] == live["stages"]["closed"]
    assert (after["plans"]["completed"], after["plans"]["defaulted"]) == (
        live["plans"]["completed"],
        live["plans"]["defaulted"],
    )


def test_a_reopened_case_keeps_its_closure_and_a_second_one_counts_again(monkeypatch, cast, dataset):
    """Closures are the transition events into closed: reopening does not undo the work of closing."""
    case = dataset.cases["closed"]
    before = selectors.dashboard(user=cast.supervisor_x, filters=dataset.period)["stages"]["closed"]
    case_transition(case=case, target=Stage.PREPARATION, actor=cast.supervisor_x)
    assert selectors.dashboard(user=cast.supervisor_x, filters=dataset.period)["stages"]["closed"] == before
    case.refresh_from_db()
    case_transition(case=case, target=Stage.CLOSED, actor=cast.supervisor_x, close_reason="written_off")
    _roll_everything()
    tallied = selectors.dashboard(user=cast.supervisor_x, filters=dataset.period)
    assert tallied["stages"]["closed"] == before + 1
    assert _comparable(tallied) == _comparable(_live(monkeypatch, cast.supervisor_x, dataset.period))


def test_a_roll_adds_each_fact_once(cast, dataset):
    later = timezone.now() + LATER + ROLL_MARGIN
    first = day_tally_roll(now=later)
    totals = {m: sum(DayTally.objects.filter(metric=m).values_list("n", flat=True)) for m in DayTally.Metric.values}
    assert sum(first.values()) == sum(totals.values()) > 0
    assert totals[DayTally.Metric.VISIT] == Visit.objects.count()
    assert day_tally_roll(now=later) == {}  # the watermark has not moved: nothing new
    assert day_tally_roll(now=later + dt.timedelta(hours=2)) == {}  # moved, but nothing was recorded since
    again = {m: sum(DayTally.objects.filter(metric=m).values_list("n", flat=True)) for m in DayTally.Metric.values}
    assert again == totals
    assert TallyMark.objects.get(name=DAY_MARK).upto == later + dt.timedelta(hours=2) - ROLL_MARGIN
    assert AuditLog.objects.filter(action="dashboard.tally.roll").count() == 2


def test_the_watermark_stays_behind_the_clock(cast, dataset):
    """A fact recorded within the margin (its transaction may still be open elsewhere) is not rolled."""
    day_tally_roll(now=timezone.now())
    assert not DayTally.objects.filter(metric=DayTally.Metric.VISIT).exists()
    assert TallyMark.objects.get(name=DAY_MARK).upto < timezone.now() - ROLL_MARGIN + dt.timedelta(seconds=5)


def test_a_stale_state_tally_is_not_read(monkeypatch, cast, dataset):
    state_tally_refresh(now=timezone.now() - dt.timedelta(days=1))
    data = selectors.dashboard(user=cast.manager, filters=Filters.default())
    assert data["state_taken_at"] is None
    assert _comparable(data) == _comparable(_live(monkeypatch, cast.manager, Filters.default()))


def test_the_state_tally_is_a_snapshot_until_retaken(cast, dataset):
    state_tally_refresh()
    before = selectors.dashboard(user=cast.manager, filters=Filters.default())
    account = AccountFactory(
        branch=cast.branch_a, overdue_since=local_today() - dt.timedelta(days=10), overdue_amount=Decimal("99.00")
    )
    case_open(account=account, team=cast.team_x, actor=cast.supervisor_x)
    unchanged = selectors.dashboard(user=cast.manager, filters=Filters.default())
    assert unchanged["portfolio"] == before["portfolio"]
    assert unchanged["stages"]["screening"] == before["stages"]["screening"]
    state_tally_refresh()
    after = selectors.dashboard(user=cast.manager, filters=Filters.default())
    assert after["portfolio"]["accounts"] == before["portfolio"]["accounts"] + 1
    assert after["stages"]["screening"] == before["stages"]["screening"] + 1


def test_a_supervisor_never_reads_another_teams_tally_rows(cast, dataset):
    _roll_everything()
    mine = selectors.dashboard(user=cast.supervisor_x, filters=Filters.default())
    everything = selectors.dashboard(user=cast.manager, filters=Filters.default())
    assert mine["portfolio"]["accounts"] < everything["portfolio"]["accounts"]
    other = Filters(cast.branch_b, None, local_today().replace(day=1), local_today(), "month")
    assert selectors.dashboard(user=cast.supervisor_x, filters=other)["portfolio"]["accounts"] == 0


def test_another_time_zone_reads_live(monkeypatch, cast, dataset):
    _roll_everything()
    with timezone.override("America/New_York"):
        data = selectors.dashboard(user=cast.manager, filters=Filters.default())
    assert data["state_taken_at"] is None


def test_a_payment_moves_its_cases_last_paid_on_forward_only(cast, dataset):
    case = dataset.cases["follow_up"]
    today = local_today()
    latest = Case.objects.get(pk=case.pk).last_paid_on
    assert latest == today - dt.timedelta(days=3)  # the dataset's latest payment
    for paid_on in (today - dt.timedelta(days=1), today - dt.timedelta(days=5), today, today - dt.timedelta(days=2)):
        payment_record(case=case, actor=cast.collector_a, amount=Decimal("1.00"), paid_on=paid_on, channel="cash")
        latest = max(latest, paid_on)
        assert Case.objects.get(pk=case.pk).last_paid_on == latest
    assert latest == today


@pytest.mark.parametrize("role", ["manager", "supervisor_x"])
def test_with_tallies_the_query_count_is_the_same_for_10_and_1000_accounts(client, cast, role):
    from tests.dashboard.test_query_count import _page_queries, _populate

    user = getattr(cast, role)
    _populate(cast, 10)
    _roll_everything()
    small = _page_queries(client, user, {"period": "30d"})
    _populate(cast, 990)
    _roll_everything()
    large = _page_queries(client, user, {"period": "30d"})
    assert small == large <= 15
