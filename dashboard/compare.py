"""The period's headline figures beside the previous period's (``Filters.previous``) and the change.

The previous period's visits, contact attempts, payments and closures ride in the period's facts statement
(``tallies.period_facts``) as more parts labelled ``previous:<metric>``; its promises and recovery base ride
in the queries that count the period's own (``recovery``): the page keeps its query budget. See README,
"Dashboard"."""

from decimal import Decimal

from dashboard.models import DayTally
from dashboard.scope import Scope, cents, rate
from dashboard.tallies import period_parts

Metric = DayTally.Metric
PREFIX = "previous:"
COMPARED = (Metric.PAYMENT, Metric.VISIT, Metric.CONTACT, Metric.CLOSURE)
METRICS = tuple(PREFIX + str(metric) for metric in COMPARED)
MONEY, COUNT, RATE = "money", "count", "rate"
PERCENT = Decimal("0.1")


def previous_parts(scope: Scope, upto) -> list:
    """The previous period's compared facts, in the period facts' row shape."""
    return period_parts(scope.previous(), upto, metrics=COMPARED, prefix=PREFIX)


def change(kind: str, value, previous) -> dict:
    """How ``value`` moved from ``previous``: the direction (``up``, ``down``, ``same``; None when either
    is missing), and the size: for rates in percentage points, otherwise in percent of the previous value
    (None when the previous value is zero)."""
    entry = {"kind": kind, "value": value, "previous": previous, "direction": None, "percent": None, "points": None}
    if kind == RATE:  # shown as percentages
        entry["previous_percent"] = None if previous is None else (Decimal(str(previous)) * 100).quantize(PERCENT)
    if value is None or previous is None:
        return entry
    difference = Decimal(str(value)) - Decimal(str(previous))
    entry["direction"] = "up" if difference > 0 else "down" if difference < 0 else "same"
    if kind == RATE:
        entry["points"] = abs(difference * 100).quantize(PERCENT)
    elif previous:
        entry["percent"] = abs(difference * 100 / Decimal(str(previous))).quantize(PERCENT)
    return entry


def headline_block(*, scope: Scope, facts: dict, promises: tuple[dict, dict], recovery: tuple[dict, Decimal]) -> dict:
    """Each headline figure of the period with the previous period's value and the change, by name.
    ``promises``: the period's promise block and the previous period's due and kept counts; ``recovery``:
    the period's recovery block and the previous period's recovery base."""
    promises, previous_promises = promises
    recovery, previous_base = recovery

    def total(metric: str, previous: bool = False) -> list:
        return facts[(PREFIX if previous else "") + str(metric)]["total"]

    recovered = cents(total(Metric.PAYMENT)[1])
    previous_recovered = cents(total(Metric.PAYMENT, True)[1])
    kept = promises["kept_rate"] if promises["due"] else None
    previous_due = previous_promises["due"]
    previous_kept = rate(previous_promises["kept"], previous_due) if previous_due else None
    previous = scope.previous().filters
    return {
        "date_from": previous.date_from,
        "date_to": previous.date_to,
        "recovered_amount": change(MONEY, recovered, previous_recovered),
        "recovery_rate": change(RATE, recovery["recovery_rate"], rate(previous_recovered, previous_base)),
        "kept_rate": change(RATE, kept, previous_kept),
        "visits": change(COUNT, total(Metric.VISIT)[0], total(Metric.VISIT, True)[0]),
        "contacts": change(COUNT, total(Metric.CONTACT)[0], total(Metric.CONTACT, True)[0]),
        "closed": change(COUNT, total(Metric.CLOSURE)[0], total(Metric.CLOSURE, True)[0]),
    }
