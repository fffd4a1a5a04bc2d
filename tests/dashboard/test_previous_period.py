"""Each headline figure beside the previous period's, on the fixed data set (tests/dashboard/conftest.py)
plus facts placed in the previous period; every expected number worked out by hand."""

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from dashboard import selectors
from dashboard.forms import Filters
from repayment.models import Payment
from repayment.services.payments import case_note_paid_on
from tests.dashboard.test_tallies import _roll_everything
from visits.models import ContactAttempt

pytestmark = pytest.mark.django_db

D = Decimal
URL = reverse("dashboard")


def _at(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time(12, 0)))


@pytest.fixture
def two_periods(dataset, cast):
    """The data set's period is the last 20 days (today-19 … today); the previous one today-39 … today-20.
    Already in it: a kept promise due 30 days ago and collector A's visit 25 days ago (the 999.00 payment
    40 days ago is before both). Added: 40.00 paid 22 days ago on the follow-up case (61.50 overdue at
    opening), two of collector A's contacts (21 and 33 days ago) and one on team Y's case (22 days ago)."""
    today, cases = dataset.today, dataset.cases
    paid_on = today - dt.timedelta(days=22)
    Payment.objects.create(
        case=cases["follow_up"], amount=D("40.00"), paid_on=paid_on, channel="cash", recorded_by=cast.collector_a
    )
    case_note_paid_on(case=cases["follow_up"], paid_on=paid_on)
    for case, who, days_ago in (
        (cases["screening"], cast.collector_a, 21),
        (cases["screening"], cast.collector_a, 33),
        (cases["team_y"], cast.collector_b, 22),
    ):
        ContactAttempt.objects.create(
            case=case, actor=who, result="no_answer", attempted_at=_at(today - dt.timedelta(days=days_ago))
        )
    return dataset


def test_previous_period_of_a_custom_period_is_as_many_days_right_before():
    today = dt.date(2026, 3, 20)
    period = Filters(branch=None, team=None, date_from=dt.date(2026, 3, 1), date_to=today, period="custom")
    previous = period.previous()
    assert (previous.date_from, previous.date_to) == (dt.date(2026, 2, 9), dt.date(2026, 2, 28))


def test_previous_period_of_this_month_is_the_same_days_of_last_month_cut_at_its_end():
    march = Filters(branch=None, team=None, date_from=dt.date(2026, 3, 1), date_to=dt.date(2026, 3, 7))
    assert (march.previous().date_from, march.previous().date_to) == (dt.date(2026, 2, 1), dt.date(2026, 2, 7))
    whole = Filters(branch=None, team=None, date_from=dt.date(2026, 3, 1), date_to=dt.date(2026, 3, 31))
    assert (whole.previous().date_from, whole.previous().date_to) == (dt.date(2026, 2, 1), dt.date(2026, 2, 28))


@pytest.mark.parametrize("tallied", [False, True], ids=["live", "tallied"])
def test_supervisor_sees_each_headline_figure_against_the_previous_period(two_periods, cast, tallied):
    if tallied:
        _roll_everything()
    headline = selectors.dashboard(user=cast.supervisor_x, filters=two_periods.period)["headline"]
    today = two_periods.today
    assert (headline["date_from"], headline["date_to"]) == (
        today - dt.timedelta(days=39),
        today - dt.timedelta(days=20),
    )

    def pick(name):
        entry = headline[name]
        return entry["value"], entry["previous"], entry["direction"], entry["percent"], entry["points"]

    # 30.00 + 20.00 + 50.00 now against 40.00: up 60 / 40 = 150.0 %.
    assert pick("recovered_amount") == (D("100.00"), D("40.00"), "up", D("150.0"), None)
    # 100 / (61.50 + 91.50) = 0.6536 against 40 / 61.50 = 0.6504: up 0.32 points, shown as 0.3.
    assert pick("recovery_rate") == (0.6536, 0.6504, "up", None, D("0.3"))
    # Kept 2 of 4 due now; the one promise due then was kept (100 %): down 50.0 points.
    assert pick("kept_rate") == (0.5, 1.0, "down", None, D("50.0"))
    assert headline["kept_rate"]["previous_percent"] == D("100.0")
    # Visits 3 (2, 4 and 6 days ago) against 1 (25 days ago): up 200.0 %.
    assert pick("visits") == (3, 1, "up", D("200.0"), None)
    # Contacts 3 against 2 (team Y's is not the supervisor's): up 50.0 %.
    assert pick("contacts") == (3, 2, "up", D("50.0"), None)
    # One case closed now, none before: up, with no percentage of nothing.
    assert pick("closed") == (1, 0, "up", None, None)


def test_manager_compares_over_every_team(two_periods, cast):
    headline = selectors.dashboard(user=cast.manager, filters=two_periods.period)["headline"]
    # Team Y's 777.00 joins the period; nothing of team Y was paid before: 877 / 40 - 1 = 2,092.5 %.
    assert headline["recovered_amount"]["value"] == D("877.00")
    assert headline["recovered_amount"]["percent"] == D("2092.5")
    # Contacts 4 against 3 (team Y's counts now): up 33.3 %.
    assert (headline["contacts"]["value"], headline["contacts"]["previous"]) == (4, 3)
    assert headline["contacts"]["percent"] == D("33.3")
    # Team Y's broken promise 3 days ago joins the due ones: kept 2 of 5 = 0.4 against 1.0.
    assert (headline["kept_rate"]["value"], headline["kept_rate"]["previous"]) == (0.4, 1.0)
    assert headline["kept_rate"]["points"] == D("60.0")


