"""Every KPI of the fixed data set (tests/dashboard/conftest.py), computed by hand."""

import datetime as dt
from decimal import Decimal

import pytest

from dashboard import selectors
from dashboard.forms import Filters
from tests.dashboard.conftest import BOUNDARY_DPDS

pytestmark = pytest.mark.django_db

D = Decimal


def test_portfolio_counts_delinquent_accounts_only(dataset, cast):
    data = selectors.dashboard(user=cast.supervisor_x, filters=dataset.period)
    overdue = sum(D(dpd) + D("0.50") for dpd in BOUNDARY_DPDS) + D("7.00")
    assert data["portfolio"] == {
        "accounts": 15,  # 14 boundary accounts + the one with no date; the paid-up one is not delinquent
        "outstanding_balance": D("14500.00"),
        "overdue_amount": overdue,
    }
    assert overdue == D("2001.00")


def test_aging_buckets_at_their_boundaries(dataset, cast):
    data = selectors.dashboard(user=cast.supervisor_x, filters=dataset.period)
    assert data["aging"] == [
        {"bucket": "1-30", "accounts": 2, "overdue_amount": D("32.00")},  # DPD 1, 30
        {"bucket": "31-60", "accounts": 2, "overdue_amount": D("92.00")},  # DPD 31, 60
        {"bucket": "61-90", "accounts": 2, "overdue_amount": D("152.00")},  # DPD 61, 90
        {"bucket": "91-180", "accounts": 2, "overdue_amount": D("272.00")},  # DPD 91, 180
        {"bucket": "181+", "accounts": 5, "overdue_amount": D("1445.50")},  # 181, 270, 271, 360, 361
    ]


def test_classification_at_its_boundaries(dataset, cast):
    data = selectors.dashboard(user=cast.supervisor_x, filters=dataset.period)
    assert data["classification"] == [
        {"class": "normal", "accounts": 2, "overdue_amount": D("7.50")},  # DPD 0 and no date
        {"class": "special_mention", "accounts": 6, "overdue_amount": D("276.00")},  # 1 … 90
        {"class": "substandard", "accounts": 4, "overdue_amount": D("724.00")},  # 91, 180, 181, 270
        {"class": "doubtful", "accounts": 2, "overdue_amount": D("632.00")},  # 271, 360
        {"class": "loss", "accounts": 1, "overdue_amount": D("361.50")},  # 361
    ]


def test_manager_sees_every_branch(dataset, cast):
    data = selectors.dashboard(user=cast.manager, filters=dataset.period)
    assert data["portfolio"]["accounts"] == 17
    assert data["portfolio"]["overdue_amount"] == D("7001.00")
    assert data["aging"][1] == {"bucket": "31-60", "accounts": 4, "overdue_amount": D("5092.00")}


def test_stage_funnel_and_average_days(dataset, cast):
    data = selectors.dashboard(user=cast.supervisor_x, filters=dataset.period)
    assert data["stages"] == {
        "screening": 1,
        "preparation": 0,
        "visit": 0,
        "negotiation": 0,
        "follow_up": 1,
        "closed": 1,
    }
    # screening: (2 + 4) / 2; preparation: (3 + 1) / 2; visit 1; negotiation 4; nobody left follow-up.
    assert data["stage_days"] == {
        "screening": 3.0,
        "preparation": 2.0,
        "visit": 1.0,
        "negotiation": 4.0,
        "follow_up": None,
    }
    assert selectors.dashboard(user=cast.manager, filters=dataset.period)["stages"]["screening"] == 2


def test_stays_that_ended_before_the_period_are_not_averaged(dataset, cast):
    today = dataset.today
    late = Filters(branch=None, team=None, date_from=today - dt.timedelta(days=5), date_to=today)
    # Only the follow-up case's negotiation stay (6 → 2 days ago) ended in the last 6 days.
    days = selectors.dashboard(user=cast.supervisor_x, filters=late)["stage_days"]
    assert days == {"screening": None, "preparation": None, "visit": None, "negotiation": 4.0, "follow_up": None}


