"""What the risk app adds to the case page: the account's statement history and its risk score."""

from collections_app.panels import CasePanel, register_case_panel


def _context(*, user, case, can_act):
    from risk.selectors import account_panel, with_labels

    risk, chart = account_panel(case.account_id)
    return {"risk": risk, "risk_factors": with_labels(risk.factors) if risk else [], "statement_chart": chart}


def register() -> None:
    register_case_panel(CasePanel(name="risk", template="risk/_case_panel.html", order=15, context=_context))