def test_a_figure_that_did_not_move_reads_unchanged_and_nothing_due_reads_a_dash(dataset, cast):
    today = dataset.today
    # Two days: the previous one (today-1) has no promise due, the period (today) none with an outcome.
    period = Filters(branch=None, team=None, date_from=today, date_to=today, period="custom")
    headline = selectors.dashboard(user=cast.supervisor_x, filters=period)["headline"]
    assert headline["kept_rate"]["direction"] is None
    assert headline["kept_rate"]["previous"] is None
    # No closure on either day.
    assert (headline["closed"]["value"], headline["closed"]["previous"], headline["closed"]["direction"]) == (
        0,
        0,
        "same",
    )


def test_page_shows_the_change_in_words_and_arrows_in_both_languages(client, two_periods, cast):
    client.force_login(cast.supervisor_x)
    today = two_periods.today
    params = {
        "period": "custom",
        "date_from": (today - dt.timedelta(days=19)).isoformat(),
        "date_to": today.isoformat(),
    }
    html = " ".join(client.get(URL, params).content.decode().split())
    dates = (today - dt.timedelta(days=39)).isoformat(), (today - dt.timedelta(days=20)).isoformat()
    assert "compared with the previous period, {} \N{EN DASH} {}.".format(*dates) in html

    def line(key, direction, arrow, text):
        arrow_span = f'<span aria-hidden="true" class="fw-semibold">{arrow}</span>'
        return f'data-change="{key}" data-direction="{direction}">{arrow_span} {text}'

    assert line("recovered-amount", "up", "↑", "up 150% from ¥40.00") in html
    assert line("kept-rate", "down", "↓", "down 50 points from 100%") in html
    assert line("recovery-rate", "up", "↑", "up 0.3 points from 65%") in html
    assert line("visits", "up", "↑", "up 200% from 1") in html
    assert line("closed", "up", "↑", "up from 0") in html
    zh = " ".join(client.get(URL, params, HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode().split())
    assert "较上期 ¥40.00 上升 150%" in zh
    assert "较上期 100% 下降 50 个百分点" in zh


def test_the_previous_recovery_base_is_read_once_then_kept_while_the_current_one_stays_live(
    two_periods, cast, dashboard_cache
):
    from dashboard.recovery import recovery_base
    from dashboard.scope import Scope

    scope = Scope(user=cast.supervisor_x, filters=two_periods.period, today=two_periods.today)
    # The follow-up case (61.50 at opening) was paid into in the previous period; now also 91.50 of cases paid.
    assert recovery_base(scope) == (D("153.00"), D("61.50"))
    # A payment back-dated into the previous period on the screening case (its overdue at opening below):
    # the kept previous figure is read until it expires, the current one is computed on every read.
    screening = two_periods.cases["screening"]
    assert screening.overdue_amount_at_open > 0
    paid_on = two_periods.today - dt.timedelta(days=25)
    Payment.objects.create(
        case=screening, amount=D("5.00"), paid_on=paid_on, channel="cash", recorded_by=cast.collector_a
    )
    case_note_paid_on(case=screening, paid_on=paid_on)
    assert recovery_base(scope) == (D("153.00"), D("61.50"))
    dashboard_cache.clear()  # what expiry does after PREVIOUS_BASE_TTL
    assert recovery_base(scope) == (D("153.00"), D("61.50") + screening.overdue_amount_at_open)


def test_a_team_handed_to_another_supervisor_is_not_counted_from_a_kept_figure(two_periods, cast, dashboard_cache):
    from dashboard.recovery import recovery_base
    from dashboard.scope import Scope

    scope = Scope(user=cast.supervisor_x, filters=two_periods.period, today=two_periods.today)
    assert recovery_base(scope) == (D("153.00"), D("61.50"))
    # A login saves only ``last_login``: no one's scope moves, the kept figure stays.
    cast.supervisor_x.save(update_fields=["last_login"])
    Payment.objects.filter(case=two_periods.cases["follow_up"]).delete()
    assert recovery_base(scope)[1] == D("61.50")
    # Team X goes to supervisor Y: supervisor X now sees none of its cases, kept figure or not.
    cast.team_x.supervisor = cast.supervisor_y
    cast.team_x.save()
    assert recovery_base(scope) == (D("0.00"), D("0.00"))
    assert recovery_base(Scope(user=cast.supervisor_y, filters=two_periods.period, today=two_periods.today))[0] > 0


def test_a_cache_outage_computes_the_previous_recovery_base(two_periods, cast, monkeypatch):
    from dashboard import recovery
    from dashboard.scope import Scope

    class Down:
        def get(self, *args, **kwargs):
            raise ConnectionError("cache down")

        set = get

    monkeypatch.setattr(recovery, "caches", {recovery.CACHE_ALIAS: Down()})
    scope = Scope(user=cast.supervisor_x, filters=two_periods.period, today=two_periods.today)
    assert [recovery.recovery_base(scope) for _ in range(2)] == [(D("153.00"), D("61.50"))] * 2
