"""Writes for ``/today/``: the collector's hand-made order and the visit times the borrower asked for.

Stored per collector per day in ``RouteOrder`` (not the session, which ends after 30 idle minutes).
"""

import datetime as dt

from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from collections_app.exceptions import DoorstepError
from collections_app.models import User
from collections_app.services.audit import audit_log
from visits.models import RouteOrder

UP, DOWN = "up", "down"


class RouteRefused(DoorstepError):
    default_message = gettext_lazy("The route could not be changed.")


def _route_order(collector: User, day: dt.date) -> RouteOrder:
    order, _created = RouteOrder.objects.select_for_update().get_or_create(collector=collector, day=day)
    return order


@transaction.atomic
def route_order_move(
    *, collector: User, actor: User, day: dt.date, current: list[int], case_id: int, direction: str
) -> RouteOrder:
    """Move one stop up or down in the order the collector currently sees, and keep that order."""
    if actor.pk != collector.pk:
        raise RouteRefused(_("Only the collector reorders their own day."))
    if case_id not in current:
        raise RouteRefused(_("This visit is not on today's route."))
    index = current.index(case_id)
    target = index - 1 if direction == UP else index + 1
    if direction not in (UP, DOWN) or not 0 <= target < len(current):
        raise RouteRefused(_("This stop cannot move further."))
    new = list(current)
    new[index], new[target] = new[target], new[index]
    order = _route_order(collector, day)
    before = list(order.case_ids)
    order.case_ids = new
    order.save(update_fields=["case_ids", "updated_at"])
    audit_log(actor=actor, action="route.reorder", obj=order, changes={"order": [before, new]})
    return order


@transaction.atomic
def route_order_reset(*, collector: User, actor: User, day: dt.date) -> None:
    """Back to the suggested order (the times asked for stay)."""
    if actor.pk != collector.pk:
        raise RouteRefused(_("Only the collector reorders their own day."))
    order = RouteOrder.objects.select_for_update().filter(collector=collector, day=day).first()
    if order is None or not order.case_ids:
        return
    order.case_ids = []
    order.save(update_fields=["case_ids", "updated_at"])
    audit_log(actor=actor, action="route.reset", obj=order)


@transaction.atomic
def route_fixed_time_toggle(
    *, collector: User, actor: User, day: dt.date, current: list[int], case_id: int
) -> RouteOrder:
    """Mark (or unmark) a stop's planned time as the one the borrower asked for: the route keeps it."""
    if actor.pk != collector.pk:
        raise RouteRefused(_("Only the collector changes their own day."))
    if case_id not in current:
        raise RouteRefused(_("This visit is not on today's route."))
    order = _route_order(collector, day)
    fixed = [pk for pk in order.fixed_time_case_ids if pk != case_id]
    if len(fixed) == len(order.fixed_time_case_ids):
        fixed.append(case_id)
    order.fixed_time_case_ids = fixed
    order.save(update_fields=["fixed_time_case_ids", "updated_at"])
    audit_log(actor=actor, action="route.fixed_time", obj=order, changes={"case": case_id, "fixed": case_id in fixed})
    return order
