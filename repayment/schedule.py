"""Instalment schedules in ``Decimal``: amounts that sum exactly to the plan amount, monthly due dates.

Rules:
- every instalment but the last is the plan amount divided by the count, rounded *down* to the cent;
  the last takes the remainder cents, so the sum is exact and no instalment is zero or negative;
- due dates fall on the first due date's day of the month, clamped to the month's end (a first due date
  on the 31st gives 28/29 February, 30 April …; a first due date on a month end keeps every date on a
  month end);
- a deferral of ``d`` months shifts the whole schedule ``d`` months later.
"""

import calendar
import datetime as dt
from dataclasses import dataclass
from decimal import ROUND_DOWN, Decimal

from django.utils.translation import gettext as _

from collections_app.exceptions import DoorstepError

CENT = Decimal("0.01")
MAX_INSTALMENTS = 120


class ScheduleError(DoorstepError):
    pass


@dataclass(frozen=True)
class ScheduledInstalment:
    seq: int
    due_date: dt.date
    amount: Decimal


def is_month_end(day: dt.date) -> bool:
    return day.day == calendar.monthrange(day.year, day.month)[1]


def add_months(start: dt.date, months: int, anchor_day: int | None = None) -> dt.date:
    """``start`` moved ``months`` later on ``anchor_day`` (default: start's day), clamped to the month end."""
    index = start.year * 12 + (start.month - 1) + months
    year, month = divmod(index, 12)
    month += 1
    last = calendar.monthrange(year, month)[1]
    return dt.date(year, month, min(anchor_day or start.day, last))


def split_amount(amount: Decimal, count: int) -> list[Decimal]:
    if count < 1:
        raise ScheduleError(_("A plan needs at least one instalment."))
    amount = Decimal(amount)
    if amount != amount.quantize(CENT):
        raise ScheduleError(_("Amounts are in whole cents."))
    if amount < CENT * count:
        raise ScheduleError(
            _("%(amount)s cannot be split into %(count)s instalments of at least 0.01.")
            % {"amount": amount, "count": count}
        )
    base = (amount / count).quantize(CENT, rounding=ROUND_DOWN)
    return [base] * (count - 1) + [amount - base * (count - 1)]


def due_dates(first_due: dt.date, count: int, *, deferral_months: int = 0, interval_months: int = 1) -> list[dt.date]:
    if deferral_months < 0 or interval_months < 1:
        raise ScheduleError(_("The deferral cannot be negative and instalments are at least a month apart."))
    anchor = 31 if is_month_end(first_due) else first_due.day
    return [add_months(first_due, deferral_months + i * interval_months, anchor) for i in range(count)]


def build_schedule(
    *, amount: Decimal, count: int, first_due: dt.date, deferral_months: int = 0, interval_months: int = 1
) -> list[ScheduledInstalment]:
    if count > MAX_INSTALMENTS:
        raise ScheduleError(_("At most %(max)s instalments.") % {"max": MAX_INSTALMENTS})
    amounts = split_amount(amount, count)
    dates = due_dates(first_due, count, deferral_months=deferral_months, interval_months=interval_months)
    return [ScheduledInstalment(i + 1, d, a) for i, (d, a) in enumerate(zip(dates, amounts, strict=True))]


def term_months(*, count: int, deferral_months: int = 0, interval_months: int = 1) -> int:
    """The plan's term for the approval threshold: the deferral plus one interval per instalment."""
    return deferral_months + count * interval_months
