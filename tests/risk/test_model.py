"""The risk model: it finds a planted signal and not a shuffled one, never trains on the test month,
is reproducible for a seed, and is promoted only when it is not worse than the model in use."""

import numpy as np
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse

from collections_app.models import AuditLog
from risk import features as F
from risk.models import RiskModel, RiskScore, Statement
from risk.scoring import risk_score_all
from risk.training import NotEnoughData, build_dataset, evaluate, fit_models, loads, risk_train, time_split
from tests.factories import AccountFactory
from tests.risk.synthetic import planted_history

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def planted():
    return planted_history(accounts=1500, months=8, seed=1)


def test_a_planted_signal_is_found(planted):
    history, facts = planted
    record = risk_train(data=(history, {}, facts), seed=3)
    model, baseline = record.metrics["model"], record.metrics["baseline"]
    assert model["auc"] > 0.75 and baseline["auc"] > 0.75
    assert model["positives"] >= 20 and model["brier"] < 0.2
    assert record.status == RiskModel.Status.ACTIVE and record.version == 1
    assert record.features == list(F.FEATURE_NAMES)
    assert sum(row["n"] for row in model["calibration"]) == model["n"]
    assert AuditLog.objects.filter(action="risk.train", object_id=str(record.pk)).exists()


def test_label_shuffled_data_gives_no_signal(planted):
    history, facts = planted
    ds = build_dataset(history, {}, facts)
    train, test, _month = time_split(ds.label_month)
    shuffled = np.random.default_rng(0).permutation(ds.y)
    model, _baseline = fit_models(ds.X[train], shuffled[train], seed=0)
    auc = evaluate(shuffled[test], model.predict_proba(ds.X[test])[:, 1])["auc"]
    assert abs(auc - 0.5) < 0.08


def test_the_time_split_never_trains_on_a_test_month_statement(planted):
    history, facts = planted
    ds = build_dataset(history, {}, facts)
    train, test, test_month = time_split(ds.label_month)
    assert set(ds.label_month[test].tolist()) == {test_month} and ds.label_month[train].max() == test_month - 1
    first_test_day = ds.label_day[test].min()
    assert ds.label_day[train].max() < first_test_day and ds.feature_day[train].max() < first_test_day
    # Rewriting every statement of the test month changes nothing the model learnt.
    latest = history.day == history.day.max()
    altered = F.History(
        history.account,
        history.day,
        np.where(latest, 1.0, history.balance),
        history.due,
        np.where(latest, 0.0, history.paid),
        np.where(latest, 999.0, history.dpd),
    )
    first = risk_train(data=(history, {}, facts), seed=5)
    second = risk_train(data=(altered, {}, facts), seed=5)
    probe = build_dataset(history, {}, facts).X[:200]
    assert np.array_equal(
        loads(first.artifact)["model"].predict_proba(probe), loads(second.artifact)["model"].predict_proba(probe)
    )
    assert first.metrics["train"] == second.metrics["train"]


def test_training_is_reproducible_for_a_seed(planted):
    history, facts = planted
    probe = build_dataset(history, {}, facts).X[:500]
    a = loads(risk_train(data=(history, {}, facts), seed=11).artifact)["model"].predict_proba(probe)
    b = loads(risk_train(data=(history, {}, facts), seed=11).artifact)["model"].predict_proba(probe)
    assert np.array_equal(a, b)


def test_a_worse_model_is_not_promoted(planted, monkeypatch):
    history, facts = planted
    good = risk_train(data=(history, {}, facts), seed=0)

    def fit_on_shuffled_labels(X, y, seed):
        return fit_models(X, np.random.default_rng(seed).permutation(y), seed)

    monkeypatch.setattr("risk.training.fit_models", fit_on_shuffled_labels)
    worse = risk_train(data=(history, {}, facts), seed=0)
    assert worse.status == RiskModel.Status.REJECTED and "Not promoted: AUC" in worse.decision
    assert worse.metrics["in_use"]["version"] == good.version
    assert worse.metrics["in_use"]["auc"] > worse.metrics["model"]["auc"]
    good.refresh_from_db()
    assert good.status == RiskModel.Status.ACTIVE
    assert RiskModel.objects.filter(status=RiskModel.Status.ACTIVE).count() == 1


def test_a_test_month_with_too_few_outcomes_is_not_judged(settings):
    history, facts = planted_history(accounts=40, months=4, seed=2)
    settings.RISK_MIN_TEST_POSITIVES = 50
    record = risk_train(data=(history, {}, facts))
    assert record.status == RiskModel.Status.REJECTED and "at least 50" in record.decision


