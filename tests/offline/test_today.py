import datetime as dt
import re
from urllib.parse import quote

import pytest
from django.urls import reverse

from collections_app.models import AuditLog, Stage
from collections_app.services.cases import case_transition
from tests.offline.conftest import at
from visits.models import RouteOrder

pytestmark = pytest.mark.django_db
URL = reverse("today")
START = {"lat": "31.300000", "lng": "120.600000"}


def _order(response) -> list[int]:
    return [int(pk) for pk in re.findall(r'data-stop="(\d+)"', response.content.decode())]


def _stop_html(response, case) -> str:
    page = response.content.decode()
    start = page.index(f'data-stop="{case.pk}"')
    end = page.find("data-stop=", start + 10)
    return page[start : end if end != -1 else len(page)]


def test_collector_sees_todays_stops_nearest_first_from_the_given_start(client, cast, planned_case):
    far = planned_case(31.40, 120.60)
    near = planned_case(31.31, 120.60)
    middle = planned_case(31.35, 120.60)
    client.force_login(cast.collector_a)
    response = client.get(URL, START)
    assert response.status_code == 200
    assert _order(response) == [near.pk, middle.pk, far.pk]
    assert "nearest next" in _stop_html(response, near)
    assert "km from the previous stop" in _stop_html(response, middle)
    assert "data-route-sketch" in response.content.decode() and "<polyline" in response.content.decode()
    # The start is remembered in the session only: the next visit to the page uses it.
    assert _order(client.get(URL)) == [near.pk, middle.pk, far.pk]


def test_only_todays_open_visits_of_the_collector_are_listed(client, cast, planned_case):
    mine = planned_case()
    planned_case(when=at(10) + dt.timedelta(days=1))
    planned_case(collector=cast.collector_a2)
    negotiating = planned_case()
    case_transition(case=negotiating, target=Stage.NEGOTIATION, actor=cast.collector_a)
    client.force_login(cast.collector_a)
    assert _order(client.get(URL)) == [mine.pk]


def test_addresses_without_coordinates_come_last_and_are_flagged(client, cast, planned_case):
    unlocated = planned_case(None, None, priority="99")
    located = planned_case(31.32, 120.61)
    client.force_login(cast.collector_a)
    response = client.get(URL)
    assert _order(response) == [located.pk, unlocated.pk]
    html = _stop_html(response, unlocated)
    assert 'data-flag="no-coordinates"' in html and "no coordinates" in html


def test_departure_waits_for_the_end_of_quiet_hours_and_late_arrivals_are_flagged(
    client, cast, planned_case, time_machine
):
    time_machine.move_to(at(21, 40), tick=False)
    first = planned_case(31.3000, 120.6000, when=at(21, 50))
    second = planned_case(31.3005, 120.6000, when=at(21, 55))
    consented = planned_case(31.3010, 120.6000, when=at(21, 58), consent=True)
    client.force_login(cast.collector_a)
    response = client.get(URL, START)
    assert _order(response) == [first.pk, second.pk, consented.pk]
    assert 'data-flag="quiet-hours"' not in _stop_html(response, first)  # arrives 21:40
    assert 'data-flag="quiet-hours"' in _stop_html(response, second)  # 22:10
    assert 'data-flag="quiet-hours"' not in _stop_html(response, consented)


def test_early_morning_departure_is_the_quiet_hours_end(client, cast, planned_case, time_machine):
    time_machine.move_to(at(6, 0), tick=False)
    stop = planned_case(31.30, 120.60, when=at(9))
    client.force_login(cast.collector_a)
    response = client.get(URL, START)
    assert "Leaving at 08:00." in response.content.decode()
    assert re.search(r"data-eta>09:00<", _stop_html(response, stop))  # not before its planned 09:00


