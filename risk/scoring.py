"""Scoring every account with statements by the model in use; each score names its model version."""

import io
import json

import numpy as np
from django.db import connection, transaction
from django.db.models import FloatField, OuterRef, Subquery, Value
from django.utils import timezone

from collections_app.account_risk import accounts_store_payment_probabilities, accounts_store_payment_probability
from collections_app.models import DelinquentAccount
from collections_app.services.audit import audit_log
from risk import features as F
from risk.models import RiskModel, RiskScore, Statement
from risk.training import loads, threads, top_factors, top_factors_json

ACCOUNT_CHUNK = 50_000
# PostgreSQL: a chunk's scores are copied here, then written with a few set-based statements.
SCORE_STAGE = "risk_score_stage"


def _latest_rows(history: F.History) -> np.ndarray:
    last = np.ones(len(history), dtype=bool)
    if len(history) > 1:
        last[:-1] = history.account[:-1] != history.account[1:]
    return np.nonzero(last)[0]


def score_history(model: RiskModel, history: F.History, events: dict, facts: dict, *, as_json: bool = False):
    """(rows, probabilities, factors) for each account's latest statement in ``history``; the factors as
    JSON text when ``as_json`` (what the COPY writer sends)."""
    artifact = loads(model.artifact)
    X = F.build_matrix(history, events, facts, model.features)
    rows = _latest_rows(history)
    p = artifact["model"].predict_proba(X[rows])[:, 1] if len(rows) else np.zeros(0)
    explain = top_factors_json if as_json else top_factors
    return rows, p, explain(model.explainer, model.features, X[rows])


def accounts_refresh_payment_probability(*, id_range: tuple[int, int] | None = None) -> int:
    """Store 1 - current risk as each account's chance of payment (NULL without a current score), so
    screening's expected-recovery order reads the account's own indexed column."""
    current = RiskScore.objects.filter(account=OuterRef("pk"), is_current=True).order_by("-period_end")
    probability = Value(1.0, output_field=FloatField()) - Subquery(current.values("score")[:1])
    accounts = (
        DelinquentAccount.objects.all() if id_range is None else DelinquentAccount.objects.filter(pk__range=id_range)
    )
    return accounts_store_payment_probability(accounts=accounts, probability=probability)


def _scores_rows(history: F.History, rows) -> tuple[list[int], list]:
    account_ids = [int(a) for a in history.account[rows]]
    period_ends = [F.day_to_date(day) for day in history.day[rows]]
    return account_ids, period_ends


@transaction.atomic
def _write(model: RiskModel, history: F.History, rows, p, factors) -> int:
    if not len(rows):
        return 0
    writer = _write_copy if connection.vendor == "postgresql" else _write_orm
    return writer(model, history, rows, p, factors)


def _write_orm(model: RiskModel, history: F.History, rows, p, factors) -> int:
    """SQLite (and any database without COPY): the scores through the ORM, one chunk at a time."""
    account_ids, period_ends = _scores_rows(history, rows)
    in_chunk = RiskScore.objects.filter(
        account_id__gte=account_ids[0], account_id__lte=account_ids[-1], is_current=True
    )
    current = {
        account_id: (period_end, score, previous)
        for account_id, period_end, score, previous in in_chunk.values_list(
            "account_id", "period_end", "score", "previous"
        )
    }
    in_chunk.update(is_current=False)
    scores = []
    for i, row in enumerate(rows):
        account_id, period_end = account_ids[i], period_ends[i]
        before = current.get(account_id)
        previous = None
        if before is not None:
            previous = before[1] if before[0] < period_end else before[2]
        scores.append(
            RiskScore(
                account_id=account_id,
                model=model,
                period_end=period_end,
                score=round(float(p[i]), 6),
                previous=previous,
                is_current=True,
                dpd=int(history.dpd[row]),
                factors=factors[i],
            )
        )
    RiskScore.objects.bulk_create(
        scores,
        batch_size=5000,
        update_conflicts=True,
        unique_fields=["account", "period_end"],
        update_fields=["model", "score", "previous", "is_current", "dpd", "factors", "scored_at"],
    )
    accounts_refresh_payment_probability(id_range=(account_ids[0], account_ids[-1]))
    return len(scores)


def _copy_json(value) -> str:
    """JSON text (or a value to encode) for COPY's text format, which reads a backslash as an escape; JSON
    holds no raw tab or newline."""
    text = value if isinstance(value, str) else json.dumps(value, separators=(",", ":"))
    return text.replace("\\", "\\\\")