def test_one_outcome_only_cannot_be_trained():
    history, facts = planted_history(accounts=5, months=3, seed=0)
    flat = F.History(history.account, history.day, history.balance, history.due, history.paid, history.dpd * 0)
    with pytest.raises(NotEnoughData):
        risk_train(data=(flat, {}, facts))


def _store(history, facts, cast):
    accounts = {}
    for account_id in facts:
        accounts[account_id] = AccountFactory(branch=cast.branch_a, account_no=f"S{account_id:05d}")
    Statement.objects.bulk_create(
        Statement(
            account=accounts[int(a)],
            period_end=F.day_to_date(d),
            balance=round(b, 2),
            amount_due=round(due, 2),
            amount_paid=round(p, 2),
            dpd=int(dpd),
        )
        for a, d, b, due, p, dpd in zip(
            history.account, history.day, history.balance, history.due, history.paid, history.dpd, strict=True
        )
    )
    return accounts


def test_commands_train_and_score_every_account_naming_the_model(cast, capsys, settings):
    settings.RISK_MIN_TEST_POSITIVES = 5
    history, facts = planted_history(accounts=300, months=6, seed=4)
    _store(history, facts, cast)
    with pytest.raises(CommandError, match="No risk model"):
        call_command("risk_score")
    call_command("risk_train", "--seed", "1")
    out = capsys.readouterr().out
    assert "Model v1 (In use)" in out and "AUC" in out
    call_command("risk_score")
    assert "Scored 300 accounts" in capsys.readouterr().out
    scores = RiskScore.objects.filter(is_current=True)
    assert scores.count() == 300 and set(scores.values_list("model__version", flat=True)) == {1}
    risky = scores.order_by("-score").first()
    assert risky.factors and {"feature", "value", "contribution"} <= set(risky.factors[0])
    assert all(f["feature"] in F.FEATURE_NAMES for f in risky.factors)
    again = {s.account_id: s.score for s in scores}
    risk_score_all()
    assert {s.account_id: s.score for s in RiskScore.objects.filter(is_current=True)} == again


def test_a_new_month_keeps_last_months_score_as_previous(cast, settings):
    settings.RISK_MIN_TEST_POSITIVES = 5
    history, facts = planted_history(accounts=200, months=6, seed=4)
    accounts = _store(history, facts, cast)
    risk_train(seed=0)
    risk_score_all()
    account = accounts[1]
    before = RiskScore.objects.get(account=account, is_current=True)
    last = Statement.objects.filter(account=account).order_by("-period_end").first()
    Statement.objects.create(
        account=account, period_end=F.day_to_date(last.period_end.toordinal() + 31), balance=1, amount_paid=0, dpd=0
    )
    risk_score_all()
    now = RiskScore.objects.get(account=account, is_current=True)
    assert now.period_end > before.period_end and now.previous == before.score
    assert RiskScore.objects.filter(account=account).count() == 2


def test_model_card_shows_metrics_to_managers_and_refuses_collectors(client, cast, planted):
    history, facts = planted
    risk_train(data=(history, {}, facts), seed=0)
    client.force_login(cast.manager)
    body = client.get(reverse("risk-model-card")).content.decode()
    assert 'data-testid="calibration"' in body and "HistGradientBoostingClassifier" in body
    assert "marital_status" in body  # the card names what is never used
    client.force_login(cast.collector_a)
    assert client.get(reverse("risk-model-card")).status_code == 403


def test_case_page_shows_the_statement_chart_and_the_score_with_its_factors(client, cast, case_a, settings):
    settings.RISK_MIN_TEST_POSITIVES = 5
    history, facts = planted_history(accounts=200, months=6, seed=4)
    _store(history, facts, cast)
    for month in range(1, 4):
        Statement.objects.create(
            account=case_a.account,
            period_end=F.day_to_date(history.day[month]),
            balance=9000,
            amount_paid=0,
            dpd=30 * month,
        )
    risk_train(seed=0)
    risk_score_all()
    client.force_login(cast.collector_a)
    body = client.get(reverse("case-detail", args=[case_a.pk])).content.decode()
    assert 'data-testid="statement-chart"' in body and 'data-testid="risk-score"' in body
    assert "model v1" in body
    score = RiskScore.objects.get(account=case_a.account, is_current=True)
    assert score.factors and str(F.FEATURE_LABELS[score.factors[0]["feature"]]) in body
