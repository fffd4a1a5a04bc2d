"""The affordability helper shown beside the plan form.

The rule (README, "Repayment and follow-up"):

1. disposable income = monthly income - monthly expenses - other monthly debt payments
   (a missing expense or debt figure counts as 0 and the suggestion says the data is incomplete);
2. monthly capacity = the smaller of
   - ``share`` (default 50 %) of the disposable income, and
   - what keeps all debt payments within 50 % of the income (50 % x income - other debt payments),
   rounded down to a whole unit of currency;
3. term = amount ÷ capacity, rounded up to whole months (1 month = a lump sum);
4. a term longer than the maximum (default 36 months) is capped there and flagged unaffordable —
   the collector should consider a settlement with a waiver or a deferral;
5. no capacity at all suggests a deferral (3 months) and a revisit.

Pure functions of numbers: no database, no settings read unless a default is needed.
"""

import math
from dataclasses import dataclass
from decimal import ROUND_DOWN, Decimal

from django.utils.translation import gettext as _

from repayment import conf
from repayment.schedule import split_amount

DEBT_SERVICE_CAP = Decimal("0.5")
DEFERRAL_WHEN_NO_CAPACITY = 3


@dataclass(frozen=True)
class Suggestion:
    disposable: Decimal | None
    capacity: Decimal | None
    term_months: int | None
    instalment: Decimal | None
    last_instalment: Decimal | None
    deferral_months: int
    affordable: bool
    complete: bool
    reason: str


def _money(value) -> Decimal | None:
    return None if value is None else Decimal(value)


def suggest_plan(
    *,
    income: Decimal | None,
    expenses: Decimal | None,
    other_debt_payments: Decimal | None,
    amount: Decimal,
    share: Decimal | None = None,
    max_term: int | None = None,
) -> Suggestion:
    amount = Decimal(amount)
    share = conf.affordability_share() if share is None else Decimal(share)
    max_term = conf.max_term_months() if max_term is None else max_term
    income = _money(income)
    if income is None:
        return Suggestion(None, None, None, None, None, 0, False, False, _("No income was recorded at a visit."))
    complete = expenses is not None and other_debt_payments is not None
    expenses = _money(expenses) or Decimal(0)
    debts = _money(other_debt_payments) or Decimal(0)
    disposable = income - expenses - debts
    capacity = min(disposable * share, income * DEBT_SERVICE_CAP - debts).quantize(Decimal(1), rounding=ROUND_DOWN)
    if amount <= 0:
        return Suggestion(disposable, capacity, None, None, None, 0, True, complete, _("Nothing is overdue."))
    if capacity <= 0:
        reason = _("No monthly capacity after expenses and other debts: defer and revisit.")
        return Suggestion(
            disposable, max(capacity, Decimal(0)), None, None, None, DEFERRAL_WHEN_NO_CAPACITY, False, complete, reason
        )
    term = max(1, math.ceil(amount / capacity))
    affordable = term <= max_term
    if not affordable:
        term = max_term
        reason = _(
            "Even %(months)s months exceed the monthly capacity: consider a settlement with a waiver or a deferral."
        ) % {"months": max_term}
    elif term == 1:
        reason = _("The amount fits within one month's capacity: a lump sum or a promise to pay.")
    else:
        reason = _("Instalments within the monthly capacity.")
    parts = split_amount(amount.quantize(Decimal("0.01")), term)
    return Suggestion(disposable, capacity, term, parts[0], parts[-1], 0, affordable, complete, reason)
