import datetime as dt
import itertools

from hypothesis import given, settings
from hypothesis import strategies as st

from visits.routing import Stop, haversine_km, nearest_neighbour, plan_route, route_length_km, two_opt

START = (31.30, 120.60)
T0 = dt.datetime(2026, 11, 28, 9, 0, tzinfo=dt.UTC)


def test_haversine_known_distance():
    # Shanghai People's Square to Suzhou railway station: about 84 km as the crow flies.
    assert 80 < haversine_km((31.2304, 121.4737), (31.3290, 120.6100)) < 88
    assert haversine_km(START, START) == 0


def test_stops_without_coordinates_are_listed_last():
    stops = [Stop("a", (31.31, 120.61)), Stop("b", None, priority=5), Stop("c", (31.35, 120.65))]
    order, unlocated = plan_route(START, stops, departure=T0)
    assert [s.key for s in order] == ["a", "c"]
    assert [s.key for s in unlocated] == ["b"]


def test_points_on_a_line_are_visited_in_order():
    stops = [Stop(i, (31.30 + 0.01 * i, 120.60)) for i in (3, 1, 4, 2)]
    order, _ = plan_route(START, stops, departure=T0)
    assert [s.key for s in order] == [1, 2, 3, 4]
    assert order[0].leg_km is not None and order[0].eta > T0


@given(st.lists(st.tuples(st.floats(31.0, 31.6), st.floats(120.2, 120.9)), min_size=1, max_size=7))
@settings(max_examples=60, deadline=None)
def test_two_opt_tour_visits_every_stop_once_and_no_segment_reversal_shortens_it(points):
    stops = [Stop(i, p) for i, p in enumerate(points)]
    greedy = nearest_neighbour(START, list(stops))
    order = two_opt(START, greedy)
    assert sorted(s.key for s in order) == list(range(len(points)))
    length = route_length_km(START, order)
    assert length <= route_length_km(START, greedy) + 1e-9
    for i, j in itertools.combinations(range(len(order)), 2):
        reversed_segment = order[:i] + order[i : j + 1][::-1] + order[j + 1 :]
        assert route_length_km(START, reversed_segment) + 1e-9 >= length


def test_small_tours_are_optimal_for_a_grid():
    stops = [Stop((x, y), (31.30 + 0.01 * x, 120.60 + 0.01 * y)) for x in range(2) for y in range(3)]
    order, _ = plan_route(START, stops, departure=T0)
    best = min(route_length_km(START, list(p)) for p in itertools.permutations(stops))
    assert abs(route_length_km(START, order) - best) < 1e-6


def test_a_requested_time_window_is_respected():
    near = Stop("near", (31.301, 120.601))
    far = Stop("far", (31.40, 120.70), not_before=T0 + dt.timedelta(hours=3))
    late = Stop("late", (31.302, 120.602))
    early = Stop("early", (31.39, 120.69), not_after=T0 + dt.timedelta(minutes=40))
    order, _ = plan_route(START, [near, far, late, early], departure=T0)
    by_key = {s.key: s for s in order}
    assert by_key["far"].eta >= T0 + dt.timedelta(hours=3)
    assert by_key["early"].eta <= T0 + dt.timedelta(minutes=40)
