"""Training, judging and promoting the risk model (README, "Risk and early warning").

Target: the account is 30+ DPD at its next period end. Every pair of consecutive statements of an
account is one example: features from the history up to month t, the label from month t+1. The
holdout is the latest label month; training uses only examples whose label month is earlier, so no
statement of the test month is ever read while fitting.
"""

import io
import itertools
import json
import pickle
import time
from dataclasses import dataclass

import numpy as np
from django.conf import settings
from django.db import transaction
from django.db.models import Max
from django.utils.translation import gettext as _
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.metrics import brier_score_loss, roc_auc_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

from collections_app.exceptions import DoorstepError
from collections_app.services.audit import audit_log
from risk import features as F
from risk.models import RiskModel

ALGORITHM = "HistGradientBoostingClassifier"
CALIBRATION_EDGES = (0.0, 0.05, 0.1, 0.2, 0.3, 0.5, 0.7, 1.0000001)
# A new model is promoted unless it is worse than the one in use by more than noise on the same test month.
AUC_TOLERANCE = 0.005
BRIER_TOLERANCE = 0.005
SURROGATE_SAMPLE = 200_000
# Past this many training examples the models fit on a seeded random sample of them: at 1 M accounts x 12
# months (11 M examples) the fit stays within minutes and the test month is still scored in full.
TRAIN_SAMPLE = 3_000_000


class NotEnoughData(DoorstepError):
    pass


@dataclass
class Dataset:
    X: np.ndarray
    y: np.ndarray
    label_month: np.ndarray  # year * 12 + month - 1 of the label statement
    feature_day: np.ndarray
    label_day: np.ndarray


def _month(days: np.ndarray) -> np.ndarray:
    return np.array([F.day_to_date(d).year * 12 + F.day_to_date(d).month - 1 for d in days], dtype=np.int64)


def build_dataset(history: F.History, events: dict, facts: dict, names=F.FEATURE_NAMES) -> Dataset:
    X_all = F.build_matrix(history, events, facts, names)
    rows, labels, label_day = F.next_month_labels(history)
    unique_days, inverse = np.unique(label_day, return_inverse=True)
    months = _month(unique_days)[inverse] if len(unique_days) else np.zeros(0, dtype=np.int64)
    return Dataset(X_all[rows], labels, months, history.day[rows], label_day)


def time_split(label_month: np.ndarray) -> tuple[np.ndarray, np.ndarray, int]:
    """(train mask, test mask, test month): the test month is the latest label month."""
    if not len(label_month):
        raise NotEnoughData(_("There are no pairs of consecutive statements to learn from."))
    test_month = int(label_month.max())
    return label_month < test_month, label_month == test_month, test_month


def calibration_table(y: np.ndarray, p: np.ndarray) -> list[dict]:
    table = []
    for low, high in itertools.pairwise(CALIBRATION_EDGES):
        mask = (p >= low) & (p < high)
        if mask.any():
            table.append(
                {
                    "low": low,
                    "high": min(high, 1.0),
                    "n": int(mask.sum()),
                    "predicted": round(float(p[mask].mean()), 4),
                    "observed": round(float(y[mask].mean()), 4),
                }
            )
    return table


def evaluate(y: np.ndarray, p: np.ndarray) -> dict:
    both = len(np.unique(y)) == 2
    return {
        "n": len(y),
        "positives": int(y.sum()),
        "auc": round(float(roc_auc_score(y, p)), 4) if both else None,
        "brier": round(float(brier_score_loss(y, p)), 4) if len(y) else None,
        "calibration": calibration_table(y, p),
    }


def threads():
    """Bound scikit-learn's OpenMP/BLAS threads: on a shared host, spinning threads cost 20x the work."""
    return threadpool_limits(settings.RISK_THREADS)


def fit_models(X: np.ndarray, y: np.ndarray, seed: int):
    model = HistGradientBoostingClassifier(
        max_iter=150,
        learning_rate=0.1,
        max_leaf_nodes=31,
        l2_regularization=1.0,
        early_stopping=False,
        random_state=seed,
    ).fit(X, y)
    baseline = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000)).fit(X, y)
    return model, baseline