def test_the_route_speaks_plain_chinese(client, cast, planned_case, time_machine):
    """The departure is a time, ended by a Chinese full stop; no algorithm name reaches a collector."""
    time_machine.move_to(at(6, 0), tick=False)
    planned_case(31.30, 120.60, when=at(9))
    planned_case(31.31, 120.61, when=at(10))
    client.force_login(cast.collector_a)
    html = client.get(URL, START, HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "出发时间 08:00。" in html
    assert "2-opt" not in html and "出发点" not in html
    assert "建议顺序" in html and "路程最短" in html


def test_planned_times_order_the_route_and_no_stop_is_reached_before_its_time(client, cast, planned_case):
    # Geometrically last, but planned at 10:45, before the two 11:00 visits next door: the planned
    # times lead even before anyone presses the clock button, and no ETA is earlier than its plan.
    asked = planned_case(31.40, 120.60, when=at(10, 45))
    a = planned_case(31.301, 120.60, when=at(11))
    b = planned_case(31.302, 120.60, when=at(11))
    client.force_login(cast.collector_a)
    response = client.get(URL, START)
    assert _order(response)[0] == asked.pk
    assert re.search(r"data-eta>10:(4[5-9]|5\d)<", _stop_html(response, asked))
    for stop in (a, b):
        eta = re.search(r"data-eta>(\d\d:\d\d)<", _stop_html(response, stop))[1]
        assert eta >= "11:00", eta


def test_a_time_the_borrower_asked_for_is_kept(client, cast, planned_case):
    asked = planned_case(31.40, 120.60, when=at(10, 45))
    a = planned_case(31.301, 120.60, when=at(11))
    b = planned_case(31.302, 120.60, when=at(11))
    client.force_login(cast.collector_a)
    response = client.post(URL, {"action": "fixed", "case": asked.pk}, follow=True)
    assert _order(response)[0] == asked.pk and set(_order(response)) == {asked.pk, a.pk, b.pk}
    html = _stop_html(response, asked)
    assert "asked for 10:45" in html and 'data-flag="fixed-time"' in html
    assert re.search(r"data-eta>10:(4[5-9]|5\d)<", html)
    assert RouteOrder.objects.get(collector=cast.collector_a).fixed_time_case_ids == [asked.pk]
    response = client.post(URL, {"action": "fixed", "case": asked.pk}, follow=True)
    assert RouteOrder.objects.get(collector=cast.collector_a).fixed_time_case_ids == []
    assert 'data-flag="fixed-time"' not in _stop_html(response, asked)
    assert _order(response)[0] == asked.pk  # its planned time still comes first


def test_collector_reorders_by_hand_and_resets_to_the_suggestion(client, cast, planned_case):
    a, b, c = (planned_case(31.30 + 0.01 * i, 120.60) for i in (1, 2, 3))
    client.force_login(cast.collector_a)
    assert _order(client.get(URL, START)) == [a.pk, b.pk, c.pk]
    response = client.post(URL, {"action": "down", "case": a.pk}, follow=True)
    assert _order(response) == [b.pk, a.pk, c.pk]
    assert "placed by hand" in _stop_html(response, a)
    response = client.post(URL, {"action": "up", "case": c.pk}, follow=True)
    assert _order(response) == [b.pk, c.pk, a.pk]
    assert RouteOrder.objects.get(collector=cast.collector_a).case_ids == [b.pk, c.pk, a.pk]
    assert AuditLog.objects.filter(action="route.reorder").count() == 2
    response = client.post(URL, {"action": "reset"}, follow=True)
    assert _order(response) == [a.pk, b.pk, c.pk]


def test_a_stop_cannot_move_past_the_end_and_a_foreign_case_is_refused(client, cast, planned_case):
    a = planned_case()
    foreign = planned_case(collector=cast.collector_a2)
    client.force_login(cast.collector_a)
    response = client.post(URL, {"action": "up", "case": a.pk}, follow=True)
    assert "cannot move further" in response.content.decode()
    response = client.post(URL, {"action": "down", "case": foreign.pk}, follow=True)
    assert "not on today" in response.content.decode()
    assert all(foreign.pk not in order.case_ids for order in RouteOrder.objects.all())


def test_supervisor_views_a_team_members_day_read_only(client, cast, planned_case):
    stop = planned_case()
    client.force_login(cast.supervisor_x)
    chooser = client.get(URL)
    assert chooser.status_code == 200 and f"?collector={cast.collector_a.pk}" in chooser.content.decode()
    response = client.get(URL, {"collector": cast.collector_a.pk})
    assert response.status_code == 200 and _order(response) == [stop.pk]
    assert 'value="up"' not in response.content.decode()
    refused = client.post(f"{URL}?collector={cast.collector_a.pk}", {"action": "reset"})
    assert refused.status_code == 403


@pytest.mark.parametrize(
    ("who", "query", "status"),
    [
        ("collector_b", "collector_a", 404),
        ("supervisor_y", "collector_a", 404),
        ("supervisor_x", "collector_b", 404),
        ("manager", "", 403),
        ("admin", "", 403),
    ],
)
def test_others_may_not_see_a_collectors_day(client, cast, planned_case, who, query, status):
    planned_case()
    client.force_login(getattr(cast, who))
    params = {"collector": getattr(cast, query).pk} if query else {}
    assert client.get(URL, params).status_code == status


def test_wrong_method_is_405(client, cast):
    client.force_login(cast.collector_a)
    assert client.put(URL).status_code == 405


def test_page_lists_offline_urls_and_keeps_a_constant_query_count(
    client, cast, planned_case, django_assert_max_num_queries
):
    stops = [planned_case(31.30 + 0.01 * i, 120.60) for i in range(2)]
    client.force_login(cast.collector_a)
    with django_assert_max_num_queries(14) as few:
        response = client.get(URL, START)
    stops += [planned_case(31.40 + 0.01 * i, 120.70) for i in range(6)]
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get(URL, START)
    page = response.content.decode()
    assert 'id="offline-urls"' in page and "<script>" not in page.replace('<script id="offline-urls"', "")
    for case in stops:
        assert reverse("visit-create", args=[case.pk]) in page and reverse("case-detail", args=[case.pk]) in page


def test_today_page_fits_a_phone_without_inline_scripts(client, cast, planned_case):
    planned_case()
    client.force_login(cast.collector_a)
    page = client.get(URL).content.decode()
    assert "js/today.js" in page and "js/offline.js" in page
    assert not re.search(r"<script>(?!\s*$)", page) and " onclick=" not in page


def test_each_stop_offers_call_and_navigate_and_the_call_is_audited(client, cast, planned_case):
    located = planned_case(31.30, 120.60)
    unlocated = planned_case(None, None)
    client.force_login(cast.collector_a)
    response = client.get(URL, START)
    html = _stop_html(response, located)
    assert 'href="geo:31.300000,120.600000?q=31.300000,120.600000"' in html
    address = unlocated.account.borrower.addresses.get()
    assert f'href="geo:0,0?q={quote(address.text)}"' in _stop_html(response, unlocated)

    phone = located.account.borrower.phones.get(is_primary=True)
    assert phone.number not in response.content.decode()  # the number shows only when asked for
    call = reverse("pii-reveal", args=[located.account.borrower_id, phone.pii_field])
    assert f'hx-post="{call}"' in html
    revealed = client.post(call).content.decode()
    assert f'href="tel:{phone.number}"' in revealed
    assert AuditLog.objects.filter(action="pii.reveal", object_id=str(phone.pk)).count() == 1


def test_a_moved_address_is_not_routed_and_the_latest_confirmed_one_is(client, cast, planned_case):
    from decimal import Decimal

    from collections_app.models import BorrowerAddress
    from collections_app.services.contacts import contact_point_set_status

    moved = planned_case(31.31, 120.60)
    home = moved.account.borrower.addresses.get()
    contact_point_set_status(case=moved, actor=cast.collector_a, point=home, status="moved")
    client.force_login(cast.collector_a)
    stop = _stop_html(client.get(URL, START), moved)
    assert 'data-flag="no-coordinates"' in stop and 'data-flag="address-dead"' in stop
    assert 'data-action="navigate"' not in stop

    new_home = BorrowerAddress.objects.create(
        borrower=moved.account.borrower, text="Lakeside 12", lat=Decimal("31.35"), lng=Decimal("120.61")
    )
    contact_point_set_status(case=moved, actor=cast.collector_a, point=new_home, status="confirmed")
    stop = _stop_html(client.get(URL, START), moved)
    assert "Lakeside 12" in stop and 'data-flag="confirmed-address"' in stop
    assert "31.35" in stop and 'data-flag="no-coordinates"' not in stop


def test_a_wrong_primary_number_is_not_offered_as_call(client, cast, planned_case):
    from collections_app.models import BorrowerPhone
    from collections_app.services.contacts import contact_point_set_status

    case = planned_case()
    primary = case.account.borrower.phones.get()
    other = BorrowerPhone.objects.create(borrower=case.account.borrower, number="13911112222", label="work")
    contact_point_set_status(case=case, actor=cast.collector_a, point=primary, status="wrong")
    client.force_login(cast.collector_a)
    stop = _stop_html(client.get(URL, START), case)
    assert primary.pii_field not in stop and f'"phone:{other.pk}"' not in stop
    assert other.pii_field in stop
    contact_point_set_status(case=case, actor=cast.collector_a, point=other, status="wrong")
    assert 'data-action="call"' not in _stop_html(client.get(URL, START), case)
