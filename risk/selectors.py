"""Reads of the risk app, each scoped to what the user may see."""

import json
from types import SimpleNamespace

from django.conf import settings
from django.db.models import Exists, F, OuterRef, Q, Subquery

from collections_app.models import Branch, DelinquentAccount
from risk.features import FEATURE_LABELS
from risk.models import CareCase, RiskModel, RiskScore, Statement

CHART_MONTHS = 12


def may_see_warnings(user) -> bool:
    return user.is_authenticated and (user.is_supervisor or user.sees_everything)


def warning_scores(user, *, order: str = "risk", threshold: float | None = None, rise: float | None = None):
    """Current accounts (no DPD at the last statement, nothing overdue now) whose risk is at or above the
    threshold or rose by at least ``rise`` since last month; riskiest (or fastest rising) first."""
    threshold = settings.RISK_WARNING_THRESHOLD if threshold is None else threshold
    rise = settings.RISK_WARNING_RISE if rise is None else rise
    accounts = DelinquentAccount.objects.visible_to(user).filter(overdue_amount=0)
    open_care = CareCase.objects.filter(account=OuterRef("account"), status=CareCase.Status.OPEN)
    scores = (
        RiskScore.objects.filter(is_current=True, dpd=0, account__in=accounts)
        .filter(Q(score__gte=threshold) | Q(previous__isnull=False, score__gte=F("previous") + rise))
        # Not the model: its row carries the fitted artifact (megabytes), once per listed score.
        .select_related("account", "account__borrower", "account__branch")
        .annotate(has_open_care=Exists(open_care), rise_value=F("score") - F("previous"))
    )
    if order == "rise":
        return scores.filter(previous__isnull=False).order_by("-rise_value", "id")
    return scores.order_by("-score", "id")


def with_labels(factors: list[dict]) -> list[dict]:
    return [{**f, "label": FEATURE_LABELS.get(f["feature"], f["feature"])} for f in factors or []]


def account_risk(account_id: int) -> RiskScore | None:
    return (
        RiskScore.objects.filter(account_id=account_id, is_current=True)
        .select_related("model")
        .only("score", "factors", "period_end", "previous", "dpd", "account_id", "model__version")
        .first()
    )


def account_panel(account_id: int, months: int = CHART_MONTHS) -> tuple[SimpleNamespace | None, dict]:
    """(current risk, statement chart) for the case page in one query: the score rides on each statement
    row as an uncorrelated subquery (computed once), since a score never exists without statements."""
    current = RiskScore.objects.filter(account_id=account_id, is_current=True)
    rows = list(
        Statement.objects.filter(account_id=account_id)
        .order_by("-period_end")
        .annotate(
            risk_score=Subquery(current.values("score")[:1]),
            risk_factors=Subquery(current.values("factors")[:1]),
            risk_period=Subquery(current.values("period_end")[:1]),
            risk_version=Subquery(current.values("model__version")[:1]),
        )
        .values(
            "period_end", "balance", "amount_paid", "dpd", "risk_score", "risk_factors", "risk_period", "risk_version"
        )[:months]
    )
    risk = None
    if rows and rows[0]["risk_score"] is not None:
        first = rows[0]
        factors = first["risk_factors"]
        if isinstance(factors, str):  # SQLite hands a JSON subquery back as text
            factors = json.loads(factors)
        risk = SimpleNamespace(
            score=first["risk_score"],
            factors=factors,
            period_end=first["risk_period"],
            model=SimpleNamespace(version=first["risk_version"]),
        )
    return risk, _chart(rows[::-1])


def statement_chart(account_id: int, months: int = CHART_MONTHS) -> dict:
    """The last months of statements as SVG polyline points (balance, paid) and DPD bars, 0-100 scaled."""
    rows = list(
        Statement.objects.filter(account_id=account_id)
        .order_by("-period_end")
        .values("period_end", "balance", "amount_paid", "dpd")[:months]
    )[::-1]
    return _chart(rows)


def _chart(rows: list[dict]) -> dict:
    if not rows:
        return {"rows": []}
    top = max(max(r["balance"], r["amount_paid"]) for r in rows) or 1
    top_dpd = max(max(r["dpd"] for r in rows), 30)
    step = 100 / max(len(rows) - 1, 1)

    def points(key):
        return " ".join(f"{i * step:.1f},{40 - float(r[key] / top) * 38:.1f}" for i, r in enumerate(rows))

    bars = [
        {
            "x": f"{i * step - 1.5 if i else 0:.1f}",
            "h": f"{r['dpd'] / top_dpd * 38:.1f}",
            "y": f"{40 - r['dpd'] / top_dpd * 38:.1f}",
        }
        for i, r in enumerate(rows)
    ]
    return {"rows": rows, "balance": points("balance"), "paid": points("amount_paid"), "bars": bars}


def care_cases_for(user):
    cases = CareCase.objects.select_related("account", "account__borrower", "team", "assigned_collector", "risk_score")
    if user.sees_everything:
        return cases
    if user.is_supervisor:
        return cases.filter(team__supervisor=user)
    if user.is_collector:
        return cases.filter(assigned_collector=user)
    return cases.none()


def model_card_models():
    return RiskModel.objects.defer("artifact").select_related("trained_by")[:10]


def branches_for(user):
    return Branch.objects.visible_to(user)