def test_recovery_amount_rate_and_weeks(dataset, cast):
    data = selectors.dashboard(user=cast.supervisor_x, filters=dataset.period)["recovery"]
    assert data["recovered_amount"] == D("100.00")
    assert data["overdue_at_open"] == D("153.00")  # 61.50 + 91.50, the cases paid into
    assert data["recovery_rate"] == round(100 / 153, 4)
    expected: dict[dt.date, Decimal] = {}
    for amount, days_ago in ((D("30.00"), 3), (D("20.00"), 10), (D("50.00"), 1)):
        day = dataset.today - dt.timedelta(days=days_ago)
        monday = day - dt.timedelta(days=day.weekday())
        expected[monday] = expected.get(monday, D("0")) + amount
    weeks = {w["week"]: w["recovered_amount"] for w in data["weeks"]}
    assert {(k if isinstance(k, dt.date) else k.date()): v for k, v in weeks.items()} == expected

    manager = selectors.dashboard(user=cast.manager, filters=dataset.period)["recovery"]
    assert manager["recovered_amount"] == D("877.00")
    assert manager["recovery_rate"] == round(877 / 2153, 4)


def test_promises_and_plans(dataset, cast):
    data = selectors.dashboard(user=cast.supervisor_x, filters=dataset.period)
    assert data["promises"] == {
        "due": 4,
        "kept": 2,
        "partially_kept": 1,
        "broken": 1,
        "pending": 1,
        "kept_rate": 0.5,
    }
    assert data["plans"] == {"active": 1, "completed": 1, "defaulted": 0}
    manager = selectors.dashboard(user=cast.manager, filters=dataset.period)["promises"]
    assert (manager["due"], manager["broken"], manager["kept_rate"]) == (5, 2, 0.4)


# What the scorecard adds beside these (satisfaction, tests/dashboard/test_satisfaction.py) and its keys.
NOT_RECOVERY = {"pk", "team_id", "responses", "satisfied", "csat", "complaints", "complaints_per_100_visits"}


def _card(row: dict) -> dict:
    """A scorecard row without its visit quality (no visit of this data set is reviewed; see
    tests/dashboard/test_quality_scorecard.py) and its satisfaction."""
    assert row["quality"] is None and [p["score"] for p in row["quality_trend"]] == [None] * 6
    return {k: v for k, v in row.items() if k not in {"collector_id", "quality", "quality_trend", *NOT_RECOVERY}}


def test_collector_scorecard(dataset, cast):
    rows = [_card(r) for r in selectors.dashboard(user=cast.supervisor_x, filters=dataset.period)["collectors"]]
    assert rows == [
        {
            "username": "collector_a",
            "name": "",
            "cases": 2,
            "visits": 2,
            "contacts": 3,
            "promises": 5,
            "promises_due": 3,
            "kept_rate": 0.6667,
            "recovered_amount": D("50.00"),
        },
        {
            "username": "collector_a2",
            "name": "",
            "cases": 0,
            "visits": 1,
            "contacts": 0,
            "promises": 1,
            "promises_due": 1,
            "kept_rate": 0.0,
            "recovered_amount": D("50.00"),
        },
    ]
    manager_rows = selectors.dashboard(user=cast.manager, filters=dataset.period)["collectors"]
    assert [r["username"] for r in manager_rows] == ["collector_a", "collector_a2", "collector_b"]
    assert _card(manager_rows[2]) == {
        "username": "collector_b",
        "name": "",
        "cases": 1,
        "visits": 0,
        "contacts": 1,
        "promises": 1,
        "promises_due": 1,
        "kept_rate": 0.0,
        "recovered_amount": D("777.00"),
    }


def test_compliance_refusals_per_collector(dataset, cast):
    rows = selectors.dashboard(user=cast.supervisor_x, filters=dataset.period)["compliance"]
    assert rows == [
        {"username": "collector_a", "quiet_hours": 2, "attempt_cap": 0, "third_party": 1, "other": 0, "total": 3},
        {"username": "collector_a2", "quiet_hours": 0, "attempt_cap": 1, "third_party": 0, "other": 0, "total": 1},
    ]
    assert selectors.dashboard(user=cast.supervisor_y, filters=dataset.period)["compliance"] == []
