from decimal import Decimal, InvalidOperation

from django import template
from django.utils.formats import number_format

register = template.Library()

CURRENCY_SYMBOLS = {"CNY": "¥", "USD": "$", "EUR": "€", "HKD": "HK$"}


@register.filter
def money(value, currency: str = "CNY"):
    """¥1,234.50 — two decimals, grouped per the active language, never via float."""
    if value is None or value == "":
        return "—"
    try:
        amount = Decimal(value)
    except (InvalidOperation, TypeError, ValueError):
        return "—"
    symbol = CURRENCY_SYMBOLS.get(currency, f"{currency} ")
    sign = "-" if amount < 0 else ""
    return f"{sign}{symbol}{number_format(abs(amount), 2, use_l10n=True, force_grouping=True)}"
