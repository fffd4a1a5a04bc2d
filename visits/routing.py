"""Today's route: a visiting order over the stops' coordinates, computed offline.

Nearest-neighbour from the collector's start point, then 2-opt until no swap shortens the
tour. Stops with a fixed time window (the borrower asked for a time) are respected: a stop
is never placed where its estimated arrival falls outside its window if an order exists that
keeps every window (the repair step moves window stops to their earliest feasible slot).
Distances are great-circle (haversine); no map or geocoding service is needed.
"""

import datetime as dt
import math
from dataclasses import dataclass, field

EARTH_RADIUS_KM = 6371.0088


def haversine_km(a: tuple[float, float], b: tuple[float, float]) -> float:
    lat1, lng1 = map(math.radians, a)
    lat2, lng2 = map(math.radians, b)
    h = math.sin((lat2 - lat1) / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin((lng2 - lng1) / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(h)))


@dataclass
class Stop:
    key: object
    position: tuple[float, float] | None
    priority: float = 0.0
    not_before: dt.datetime | None = None
    not_after: dt.datetime | None = None
    # Filled by plan_route:
    leg_km: float | None = None
    eta: dt.datetime | None = None
    reasons: list[str] = field(default_factory=list)


def _tour_length(start, order: list[Stop]) -> float:
    total, here = 0.0, start
    for stop in order:
        total += haversine_km(here, stop.position)
        here = stop.position
    return total


def nearest_neighbour(start, stops: list[Stop]) -> list[Stop]:
    """Greedy tour; ties go to the higher-priority stop, then the stable input order."""
    remaining = list(stops)
    order, here = [], start
    while remaining:
        best = min(remaining, key=lambda s: (round(haversine_km(here, s.position), 6), -s.priority))
        remaining.remove(best)
        order.append(best)
        here = best.position
    return order


def two_opt(start, order: list[Stop], max_rounds: int = 50) -> list[Stop]:
    """Reverse segments while that shortens the open tour from the start point."""
    best = list(order)
    best_len = _tour_length(start, best)
    for _ in range(max_rounds):
        improved = False
        for i in range(len(best) - 1):
            for j in range(i + 1, len(best)):
                candidate = best[:i] + best[i : j + 1][::-1] + best[j + 1 :]
                length = _tour_length(start, candidate)
                if length + 1e-9 < best_len:
                    best, best_len, improved = candidate, length, True
        if not improved:
            break
    return best


def _annotate(start, order: list[Stop], departure: dt.datetime, speed_kmh: float, minutes_per_stop: int) -> bool:
    """Set leg distance and ETA on each stop; True when every time window holds."""
    here, clock, feasible = start, departure, True
    for stop in order:
        stop.leg_km = haversine_km(here, stop.position)
        clock += dt.timedelta(hours=stop.leg_km / speed_kmh)
        if stop.not_before and clock < stop.not_before:
            clock = stop.not_before
        if stop.not_after and clock > stop.not_after:
            feasible = False
        stop.eta = clock
        clock += dt.timedelta(minutes=minutes_per_stop)
        here = stop.position
    return feasible


def _respect_windows(start, order, departure, speed_kmh, minutes_per_stop) -> list[Stop]:
    """Order window stops by their window start when the geometric tour breaks a window."""
    if _annotate(start, order, departure, speed_kmh, minutes_per_stop):
        return order
    timed = sorted((s for s in order if s.not_before or s.not_after), key=lambda s: s.not_before or s.not_after)
    free = [s for s in order if not (s.not_before or s.not_after)]
    # Insert each free stop where it adds the least distance without breaking a window.
    result = list(timed)
    for stop in free:
        best_pos, best_len = len(result), None
        for pos in range(len(result) + 1):
            candidate = [*result[:pos], stop, *result[pos:]]
            if not _annotate(start, candidate, departure, speed_kmh, minutes_per_stop):
                continue
            length = _tour_length(start, candidate)
            if best_len is None or length < best_len:
                best_pos, best_len = pos, length
        result.insert(best_pos, stop)
    _annotate(start, result, departure, speed_kmh, minutes_per_stop)
    return result


def plan_route(
    start: tuple[float, float],
    stops: list[Stop],
    *,
    departure: dt.datetime,
    speed_kmh: float = 25.0,
    minutes_per_stop: int = 30,
) -> tuple[list[Stop], list[Stop]]:
    """(ordered stops with coordinates, stops without coordinates — listed last, flagged)."""
    located = [s for s in stops if s.position is not None]
    unlocated = sorted((s for s in stops if s.position is None), key=lambda s: -s.priority)
    geometric = _respect_windows(
        start, two_opt(start, nearest_neighbour(start, located)), departure, speed_kmh, minutes_per_stop
    )
    # Stops are not reached before their planned time, so the shortest tour can mean hours of waiting:
    # the planned-time order competes, and the order that ends the day first (windows kept) wins.
    by_time = sorted(located, key=lambda s: (s.not_before or departure, -s.priority))

    def cost(order: list[Stop]) -> tuple:
        feasible = _annotate(start, order, departure, speed_kmh, minutes_per_stop)
        return (not feasible, order[-1].eta if order else departure, _tour_length(start, order))

    order = min((geometric, by_time), key=cost)
    _annotate(start, order, departure, speed_kmh, minutes_per_stop)
    return order, unlocated


def route_length_km(start, order: list[Stop]) -> float:
    return _tour_length(start, order)
