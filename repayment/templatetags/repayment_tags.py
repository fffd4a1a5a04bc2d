from django import template

from repayment import selectors

register = template.Library()

BADGES = {
    "pending": "text-bg-warning",
    "pending_approval": "text-bg-warning",
    "draft": "text-bg-secondary",
    "active": "text-bg-primary",
    "kept": "text-bg-success",
    "paid": "text-bg-success",
    "completed": "text-bg-success",
    "partially_kept": "text-bg-info",
    "broken": "text-bg-danger",
    "missed": "text-bg-danger",
    "defaulted": "text-bg-danger",
    "cancelled": "text-bg-light border",
}


@register.simple_tag
def repayment_panel(case, user):
    """The case page's repayment panel data (``repayment.selectors.case_panel``), a constant number of queries."""
    return selectors.case_panel(case, user)


@register.filter
def status_badge(status: str) -> str:
    return BADGES.get(status, "text-bg-secondary")


@register.simple_tag
def finances_panel(case):
    """The case page's finances panel data (``repayment.selectors.finances_overview``), without the
    evidence files the panel does not show."""
    return selectors.finances_overview(case, with_evidence=False)
