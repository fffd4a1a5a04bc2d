"""An account's risk on the core's pages and API, without the core importing the app that scores it.

The risk app registers at start-up (``AppConfig.ready``) how to read an account's current score and
its factors as expressions over an account queryset (correlated subqueries with ``OuterRef("pk")``: no
query per row) and how to label the factors in the reader's language. Without a registered source, or
for an account with no score, ``risk_score`` is None and ``risk_factors`` empty (shown as "—").

Expected recovery = probability of payment x overdue amount. The probability is stored on the account
(``payment_probability``: the source's own chance of payment, else 1 - risk score) by the source when it
writes scores (``accounts_store_payment_probability``); the database keeps the order's key
(``recovery_key``, a generated column: the expected recovery, -1 without a probability) in step with it and
with the overdue amount, so ordering by it reads an index.
"""

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.db import connection
from django.db.models import Expression, FloatField, QuerySet, Value

CENT = Decimal("0.01")


@dataclass(frozen=True)
class RiskSource:
    """``score()``: the account's current risk (0-1) or NULL; ``factors()``: its top factors (JSON);
    ``labels(factors)``: the factors as ``{"feature", "label", "value", "contribution"}`` with the label
    in the active language."""

    score: Callable[[], Expression]
    factors: Callable[[], Expression]
    labels: Callable[[list], list[dict]]


_sources: dict[str, RiskSource] = {}


def register_risk_source(name: str, source: RiskSource) -> None:
    _sources[name] = source


def _source() -> RiskSource | None:
    return next(iter(_sources.values()), None)


def with_risk(accounts: QuerySet) -> QuerySet:
    """Accounts annotated with ``risk_score`` and ``risk_factors_raw`` (NULL without a score)."""
    source = _source()
    if source is None:
        return accounts.annotate(risk_score=Value(None, output_field=FloatField()))
    return accounts.annotate(risk_score=source.score(), risk_factors_raw=source.factors())


def accounts_store_payment_probability(*, accounts: QuerySet, probability: Expression) -> int:
    """Store each account's chance of payment (an expression over the account row; NULL for no score).

    Called by the risk source whenever it writes scores; the accounts' expected recovery follows in the
    same statement."""
    return accounts.update(payment_probability=probability)


def accounts_store_payment_probabilities(*, id_range: tuple[int, int], probabilities: dict[int, float]) -> None:
    """PostgreSQL: store ``probabilities`` (account id -> chance of payment) and none for every other account
    with an id in ``id_range``, in two set-based statements rather than an expression per account row.

    Rows already holding the value are left alone: each write of an account rewrites its row and every
    index on it (the expected-recovery key is one of them)."""
    from collections_app.models import DelinquentAccount

    table = DelinquentAccount._meta.db_table
    ids, values = list(probabilities), list(probabilities.values())
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} a SET payment_probability = v.p FROM unnest(%s::bigint[], %s::float8[]) AS v(id, p) "  # noqa: S608  # nosec B608 — fixed table name
            "WHERE a.id = v.id AND a.payment_probability IS DISTINCT FROM v.p",
            [ids, values],
        )
        cursor.execute(
            f"UPDATE {table} SET payment_probability = NULL WHERE id BETWEEN %s AND %s "  # noqa: S608  # nosec B608 — fixed table name
            "AND payment_probability IS NOT NULL AND id <> ALL(%s::bigint[])",
            [*id_range, ids],
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
    to the cent) from the stored values on annotated accounts; None where there is no score."""
    for account in accounts:
        score = getattr(account, "risk_score", None)
        account.risk_factors = factor_rows(getattr(account, "risk_factors_raw", None)) if score is not None else []
        probability, value = account.payment_probability, account.recovery_key
        if probability is None:
            account.payment_probability = account.expected_recovery = None
            continue
        account.payment_probability = Decimal(repr(probability)).quantize(Decimal("0.0001"), ROUND_HALF_UP)
        account.expected_recovery = Decimal(repr(value)).quantize(CENT, ROUND_HALF_UP)
