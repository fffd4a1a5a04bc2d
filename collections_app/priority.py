"""The screening priority score (README, "Priority score").

score = w_dpd * DPD
      + round(w_amount * 10 * log10(1 + overdue amount), 2)      (log10 as ln(x) / ln(10) in doubles)
      + w_broken_promises * broken promises
      + w_no_contact * (1 if the borrower was not reached since the account fell overdue)

Weights come from ``settings.DOORSTEP_PRIORITY_WEIGHTS`` (non-negative, used to the cent). Every
term grows with its input, so an account whose DPD and overdue amount are both at least another's
(all else equal) never scores lower: the ranking is monotone.

Only the DPD term depends on the day, and it is linear in it: ``DPD = today - overdue_since``.
Ordering by the score on any one day therefore equals ordering by the stored, time-independent

    screening_key = score - w_dpd * day_number(today)
                  = amount + broken + no_contact - w_dpd * day_number(overdue_since)

which changes only when the account's own data (or a weight) changes, never because a day passed.
``screening_key_expression`` computes it in the database for set-based refreshes.
"""

import datetime as dt
import math
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db.models import (
    Case,
    DecimalField,
    ExpressionWrapper,
    F,
    FloatField,
    Func,
    IntegerField,
    Q,
    Value,
    When,
)
from django.db.models.functions import Cast, Coalesce, Least, Ln, Round
from django.utils import timezone

CENT = Decimal("0.01")
EPOCH = dt.date(1970, 1, 1)
PART_NAMES = ("dpd", "amount", "broken_promises", "no_contact")
KEY_FIELD = DecimalField(max_digits=14, decimal_places=4)


def weights() -> dict[str, Decimal]:
    """The weights, rounded to the cent so the shown parts and the stored key agree exactly."""
    result = {}
    for name in PART_NAMES:
        value = Decimal(settings.DOORSTEP_PRIORITY_WEIGHTS[name]).quantize(CENT, ROUND_HALF_UP)
        if value < 0:
            raise ImproperlyConfigured(f"Priority weight {name} must not be negative (the ranking must be monotone).")
        result[name] = value
    return result


def day_number(day: dt.date) -> int:
    return (day - EPOCH).days


LN_10 = math.log(10)


def amount_points(overdue_amount: Decimal) -> Decimal:
    """10 x log10(1 + amount): a 10x larger debt is 10 points ahead without letting size swamp age.

    Computed exactly as ``screening_key_expression`` does in SQL (double-precision ``ln`` and
    15 significant digits), so the shown part and the stored key agree to the cent.
    """
    value = 10.0 * (math.log(float(max(overdue_amount, Decimal(0)) + 1)) / LN_10)
    return Decimal(f"{value:.15g}")


def not_reached(*, overdue_since: dt.date | None, last_contact_at: dt.datetime | None) -> bool:
    """No successful contact since the account fell overdue: time-independent by design."""
    if last_contact_at is None:
        return True
    return overdue_since is not None and timezone.localdate(last_contact_at) < overdue_since


def score_parts(*, dpd: int, overdue_amount: Decimal, broken_promises: int = 0, no_contact: bool = False) -> dict:
    w = weights()
    parts = {
        "dpd": w["dpd"] * dpd,
        "amount": w["amount"] * amount_points(overdue_amount),
        "broken_promises": w["broken_promises"] * broken_promises,
        "no_contact": w["no_contact"] * (1 if no_contact else 0),
    }
    return {name: value.quantize(CENT, ROUND_HALF_UP) for name, value in parts.items()}


def score_total(parts: dict) -> Decimal:
    return sum((Decimal(v) for v in parts.values()), Decimal("0.00"))


def account_score_parts(account, *, as_of: dt.date | None = None) -> dict:
    """The parts of an account's score today (or on ``as_of``), from its stored signals."""
    return score_parts(
        dpd=account.dpd(as_of),
        overdue_amount=account.overdue_amount,
        broken_promises=account.broken_promises,
        no_contact=not_reached(overdue_since=account.overdue_since, last_contact_at=account.last_contact_at),
    )


def score_account(account, *, as_of: dt.date | None = None) -> tuple[Decimal, dict]:
    parts = account_score_parts(account, as_of=as_of)
    return score_total(parts), {k: str(v) for k, v in parts.items()}


def screening_key(account, *, as_of: dt.date) -> Decimal:
    """The key ``screening_key_expression`` stores, computed in Python (tests, documentation)."""
    return score_total(account_score_parts(account, as_of=as_of)) - weights()["dpd"] * day_number(as_of)


class DayNumber(Func):
    """Days since 1970-01-01 of a date column, on SQLite and PostgreSQL."""

    output_field = IntegerField()

    def as_sqlite(self, compiler, connection, **extra):
        # julianday('1970-01-01') is 2440587.5; a plain date always lands on .5, so the cast is exact.
        return self.as_sql(
            compiler, connection, template="CAST(julianday(%(expressions)s) - 2440587.5 AS INTEGER)", **extra
        )

    def as_postgresql(self, compiler, connection, **extra):
        return self.as_sql(compiler, connection, template="(%(expressions)s - DATE '1970-01-01')", **extra)


def _float(value: float):
    return Cast(Value(value), FloatField())


def screening_key_expression(*, today: dt.date):
    """The screening key as one SQL expression, for ``UPDATE ... SET screening_key = <this>``.

    An account with nothing overdue, no ``overdue_since`` or one in the future (a data error) has
    DPD 0 today; it is keyed as if it fell overdue ``today``, so on the day of the refresh key and
    score agree (accounts with nothing overdue are not listed anyway).
    """
    w = weights()
    money = DecimalField(max_digits=20, decimal_places=6)
    today_number = day_number(today)
    since = Case(
        When(
            overdue_amount__gt=0,
            then=Least(Coalesce(DayNumber(F("overdue_since")), Value(today_number)), Value(today_number)),
        ),
        default=Value(today_number),
        output_field=IntegerField(),
    )
    # Double precision, not numeric: PostgreSQL's numeric logarithm is ~30x slower on a million rows.
    ln_amount = Ln(Cast(F("overdue_amount") + Value(Decimal(1)), FloatField()))
    points = Cast(_float(10.0) * (ln_amount / _float(LN_10)), DecimalField(max_digits=30, decimal_places=15))
    amount = Round(ExpressionWrapper(points * Value(w["amount"]), output_field=money), 2, output_field=money)
    unreached = Case(
        When(Q(last_contact_at__isnull=True) | Q(last_contact_at__date__lt=F("overdue_since")), then=Value(1)),
        default=Value(0),
        output_field=IntegerField(),
    )
    key = ExpressionWrapper(
        amount
        + Value(w["broken_promises"]) * F("broken_promises")
        + Value(w["no_contact"]) * unreached
        - Value(w["dpd"]) * since,
        output_field=KEY_FIELD,
    )
    # SQLite computes in floats: rounding stores exactly the double a keyset cursor's
    # "-123.4500" parses to, so "key = cursor" comparisons hold there too.
    return Round(key, 4, output_field=KEY_FIELD)
