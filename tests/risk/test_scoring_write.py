"""Writing a chunk of scores: both writers (the ORM on any database, COPY and set-based statements on
PostgreSQL) keep the previous score, one current score per account, the factors and the model, and each
account's stored chance of payment, the same way."""

import datetime as dt
import json

import numpy as np
import pytest
from django.db import connection, transaction

from collections_app.models import DelinquentAccount
from risk import features as F
from risk import scoring
from risk.models import RiskModel, RiskScore
from risk.scoring import accounts_refresh_payment_probability
from risk.training import top_factors, top_factors_json
from tests.factories import AccountFactory
from tests.risk.helpers import a_model

pytestmark = pytest.mark.django_db

FEB, MAR = dt.date(2026, 2, 28), dt.date(2026, 3, 31)
# A label with a backslash, a quote and a tab: COPY's text format must not read them as its own escapes.
ODD = 'odd\\name "quoted"\tand tabbed'


def _history(rows: list[tuple[int, dt.date, int]]) -> F.History:
    n = len(rows)
    return F.History(
        account=np.array([r[0] for r in rows], dtype=np.int64),
        day=np.array([r[1].toordinal() for r in rows], dtype=np.int64),
        balance=np.ones(n),
        due=np.full(n, np.nan),
        paid=np.ones(n),
        dpd=np.array([r[2] for r in rows], dtype=np.float64),
    )


def _writer(name: str):
    if name == "copy" and connection.vendor != "postgresql":
        pytest.skip("COPY is PostgreSQL's")
    write = scoring._write_copy if name == "copy" else scoring._write_orm

    def run(model, rows, p, factors):
        history = _history(rows)
        with transaction.atomic():
            return write(model, history, np.arange(len(rows)), np.array(p), factors)

    return run


def _scores(account) -> list[tuple]:
    return list(
        RiskScore.objects.filter(account=account)
        .order_by("period_end")
        .values_list("period_end", "score", "previous", "is_current", "dpd", "factors", "model__version")
    )


def _probability(account) -> float | None:
    return DelinquentAccount.objects.get(pk=account.pk).payment_probability


@pytest.mark.parametrize("writer", ["orm", "copy"])
def test_both_writers_keep_previous_current_factors_and_the_chance_of_payment(cast, writer):
    write = _writer(writer)
    model = a_model()
    first, between, last = (AccountFactory(branch=cast.branch_a) for _ in range(3))
    # An account in the chunk's id range scored before but without a statement in this run.
    RiskScore.objects.create(account=between, model=model, period_end=FEB, score=0.5, dpd=0, factors=[])
    accounts_refresh_payment_probability(id_range=(between.pk, between.pk))
    assert _probability(between) == 0.5
    factors = [
        [{"feature": "dpd", "value": 1.0, "contribution": 0.5}],
        [{"feature": ODD, "value": -2.5, "contribution": 0.1}],
    ]

    assert write(model, [(first.pk, FEB, 0), (last.pk, FEB, 31)], [0.2, 0.7], factors) == 2
    assert _scores(first) == [(FEB, 0.2, None, True, 0, factors[0], 1)]
    assert _scores(last) == [(FEB, 0.7, None, True, 31, factors[1], 1)]
    assert _scores(between) == [(FEB, 0.5, None, False, 0, [], 1)]
    assert (_probability(first), _probability(between), _probability(last)) == (1.0 - 0.2, None, 1.0 - 0.7)

    # The same month again (a new model): the row is rewritten in place, its previous still last month's.
    RiskModel.objects.filter(pk=model.pk).update(status=RiskModel.Status.RETIRED)
    second = a_model(version=2)
    write(second, [(first.pk, FEB, 0), (last.pk, FEB, 31)], [0.25, 0.7], factors)
    assert _scores(first) == [(FEB, 0.25, None, True, 0, factors[0], 2)]
    assert _probability(first) == 1.0 - 0.25

    # A new month: the old score becomes the previous one and stays, no longer current.
    write(second, [(first.pk, MAR, 5), (last.pk, MAR, 0)], [0.3123456789, 0.6], [[], factors[1]])
    assert _scores(first) == [(FEB, 0.25, None, False, 0, factors[0], 2), (MAR, 0.312346, 0.25, True, 5, [], 2)]
    assert _scores(last)[-1] == (MAR, 0.6, 0.7, True, 0, factors[1], 2)
    assert RiskScore.objects.filter(is_current=True).count() == 2
    assert (_probability(first), _probability(between), _probability(last)) == (1.0 - 0.312346, None, 1.0 - 0.6)


def test_factors_as_json_text_read_back_as_the_factors():
    rng = np.random.default_rng(5)
    X = rng.normal(size=(400, 4)) * [1, 10, 100, 0.001]
    X[0] = [0.0, 1.0, 2.0, 0.0]  # at the mean: nothing raises the risk
    explainer = {"coef": [0.5, -0.2, 0.01, 3.0], "mean": [0.0, 1.0, 2.0, 0.0], "scale": [1.0, 2.0, 1.0, 0.5]}
    names = ["dpd", ODD, "pay_ratio_3m", "balance"]
    factors = top_factors(explainer, names, X)
    assert [json.loads(text) for text in top_factors_json(explainer, names, X)] == factors
    assert factors[0] == [] and max(len(row) for row in factors) == 3
    assert top_factors_json({}, names, X[:2]) == ["[]", "[]"]