def fit_explainer(model, X: np.ndarray, seed: int) -> dict:
    """A linear surrogate of the model's log-odds on standardised features: per-account contributions."""
    if len(X) > SURROGATE_SAMPLE:
        X = X[np.random.default_rng(seed).choice(len(X), SURROGATE_SAMPLE, replace=False)]
    p = np.clip(model.predict_proba(X)[:, 1], 1e-6, 1 - 1e-6)
    logit = np.log(p / (1 - p))
    mean, scale = X.mean(axis=0), X.std(axis=0)
    scale = np.where(scale > 0, scale, 1.0)
    Z = (X - mean) / scale
    surrogate = LinearRegression().fit(Z, logit)
    return {
        "coef": [round(float(c), 6) for c in surrogate.coef_],
        "mean": [float(m) for m in mean],
        "scale": [float(s) for s in scale],
        "intercept": float(surrogate.intercept_),
        "r2": round(float(surrogate.score(Z, logit)), 4),
    }


def _top_rows(explainer: dict, names, X: np.ndarray, count: int):
    """Per row, the (feature, value, contribution) of up to ``count`` features that raise its risk most."""
    if not explainer or not len(X):
        return [[] for _row in range(len(X))]
    coef, mean, scale = (np.array(explainer[k]) for k in ("coef", "mean", "scale"))
    contributions = coef * (X - mean) / scale
    order = np.argsort(-contributions, axis=1)[:, :count]
    # Picked as arrays and handed over as Python floats in one go: at a million rows, indexing the arrays
    # value by value was most of the time spent here.
    columns = order.tolist()
    values = np.take_along_axis(X, order, axis=1).tolist()
    parts = np.take_along_axis(contributions, order, axis=1).tolist()
    return [
        [(names[j], round(x, 3), round(c, 3)) for j, x, c in zip(row, xs, cs, strict=True) if c > 0]
        for row, xs, cs in zip(columns, values, parts, strict=True)
    ]


def top_factors(explainer: dict, names, X: np.ndarray, count: int = 3) -> list[list[dict]]:
    """The features that raise each row's risk most, as [{"feature", "value", "contribution"}]."""
    return [
        [{"feature": name, "value": x, "contribution": c} for name, x, c in row]
        for row in _top_rows(explainer, names, X, count)
    ]


def top_factors_json(explainer: dict, names, X: np.ndarray, count: int = 3) -> list[str]:
    """``top_factors`` as each row's JSON text, written straight from the numbers (no dict per factor)."""
    quoted = {name: json.dumps(name) for name in names}
    return [
        "[" + ",".join(f'{{"feature":{quoted[name]},"value":{x!r},"contribution":{c!r}}}' for name, x, c in row) + "]"
        for row in _top_rows(explainer, names, X, count)
    ]


def dumps(obj) -> bytes:
    buffer = io.BytesIO()
    pickle.dump(obj, buffer, protocol=pickle.HIGHEST_PROTOCOL)
    return buffer.getvalue()


def loads(data) -> object:
    return pickle.loads(bytes(data))  # noqa: S301  # nosec B301 — only artifacts this module stored


def load_training_data(statements=None):
    history = F.stored_history() if statements is None else F.load_history(statements)
    return history, F.outcome_events(), F.account_facts()


def _training_rows(train: np.ndarray, seed: int) -> np.ndarray:
    """Indices of the training examples the models fit on: all of them, or a seeded sample of ``TRAIN_SAMPLE``."""
    rows = np.nonzero(train)[0]
    if len(rows) <= TRAIN_SAMPLE:
        return rows
    return np.sort(np.random.default_rng(seed).choice(rows, TRAIN_SAMPLE, replace=False))


