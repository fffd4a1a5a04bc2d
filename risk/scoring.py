"""Scoring every account with statements by the model in use; each score names its model version."""

import numpy as np
from django.db import transaction
from django.db.models import FloatField, OuterRef, Subquery, Value

from collections_app.account_risk import accounts_store_payment_probability
from collections_app.models import DelinquentAccount
from collections_app.services.audit import audit_log
from risk import features as F
from risk.models import RiskModel, RiskScore, Statement
from risk.training import loads, threads, top_factors

ACCOUNT_CHUNK = 50_000


def _latest_rows(history: F.History) -> np.ndarray:
    last = np.ones(len(history), dtype=bool)
    if len(history) > 1:
        last[:-1] = history.account[:-1] != history.account[1:]
    return np.nonzero(last)[0]


def score_history(model: RiskModel, history: F.History, events: dict, facts: dict):
    """(rows, probabilities, factors) for each account's latest statement in ``history``."""
    artifact = loads(model.artifact)
    X = F.build_matrix(history, events, facts, model.features)
    rows = _latest_rows(history)
    p = artifact["model"].predict_proba(X[rows])[:, 1] if len(rows) else np.zeros(0)
    return rows, p, top_factors(model.explainer, model.features, X[rows])


def accounts_refresh_payment_probability(*, id_range: tuple[int, int] | None = None) -> int:
    """Store 1 - current risk as each account's chance of payment (NULL without a current score), so
    screening's expected-recovery order reads the account's own indexed column."""
    current = RiskScore.objects.filter(account=OuterRef("pk"), is_current=True).order_by("-period_end")
    probability = Value(1.0, output_field=FloatField()) - Subquery(current.values("score")[:1])
    accounts = (
        DelinquentAccount.objects.all() if id_range is None else DelinquentAccount.objects.filter(pk__range=id_range)
    )
    return accounts_store_payment_probability(accounts=accounts, probability=probability)


@transaction.atomic
def _write(model: RiskModel, history: F.History, rows, p, factors) -> int:
    if not len(rows):
        return 0
    account_ids = [int(a) for a in history.account[rows]]
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
        account_id = account_ids[i]
        period_end = F.day_to_date(history.day[row])
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
        rows, p, factors = score_history(model, history, events, F.account_facts(id_range))
        total += _write(model, history, rows, p, factors)
    audit_log(actor=actor, action="risk.score", obj=model, changes={"version": model.version, "accounts": total})
    return total
