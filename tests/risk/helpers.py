"""Risk rows straight in the database, for tests of the pages that read them."""

import datetime as dt
from decimal import Decimal

from risk.models import RiskModel, RiskScore, Statement
from risk.scoring import accounts_refresh_payment_probability
from tests.factories import AccountFactory

PERIOD = dt.date(2026, 3, 31)


def a_model(version: int = 1) -> RiskModel:
    return RiskModel.objects.create(
        version=version,
        status=RiskModel.Status.ACTIVE,
        algorithm="HistGradientBoostingClassifier",
        seed=0,
        train_from=dt.date(2025, 1, 31),
        train_to=dt.date(2026, 2, 28),
        test_period=PERIOD,
        features=["dpd", "pay_ratio_3m"],
        metrics={"model": {"n": 0, "positives": 0, "auc": None, "brier": None, "calibration": []}},
        artifact=b"",
    )


def a_scored_account(model, branch, score: float, previous: float | None = None, **account):
    account = AccountFactory(
        branch=branch, overdue_amount=Decimal("0.00"), overdue_since=None, principal=Decimal("10000"), **account
    )
    Statement.objects.create(account=account, period_end=PERIOD, balance=5000, amount_due=500, amount_paid=100, dpd=0)
    RiskScore.objects.create(
        account=account,
        model=model,
        period_end=PERIOD,
        score=score,
        previous=previous,
        dpd=0,
        factors=[{"feature": "pay_ratio_3m", "value": 0.2, "contribution": 0.8}],
    )
    accounts_refresh_payment_probability(id_range=(account.pk, account.pk))
    return account


def access_world(cast):
    """Risk objects of team X for the access matrix: a care case of collector A, supervisor X's
    statement import, a strategy."""
    from types import SimpleNamespace

    from risk.models import StatementImport
    from risk.services import care_case_open
    from risk.strategies import strategy_create

    model = a_model()
    account = a_scored_account(model, cast.branch_a, 0.6)
    care = care_case_open(account=account, actor=cast.supervisor_x, collector=cast.collector_a)
    job = StatementImport.objects.create(
        created_by=cast.supervisor_x, filename="statements.csv", status=StatementImport.Status.DONE
    )
    strategy = strategy_create(actor=cast.manager, name="Visit in 3 days", first_step="visit", first_due_days=3)
    return SimpleNamespace(account=account, care=care, job=job, strategy=strategy)
