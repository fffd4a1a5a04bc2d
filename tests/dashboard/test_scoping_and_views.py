import datetime as dt

import pytest
from django.urls import reverse

from dashboard import selectors
from dashboard.forms import Filters

pytestmark = pytest.mark.django_db

URL = "/dashboard/"


def _filters(dataset, **kwargs) -> Filters:
    return Filters(
        **{"branch": None, "team": None, "date_from": dataset.period.date_from, "date_to": dataset.today, **kwargs}
    )


def test_supervisor_sees_only_their_teams_branch(dataset, cast):
    data = selectors.dashboard(user=cast.supervisor_y, filters=dataset.period)
    assert data["portfolio"]["accounts"] == 2  # branch B's two accounts
    assert data["stages"]["screening"] == 1
    assert data["stages"]["follow_up"] == 0
    assert data["recovery"]["recovered_amount"] == 777
    assert [row["username"] for row in data["collectors"]] == ["collector_b"]


def test_supervisor_asking_for_another_branch_gets_nothing(dataset, cast):
    data = selectors.dashboard(user=cast.supervisor_x, filters=_filters(dataset, branch=cast.branch_b))
    assert data["portfolio"]["accounts"] == 0
    assert sum(data["stages"].values()) == 0
    assert data["collectors"] == []
    assert data["recovery"]["recovered_amount"] == 0
    data = selectors.dashboard(user=cast.supervisor_x, filters=_filters(dataset, team=cast.team_y))
    assert data["portfolio"]["accounts"] == 0
    assert data["promises"]["due"] == 0


def test_manager_filters_by_branch_and_team(dataset, cast):
    by_branch = selectors.dashboard(user=cast.manager, filters=_filters(dataset, branch=cast.branch_b))
    assert by_branch["portfolio"]["accounts"] == 2
    by_team = selectors.dashboard(user=cast.manager, filters=_filters(dataset, team=cast.team_x))
    assert by_team["portfolio"]["accounts"] == 15
    assert [row["username"] for row in by_team["collectors"]] == ["collector_a", "collector_a2"]


def test_page_renders_for_supervisor_with_their_numbers(client, dataset, cast):
    client.force_login(cast.supervisor_x)
    response = client.get(URL, {"period": "30d"})
    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-kpi="accounts">15<' in html
    assert 'id="dashboard-data"' in html
    assert "<script>" not in html  # data travels in json_script (type="application/json"), no inline code
    assert "vendor/chartjs-4.6.1/chart.umd.min.js" in html
    assert "js/dashboard.js" in html
    # The filter lists only the supervisor's own branch and team.
    assert "WX01" not in html


def test_page_uses_the_snapshot_message_without_history(client, dataset, cast):
    client.force_login(cast.manager)
    html = client.get(URL).content.decode()
    assert 'data-roll="not-enough-history"' in html


def test_collector_is_refused(client, cast):
    client.force_login(cast.collector_a)
    assert client.get(URL).status_code == 403


def test_anonymous_is_sent_to_login(client, cast):
    response = client.get(URL)
    assert response.status_code == 302
    assert reverse("login") in response["Location"]


def test_post_is_not_allowed(client, cast):
    client.force_login(cast.manager)
    assert client.post(URL).status_code == 405


def test_bad_filters_show_an_error_not_a_500(client, cast):
    client.force_login(cast.manager)
    today = dt.date.today()
    response = client.get(
        URL, {"period": "custom", "date_from": today.isoformat(), "date_to": (today - dt.timedelta(days=3)).isoformat()}
    )
    assert response.status_code == 200
    assert "start date is after its end date" in response.content.decode()
    response = client.get(URL, {"branch": "999999", "date_from": "not-a-date"})
    assert response.status_code == 200


def test_dashboard_is_in_the_navigation_for_managers(client, cast):
    client.force_login(cast.manager)
    assert f'href="{URL}"' in client.get(reverse("home")).content.decode()


def test_kept_rate_reads_a_dash_when_no_promise_was_due(client, cast):
    """0 % of 0 due would read as a bad score; with nothing due there is no rate to show."""
    client.force_login(cast.manager)
    html = client.get(URL).content.decode()
    assert 'data-kpi="kept-rate">—<' in html
    assert "No promise was due" in html
    assert 'data-kpi="kept-rate">0%<' not in html


def test_kept_rate_is_a_percentage_when_promises_were_due(client, dataset, cast):
    client.force_login(cast.manager)
    html = client.get(URL, {"period": "30d"}).content.decode()
    kpi = html[html.index('data-kpi="kept-rate">') :]
    assert kpi[len('data-kpi="kept-rate">') : kpi.index("<")].endswith("%")
