"""Risk objects behind the risk pages of the browser tours: a current account of the tour's
injection-named borrower with statements and a score, a care case, a statement import, a strategy."""

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.core.files.uploadedfile import SimpleUploadedFile

from collections_app.models import DelinquentAccount
from risk.models import CareCase, RiskModel, RiskScore, Statement, StatementImport, Strategy
from risk.scoring import accounts_refresh_payment_probability
from risk.services import care_case_open
from risk.statements import statement_import_create, statement_import_run
from risk.strategies import strategy_create

PERIODS = (dt.date(2026, 1, 31), dt.date(2026, 2, 28), dt.date(2026, 3, 31))


@dataclass
class RiskTour:
    account: DelinquentAccount
    care: CareCase
    job: StatementImport
    strategy: Strategy
    model: RiskModel


def _metrics() -> dict:
    table = [{"low": 0.0, "high": 0.1, "n": 180, "predicted": 0.04, "observed": 0.05}]
    block = {"n": 200, "positives": 24, "auc": 0.81, "brier": 0.09, "calibration": table}
    return {
        "model": block,
        "baseline": {**block, "auc": 0.78},
        "train": {"n": 900, "positives": 95},
        "in_use": None,
        "explainer_r2": 0.9,
    }


def current_account(borrower, branch, no: str) -> DelinquentAccount:
    account = DelinquentAccount.objects.create(
        account_no=no,
        borrower=borrower,
        branch=branch,
        product="credit_card",
        principal=Decimal("50000.00"),
        outstanding_balance=Decimal("30000.00"),
        overdue_amount=Decimal("0.00"),
    )
    for i, period in enumerate(PERIODS):
        Statement.objects.create(
            account=account,
            period_end=period,
            balance=28000 + 1000 * i,
            amount_due=3000,
            amount_paid=3000 - 1400 * i,
            dpd=0,
        )
    return account


def score(account, model, value: float, previous: float | None = None) -> RiskScore:
    row = RiskScore.objects.create(
        account=account,
        model=model,
        period_end=PERIODS[-1],
        score=value,
        previous=previous,
        factors=[
            {"feature": "pay_ratio", "value": 0.07, "contribution": 0.9},
            {"feature": "months_since_full_payment", "value": 2, "contribution": 0.4},
        ],
    )
    accounts_refresh_payment_probability(id_range=(account.pk, account.pk))
    return row


def build_risk_tour(*, supervisor, collector, borrower, branch) -> RiskTour:
    model = RiskModel.objects.create(
        version=1,
        status=RiskModel.Status.ACTIVE,
        algorithm="HistGradientBoostingClassifier",
        seed=0,
        train_from=dt.date(2025, 1, 31),
        train_to=PERIODS[1],
        test_period=PERIODS[2],
        features=["dpd", "pay_ratio", "months_since_full_payment"],
        metrics=_metrics(),
        decision="Promoted: no model was in use.",
        artifact=b"",
    )
    cared = current_account(borrower, branch, "E2E-CUR-01")
    score(cared, model, 0.58, previous=0.21)
    care = care_case_open(account=cared, actor=supervisor, collector=collector)
    waiting = current_account(borrower, branch, "E2E-CUR-02")
    score(waiting, model, 0.44, previous=0.12)
    csv = (
        b"account_no,period_end,balance,amount_due,amount_paid,dpd\n"
        b"E2E-CUR-01,2026-03-31,1.00,,0,0\n"
        b"<b>NOPE</b>,2026-03-31,x,,0,0\n"
    )
    job = statement_import_create(actor=supervisor, upload=SimpleUploadedFile("statements.csv", csv, "text/csv"))
    job = statement_import_run(job_id=job.pk)
    strategy = strategy_create(
        actor=supervisor, name="Visit within 3 days", first_step="visit", first_due_days=3, weight=1
    )
    return RiskTour(account=waiting, care=care, job=job, strategy=strategy, model=model)