def _write_copy(model: RiskModel, history: F.History, rows, p, factors) -> int:
    """PostgreSQL: the chunk's scores go in with COPY to a session table, then a few set-based statements
    do what the ORM path does row by row (the previous score, the current flag, the upsert, and the
    accounts' chance of payment), instead of a bulk upsert of JSON rows and a subquery per account."""
    account_ids, period_ends = _scores_rows(history, rows)
    scores = [round(float(v), 6) for v in p]
    dpds = history.dpd[rows].astype(np.int64).tolist()
    text = "".join(
        f"{a}\t{d.isoformat()}\t{s!r}\t{n}\t{_copy_json(f)}\n"
        for a, d, s, n, f in zip(account_ids, period_ends, scores, dpds, factors, strict=True)
    )
    table = RiskScore._meta.db_table
    low, high = account_ids[0], account_ids[-1]
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {SCORE_STAGE}")
        cursor.execute(
            f"CREATE TEMPORARY TABLE {SCORE_STAGE} (account_id bigint PRIMARY KEY, period_end date, "
            "score float8, dpd integer, factors jsonb, previous float8)"
        )
        cursor.cursor.copy_expert(
            f"COPY {SCORE_STAGE} (account_id, period_end, score, dpd, factors) FROM STDIN", io.StringIO(text)
        )
        # The score a month ago, from the current score before it is replaced (as in _write_orm).
        cursor.execute(
            f"UPDATE {SCORE_STAGE} s SET previous = CASE WHEN c.period_end < s.period_end "  # noqa: S608  # nosec B608 — fixed table names
            f"THEN c.score ELSE c.previous END FROM {table} c "
            "WHERE c.account_id = s.account_id AND c.is_current AND c.account_id BETWEEN %s AND %s",
            [low, high],
        )
        # A row about to be rewritten by the upsert below keeps its flag here: one write per row, not two.
        cursor.execute(
            f"UPDATE {table} r SET is_current = false WHERE r.account_id BETWEEN %s AND %s AND r.is_current "  # noqa: S608  # nosec B608 — fixed table names
            f"AND NOT EXISTS (SELECT 1 FROM {SCORE_STAGE} s "
            "WHERE s.account_id = r.account_id AND s.period_end = r.period_end)",
            [low, high],
        )
        cursor.execute(
            f"INSERT INTO {table} (account_id, model_id, period_end, score, previous, is_current, dpd, factors, "  # noqa: S608  # nosec B608 — fixed table names
            f"scored_at) SELECT account_id, %s, period_end, score, previous, true, dpd, factors, %s FROM {SCORE_STAGE} "
            "ORDER BY account_id ON CONFLICT (account_id, period_end) DO UPDATE SET model_id = EXCLUDED.model_id, "
            "score = EXCLUDED.score, previous = EXCLUDED.previous, is_current = true, dpd = EXCLUDED.dpd, "
            "factors = EXCLUDED.factors, scored_at = EXCLUDED.scored_at",
            [model.pk, timezone.now()],
        )
        cursor.execute(f"DROP TABLE {SCORE_STAGE}")
    # Every other account in the range has no current score now, as accounts_refresh_payment_probability says.
    accounts_store_payment_probabilities(
        id_range=(low, high), probabilities=dict(zip(account_ids, (1.0 - s for s in scores), strict=True))
    )
    return len(account_ids)


def risk_score_all(*, actor=None, seed_events=None) -> int:
    """Score every account's latest statement with the model in use; 0 when no model is in use."""
    with threads():
        return _score_all(actor=actor, seed_events=seed_events)


def _score_all(*, actor, seed_events) -> int:
    model = RiskModel.objects.filter(status=RiskModel.Status.ACTIVE).first()
    if model is None:
        return 0
    account_ids = list(Statement.objects.order_by().values_list("account_id", flat=True).distinct())
    account_ids.sort()
    total = 0
    for start in range(0, len(account_ids), ACCOUNT_CHUNK):
        ids = account_ids[start : start + ACCOUNT_CHUNK]
        id_range = (ids[0], ids[-1])
        history = F.stored_history(id_range)
        events = seed_events if seed_events is not None else F.outcome_events(id_range)
        as_json = connection.vendor == "postgresql"
        rows, p, factors = score_history(model, history, events, F.account_facts(id_range), as_json=as_json)
        total += _write(model, history, rows, p, factors)
    audit_log(actor=actor, action="risk.score", obj=model, changes={"version": model.version, "accounts": total})
    return total
