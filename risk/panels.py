"""What the risk app adds to the core's pages: the case page's statement history and risk score, and each
account's current score and factors on the screening rows and the accounts API (``collections_app.account_risk``)."""

from django.db.models import OuterRef, Subquery

from collections_app.account_risk import RiskSource, register_risk_source
from collections_app.panels import CasePanel, register_case_panel


def _context(*, user, case, can_act):
    from risk.selectors import account_panel, with_labels

    risk, chart = account_panel(case.account_id)
    # The finances panel's statement check (``finance_facts.statements_paid``) reads these rows again.
    case.statements_paid_newest_first = [row["amount_paid"] for row in reversed(chart["rows"])]
    return {"risk": risk, "risk_factors": with_labels(risk.factors) if risk else [], "statement_chart": chart}


def _current(field: str) -> Subquery:
    from risk.models import RiskScore

    # The latest current score; the unique (account, period_end) index finds it for each row.
    current = RiskScore.objects.filter(account=OuterRef("pk"), is_current=True).order_by("-period_end")
    return Subquery(current.values(field)[:1])


def _labels(factors: list) -> list[dict]:
    from risk.selectors import with_labels

    return [{**f, "label": str(f["label"])} for f in with_labels(factors)]


def register() -> None:
    register_case_panel(CasePanel(name="risk", template="risk/_case_panel.html", order=15, context=_context))
    register_risk_source(
        "risk", RiskSource(score=lambda: _current("score"), factors=lambda: _current("factors"), labels=_labels)
    )
