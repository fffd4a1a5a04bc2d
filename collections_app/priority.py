"""The screening priority score (README, "Priority score").

score = w_dpd * DPD + w_amount * 10 * log10(1 + overdue amount) + w_broken * broken promises
        + w_no_contact * (1 if no successful contact in 30 days)

Every term grows with its input and the weights are non-negative, so an account whose DPD and
overdue amount are both at least another's (all else equal) never scores lower: the ranking
is monotone. The DPD term is linear, so ordering by the score equals ordering by a stored,
time-independent key (``score - w_dpd * today``); see the screening selector.
"""

import datetime as dt
import math
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings

CENT = Decimal("0.01")


def weights() -> dict[str, Decimal]:
    return {name: Decimal(value) for name, value in settings.DOORSTEP_PRIORITY_WEIGHTS.items()}


def amount_points(overdue_amount: Decimal) -> Decimal:
    # log10 keeps a 10x larger debt meaningfully ahead without letting size swamp age.
    return Decimal(str(10 * math.log10(1 + float(max(overdue_amount, Decimal(0))))))


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


def score_account(account, *, as_of: dt.date | None = None, broken_promises: int = 0) -> tuple[Decimal, dict]:
    parts = score_parts(dpd=account.dpd(as_of), overdue_amount=account.overdue_amount, broken_promises=broken_promises)
    return score_total(parts), {k: str(v) for k, v in parts.items()}
