"""The statement history as a fact for repayment's discrepancy flags (registered by ``RiskConfig.ready``):
repayment sits below risk and may not read statements itself."""

from decimal import Decimal

from django.utils.translation import gettext as _

from repayment.discrepancies import monthly_paid_above_disposable, register_fact_source
from risk.models import Statement
from risk.selectors import CHART_MONTHS

STATEMENT_MONTHS = 6


def statements_paid(case, finances) -> list:
    """The average paid a month over the account's last six imported statements, against the declared
    disposable income; no statements imported, no flag."""
    loaded = getattr(case, "statements_paid_newest_first", None)  # the case page's risk panel read them
    if loaded is not None and CHART_MONTHS >= STATEMENT_MONTHS:
        paid = loaded[:STATEMENT_MONTHS]
    else:
        paid = list(
            Statement.objects.filter(account_id=case.account_id)
            .order_by("-period_end")
            .values_list("amount_paid", flat=True)[:STATEMENT_MONTHS]
        )
    if not paid:
        return []
    monthly = sum(paid, Decimal(0)) / len(paid)
    return monthly_paid_above_disposable(
        monthly_paid=monthly,
        finances=finances,
        code="statements",
        reason=_(
            "The bank's statements show %(paid)s paid a month on average, more than the declared disposable "
            "income of %(disposable)s."
        ),
    )


def register() -> None:
    register_fact_source("risk.statements", statements_paid)
