"""Reads for ``/today/``: a collector's planned visits of the day in a suggested (or hand-made) order.

The order comes from ``visits.routing.plan_route`` (nearest neighbour + 2-opt over haversine
distances, time windows kept) from a start point: the position the collector gave (session or
query string, never stored on the user) or the centroid of the day's stops.
"""

import datetime as dt
import math
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import Prefetch
from django.utils import timezone
from django.utils.translation import gettext as _

from collections_app.models import BorrowerAddress, BorrowerPhone, Case, ContactParty, ContactStatus, Stage, User
from collections_app.rules import active_pack, borrower_timezone, in_quiet_hours
from visits.models import RouteOrder, VisitPlan
from visits.routing import Stop, haversine_km, plan_route

# A time the borrower asked for: arrive from that time, at most this late.
FIXED_TIME_SLACK = dt.timedelta(minutes=30)
SPEED_KMH = 25.0
MINUTES_PER_STOP = 30
ROUTE_STAGES = (Stage.PREPARATION, Stage.VISIT)
SVG_WIDTH, SVG_HEIGHT, SVG_PAD = 320, 220, 18
# The start a collector gave ("use my location"), kept only in their session, never on the user.
START_SESSION_KEY = "doorstep_today_start"


@dataclass
class RouteStop:
    plan: VisitPlan
    number: int = 0
    position: tuple[float, float] | None = None
    leg_km: float | None = None
    eta: dt.datetime | None = None
    reason: str = ""
    quiet: bool = False
    fixed_time: bool = False
    x: float = 0.0
    y: float = 0.0

    @property
    def case(self) -> Case:
        return self.plan.case

    @property
    def address(self) -> BorrowerAddress | None:
        return route_address(self.plan)


@dataclass
class TodayRoute:
    collector: User
    day: dt.date
    tz: ZoneInfo
    departure: dt.datetime
    start: tuple[float, float] | None
    start_given: bool
    stops: list[RouteStop] = field(default_factory=list)
    manual: bool = False
    total_km: float = 0.0
    svg: dict | None = None

    @property
    def case_ids(self) -> list[int]:
        return [s.case.pk for s in self.stops]

    @property
    def located(self) -> list[RouteStop]:
        return [s for s in self.stops if s.position is not None]


def saved_start(session, user: User) -> tuple[float, float] | None:
    """The start the collector gave earlier in this session (``/today/`` and the home share it)."""
    saved = session.get(START_SESSION_KEY) if user.is_collector else None
    return (saved[0], saved[1]) if saved else None


def collector_timezone(collector: User) -> ZoneInfo:
    team = collector.team
    return ZoneInfo(team.branch.timezone if team and team.branch.timezone else settings.TIME_ZONE)


def today_plans(viewer: User, collector: User, day: dt.date, tz: ZoneInfo) -> list[VisitPlan]:
    """Visit plans of the collector's open cases planned on ``day`` (local), as the viewer may see them."""
    start = dt.datetime.combine(day, dt.time.min, tz)
    cases = Case.objects.visible_to(viewer).filter(assigned_collector=collector, stage__in=ROUTE_STAGES)
    return list(
        VisitPlan.objects.filter(case__in=cases, planned_at__gte=start, planned_at__lt=start + dt.timedelta(days=1))
        .select_related("case__account__borrower", "case__account__branch", "address")
        .prefetch_related(
            # The number the Call button offers: the primary one unless it is wrong, then the next.
            Prefetch(
                "case__account__borrower__phones",
                queryset=BorrowerPhone.objects.exclude(status=ContactStatus.WRONG).order_by("-is_primary", "id"),
                to_attr="primary_phones",
            ),
            Prefetch(
                "case__account__borrower__addresses",
                queryset=BorrowerAddress.objects.filter(
                    party=ContactParty.BORROWER, status=ContactStatus.CONFIRMED
                ).order_by("-status_changed_at", "-id"),
                to_attr="confirmed_addresses",
            ),
        )
        .order_by("planned_at", "case_id")
    )


def route_order_for(collector: User, day: dt.date) -> RouteOrder | None:
    return RouteOrder.objects.filter(collector=collector, day=day).first()


def route_address(plan: VisitPlan) -> BorrowerAddress | None:
    """Where the route goes: the borrower's latest confirmed address; else the plan's address unless it was
    marked wrong or moved (then none: the stop is listed without coordinates)."""
    confirmed = getattr(plan.case.account.borrower, "confirmed_addresses", None)
    if confirmed:
        return confirmed[0]
    if plan.address is not None and plan.address.is_dead:
        return None
    return plan.address


def _position(plan: VisitPlan) -> tuple[float, float] | None:
    address = route_address(plan)
    if address is None or not address.has_position:
        return None
    return (float(address.lat), float(address.lng))


def _centroid(points: list[tuple[float, float]]) -> tuple[float, float] | None:
    if not points:
        return None
    return (sum(p[0] for p in points) / len(points), sum(p[1] for p in points) / len(points))


def _departure(now: dt.datetime, day: dt.date, tz: ZoneInfo) -> dt.datetime:
    quiet_end = dt.datetime.combine(day, active_pack().quiet_end, tz)
    return max(now, quiet_end)


def _time_bounds(plan: VisitPlan, is_fixed: bool) -> dict:
    if plan.window_start is not None and plan.window_end is not None and plan.window_end > plan.planned_at:
        return {"not_before": max(plan.planned_at, plan.window_start), "not_after": plan.window_end}
    return {"not_before": plan.planned_at, "not_after": plan.planned_at + FIXED_TIME_SLACK if is_fixed else None}


