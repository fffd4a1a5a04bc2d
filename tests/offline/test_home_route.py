"""A collector's home opens on today's route; supervisors and managers keep their homes."""

import datetime as dt
import re

import pytest
from django.urls import reverse

from tests.offline.conftest import at

pytestmark = pytest.mark.django_db
HOME = reverse("home")
START = {"lat": "31.300000", "lng": "120.600000"}


def _route_section(html: str) -> str:
    start = html.index('data-testid="home-route"')
    return html[start : html.index("</section>", start)]


def _order(html: str) -> list[int]:
    return [int(pk) for pk in re.findall(r'data-stop="(\d+)"', html)]


def test_the_collectors_home_starts_with_todays_stops_in_the_routes_order(client, cast, planned_case):
    far = planned_case(31.40, 120.60)
    near = planned_case(31.31, 120.60)
    planned_case(when=at(10) + dt.timedelta(days=1))  # tomorrow: not on today's route
    client.force_login(cast.collector_a)
    client.get(reverse("today"), START)  # the start given on /today/ is kept for the home too

    html = client.get(HOME).content.decode()
    route = _route_section(html)
    # Before the other blocks of the home: the route is what the collector sees first.
    assert html.index('data-testid="home-route"') < html.index("Cases by stage")
    assert _order(route) == [near.pk, far.pk]
    for case in (near, far):
        assert reverse("visit-create", args=[case.pk]) in route
        phone = case.account.borrower.phones.get(is_primary=True)
        assert reverse("pii-reveal", args=[case.account.borrower_id, phone.pii_field]) in route
        address = case.account.borrower.addresses.get()
        assert f'href="geo:{address.lat},{address.lng}?q={address.lat},{address.lng}"' in route
    assert "2 visits" in route and 'data-action="full-route"' in route
    # The home shows the route; reordering stays on /today/.
    assert 'name="action" value="up"' not in route


def test_without_a_visit_today_the_home_says_how_to_plan_one(client, cast, planned_case):
    planned_case(when=at(10) + dt.timedelta(days=1))
    client.force_login(cast.collector_a)
    route = _route_section(client.get(HOME).content.decode())
    assert 'data-testid="home-route-empty"' in route and "data-stop=" not in route
    assert "No visit is planned for today." in route
    assert f'href="{reverse("case-list")}?stage=preparation"' in route


def test_the_home_route_speaks_chinese(client, cast, planned_case):
    planned_case()
    client.force_login(cast.collector_a)
    route = _route_section(client.get(HOME, HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode())
    assert "今日路线" in route and "登记走访" in route
    assert "Today's route" not in route and "Log a visit" not in route


@pytest.mark.parametrize("who", ["supervisor_x", "manager"])
def test_supervisors_and_managers_keep_their_homes(client, cast, planned_case, who):
    planned_case()
    client.force_login(getattr(cast, who))
    html = client.get(HOME).content.decode()
    assert 'data-testid="home-route"' not in html and "data-stop=" not in html
    assert "Cases by stage" in html


def test_the_empty_route_speaks_chinese(client, cast):
    client.force_login(cast.collector_a)
    route = _route_section(client.get(HOME, HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode())
    assert "今天没有计划的走访。" in route and "准备阶段的案件" in route
    assert "No visit is planned" not in route
