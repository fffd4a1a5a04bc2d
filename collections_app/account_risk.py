"""An account's risk on the core's pages and API, without the core importing the app that scores it.

The risk app registers at start-up (``AppConfig.ready``) how to read an account's current score and
its factors as expressions over an account queryset (correlated subqueries with ``OuterRef("pk")``: no
query per row) and how to label the factors in the reader's language. Without a registered source, or
for an account with no score, ``risk_score`` is None and ``risk_factors`` empty (shown as "—").

Expected recovery = probability of payment x overdue amount; the probability of payment is the
source's own when it gives one, else 1 - risk score.
"""

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Expression, F, FloatField, QuerySet, Value
from django.db.models.functions import Cast

CENT = Decimal("0.01")


@dataclass(frozen=True)
class RiskSource:
    """``score()``: the account's current risk (0-1) or NULL; ``factors()``: its top factors (JSON);
    ``labels(factors)``: the factors as ``{"feature", "label", "value", "contribution"}`` with the label
    in the active language; ``payment_probability()``: the model's own chance of payment, if it has one."""

    score: Callable[[], Expression]
    factors: Callable[[], Expression]
    labels: Callable[[list], list[dict]]
    payment_probability: Callable[[], Expression] | None = None


_sources: dict[str, RiskSource] = {}


def register_risk_source(name: str, source: RiskSource) -> None:
    _sources[name] = source


def _source() -> RiskSource | None:
    return next(iter(_sources.values()), None)


def with_risk(accounts: QuerySet, *, expected_recovery: bool = False) -> QuerySet:
    """Accounts annotated with ``risk_score`` and ``risk_factors_raw`` (and, when asked, ``payment_probability``
    and ``expected_recovery`` as floats, NULL without a score)."""
    source = _source()
    if source is None:
        accounts = accounts.annotate(risk_score=Value(None, output_field=FloatField()))
    else:
        accounts = accounts.annotate(risk_score=source.score(), risk_factors_raw=source.factors())
    if not expected_recovery:
        return accounts
    if source is not None and source.payment_probability is not None:
        probability = source.payment_probability()
    else:
        probability = Value(1.0, output_field=FloatField()) - F("risk_score")
    return accounts.annotate(payment_probability=probability).annotate(
        expected_recovery=F("payment_probability") * Cast("overdue_amount", FloatField())
    )


def factor_rows(raw) -> list[dict]:
    """The stored factors labelled in the active language; an empty list without a score."""
    if not raw:
        return []
    if isinstance(raw, str):  # SQLite hands a JSON subquery back as text
        raw = json.loads(raw)
    source = _source()
    return source.labels(raw) if source is not None else []


def decorate(accounts: Iterable) -> None:
    """Set ``risk_factors``, ``payment_probability`` (Decimal, 4 places) and ``expected_recovery`` (Decimal,
    to the cent) on annotated accounts; None where there is no score."""
    for account in accounts:
        score = getattr(account, "risk_score", None)
        account.risk_factors = factor_rows(getattr(account, "risk_factors_raw", None)) if score is not None else []
        probability = getattr(account, "payment_probability", None)
        if probability is None and score is not None:
            probability = 1.0 - score
        if probability is None:
            account.payment_probability = account.expected_recovery = None
            continue
        value = getattr(account, "expected_recovery", None)
        if value is None:
            value = probability * float(account.overdue_amount)
        account.payment_probability = Decimal(repr(probability)).quantize(Decimal("0.0001"), ROUND_HALF_UP)
        account.expected_recovery = Decimal(repr(value)).quantize(CENT, ROUND_HALF_UP)