def _judge(candidate: dict, in_use: dict | None, min_positives: int) -> tuple[bool, str]:
    if candidate["positives"] < min_positives or candidate["n"] - candidate["positives"] < min_positives:
        return False, _(
            "Not promoted: the test month has %(pos)s accounts 30+ DPD out of %(n)s; at least %(min)s of each "
            "outcome are needed to judge a model."
        ) % {"pos": candidate["positives"], "n": candidate["n"], "min": min_positives}
    if in_use is None:
        return True, _("Promoted: no model was in use.")
    if in_use["auc"] is not None and candidate["auc"] < in_use["auc"] - AUC_TOLERANCE:
        return False, _("Not promoted: AUC %(new)s is below %(old)s of the model in use on the same test month.") % {
            "new": candidate["auc"],
            "old": in_use["auc"],
        }
    if in_use["brier"] is not None and candidate["brier"] > in_use["brier"] + BRIER_TOLERANCE:
        return False, _("Not promoted: Brier score %(new)s is worse than %(old)s of the model in use.") % {
            "new": candidate["brier"],
            "old": in_use["brier"],
        }
    return True, _("Promoted: not worse than the model in use on the same test month.")


def risk_train(*, actor=None, seed: int = 0, data=None) -> RiskModel:
    """Train, judge on the latest month, store the version; promote it if it is not worse than the one in use."""
    with threads():
        return _train(actor=actor, seed=seed, data=data)


def _train(*, actor, seed: int, data) -> RiskModel:
    started = time.monotonic()
    history, events, facts = data if data is not None else load_training_data()
    names = F.FEATURE_NAMES
    ds = build_dataset(history, events, facts, names)
    train, test, _test_month = time_split(ds.label_month)
    if len(np.unique(ds.y[train])) < 2:
        raise NotEnoughData(
            _("The training months hold %(n)s examples with only one outcome; a model cannot be fitted.")
            % {"n": int(train.sum())}
        )
    fit_rows = _training_rows(train, seed)
    model, baseline = fit_models(ds.X[fit_rows], ds.y[fit_rows], seed)
    y_test = ds.y[test]
    metrics = {
        "model": evaluate(y_test, model.predict_proba(ds.X[test])[:, 1]),
        "baseline": evaluate(y_test, baseline.predict_proba(ds.X[test])[:, 1]),
        "train": {"n": len(fit_rows), "positives": int(ds.y[fit_rows].sum()), "available": int(train.sum())},
        "in_use": None,
    }
    active = RiskModel.objects.filter(status=RiskModel.Status.ACTIVE).first()
    if active is not None:
        old = loads(active.artifact)
        X_old = (
            ds.X[test]
            if active.features == list(names)
            else build_dataset(history, events, facts, active.features).X[test]
        )
        metrics["in_use"] = {"version": active.version, **evaluate(y_test, old["model"].predict_proba(X_old)[:, 1])}
    promote, decision = _judge(metrics["model"], metrics["in_use"], settings.RISK_MIN_TEST_POSITIVES)
    explainer = fit_explainer(model, ds.X[fit_rows], seed)
    metrics["explainer_r2"] = explainer["r2"]
    train_days = ds.label_day[train]
    return _store(
        actor=actor,
        seed=seed,
        names=names,
        metrics=metrics,
        explainer=explainer,
        decision=decision,
        promote=promote,
        artifact=dumps({"model": model, "baseline": baseline}),
        train_from=F.day_to_date(ds.feature_day[train].min()),
        train_to=F.day_to_date(train_days.max()),
        test_period=F.day_to_date(ds.label_day[test].max()),
        seconds=time.monotonic() - started,
    )


@transaction.atomic
def _store(
    *, actor, seed, names, metrics, explainer, decision, promote, artifact, train_from, train_to, test_period, seconds
):
    version = (RiskModel.objects.aggregate(v=Max("version"))["v"] or 0) + 1
    if promote:
        RiskModel.objects.filter(status=RiskModel.Status.ACTIVE).update(status=RiskModel.Status.RETIRED)
    record = RiskModel.objects.create(
        version=version,
        status=RiskModel.Status.ACTIVE if promote else RiskModel.Status.REJECTED,
        algorithm=ALGORITHM,
        seed=seed,
        train_from=train_from,
        train_to=train_to,
        test_period=test_period,
        features=list(names),
        metrics=metrics,
        explainer=explainer,
        decision=str(decision)[:500],
        artifact=artifact,
        trained_seconds=round(seconds, 2),
        trained_by=actor,
    )
    audit_log(
        actor=actor,
        action="risk.train",
        obj=record,
        changes={"version": version, "status": record.status, "auc": metrics["model"]["auc"]},
    )
    return record