def _suggested(plans, start, departure, fixed: set[int]) -> list[RouteStop]:
    stops = []
    for plan in plans:
        is_fixed = plan.case_id in fixed
        stops.append(
            Stop(
                key=plan,
                position=_position(plan),
                priority=float(plan.case.priority_score),
                # A planned time is never arrived before (ETA 08:17 for a visit planned at 10:30 would
                # be a visit nobody expects); a time the collector fixed is also kept within the slack, and
                # a window the borrower asked for through their link is kept whole.
                **_time_bounds(plan, is_fixed),
            )
        )
    order, unlocated = plan_route(
        start, stops, departure=departure, speed_kmh=SPEED_KMH, minutes_per_stop=MINUTES_PER_STOP
    )
    result = []
    for index, stop in enumerate(order):
        route_stop = RouteStop(plan=stop.key, position=stop.position, leg_km=stop.leg_km, eta=stop.eta)
        route_stop.fixed_time = stop.not_after is not None
        here = start if index == 0 else order[index - 1].position
        rest = order[index:]
        nearest = min(haversine_km(here, s.position) for s in rest)
        if route_stop.fixed_time:
            when = timezone.localtime(stop.key.planned_at, borrower_timezone(stop.key.case))
            route_stop.reason = _("asked for %(time)s") % {"time": when.strftime("%H:%M")}
        elif stop.leg_km is not None and stop.leg_km <= nearest + 1e-6:
            route_stop.reason = _("nearest next")
        else:
            route_stop.reason = _("shortens the whole route")
        result.append(route_stop)
    result.extend(RouteStop(plan=stop.key, reason=_("no coordinates")) for stop in unlocated)
    return result


def _walk(start, stops: list[RouteStop], departure: dt.datetime) -> None:
    """Distances and ETAs along a hand-made order (unlocated stops: no leg, no ETA)."""
    here, clock = start, departure
    for stop in stops:
        if stop.position is None:
            stop.leg_km, stop.eta = None, None
            continue
        stop.leg_km = haversine_km(here, stop.position) if here is not None else 0.0
        clock += dt.timedelta(hours=stop.leg_km / SPEED_KMH)
        if stop.plan.planned_at is not None and clock < stop.plan.planned_at:
            clock = stop.plan.planned_at
        stop.eta = clock
        clock += dt.timedelta(minutes=MINUTES_PER_STOP)
        here = stop.position


def _apply_manual(suggested: list[RouteStop], manual_ids: list[int]) -> list[RouteStop] | None:
    by_case = {s.case.pk: s for s in suggested}
    ordered = [by_case.pop(pk) for pk in manual_ids if pk in by_case]
    if not ordered:
        return None
    rest = [s for s in suggested if s.case.pk in by_case]
    result = ordered + rest
    if [s.case.pk for s in result] == [s.case.pk for s in suggested]:
        return None
    for stop in result:
        if stop.position is not None:
            stop.reason = _("placed by hand")
    return result


def _sketch(start, stops: list[RouteStop]) -> dict | None:
    """An equirectangular sketch of the located stops, scaled into the SVG's box."""
    located = [s for s in stops if s.position is not None]
    if not located:
        return None
    points = [start, *(s.position for s in located)]
    lat0 = math.radians(sum(p[0] for p in points) / len(points))

    def project(p):
        return (p[1] * math.cos(lat0), -p[0])

    xy = [project(p) for p in points]
    min_x, max_x = min(x for x, _y in xy), max(x for x, _y in xy)
    min_y, max_y = min(y for _x, y in xy), max(y for _x, y in xy)
    span = max(max_x - min_x, max_y - min_y) or 1.0
    scale = min(SVG_WIDTH - 2 * SVG_PAD, SVG_HEIGHT - 2 * SVG_PAD) / span
    off_x = (SVG_WIDTH - (max_x - min_x) * scale) / 2
    off_y = (SVG_HEIGHT - (max_y - min_y) * scale) / 2

    def place(x, y):
        return (round(off_x + (x - min_x) * scale, 1), round(off_y + (y - min_y) * scale, 1))

    start_xy = place(*xy[0])
    for stop, (x, y) in zip(located, xy[1:], strict=True):
        stop.x, stop.y = place(x, y)
    polyline = " ".join(f"{x},{y}" for x, y in [start_xy, *((s.x, s.y) for s in located)])
    return {
        "width": SVG_WIDTH,
        "height": SVG_HEIGHT,
        "start": (start_xy[0] - 6, start_xy[1] - 6),
        "polyline": polyline,
        "stops": located,
    }


def today_route(*, viewer: User, collector: User, start: tuple[float, float] | None, now: dt.datetime) -> TodayRoute:
    tz = collector_timezone(collector)
    day = timezone.localtime(now, tz).date()
    plans = today_plans(viewer, collector, day, tz)
    saved = route_order_for(collector, day)
    fixed = set(saved.fixed_time_case_ids) if saved else set()
    departure = _departure(now, day, tz)
    given = start is not None
    start = start or _centroid([p for p in map(_position, plans) if p is not None])
    route = TodayRoute(collector=collector, day=day, tz=tz, departure=departure, start=start, start_given=given)
    if not plans:
        return route
    stops = _suggested(plans, start, departure, fixed) if start else [RouteStop(plan=p) for p in plans]
    manual = _apply_manual(stops, saved.case_ids) if saved and saved.case_ids else None
    if manual is not None:
        stops, route.manual = manual, True
        _walk(start, stops, departure)
    pack = active_pack()
    for number, stop in enumerate(stops, start=1):
        stop.number = number
        if stop.position is None:
            stop.reason = _("no coordinates")
        if stop.eta is not None and not stop.plan.consent_outside_hours:
            stop.quiet = in_quiet_hours(stop.eta, borrower_timezone(stop.case), pack)
    route.stops = stops
    route.total_km = sum(s.leg_km or 0.0 for s in stops)
    route.svg = _sketch(start, stops) if start else None
    return route
