"""Repayment settings, read when used (never at import) with the defaults documented in the README."""

from decimal import Decimal

from django.conf import settings


def grace_days() -> int:
    return int(getattr(settings, "REPAYMENT_GRACE_DAYS", 3))


def waiver_approval_percent() -> Decimal:
    """A waiver above this share of the plan's base amount needs a supervisor's approval."""
    return Decimal(str(getattr(settings, "REPAYMENT_WAIVER_APPROVAL_PERCENT", "10")))


def term_approval_months() -> int:
    """A plan whose term is longer than this many months needs a supervisor's approval."""
    return int(getattr(settings, "REPAYMENT_TERM_APPROVAL_MONTHS", 12))


def broken_promises_alert() -> int:
    """The supervisor is alerted when an account reaches this many broken promises (and at each one after)."""
    return int(getattr(settings, "REPAYMENT_BROKEN_PROMISES_ALERT", 2))


def reminder_lead_days() -> int:
    return int(getattr(settings, "REPAYMENT_REMINDER_LEAD_DAYS", 2))


def care_revisit_days() -> int:
    return int(getattr(settings, "REPAYMENT_CARE_REVISIT_DAYS", 30))


def max_term_months() -> int:
    """The longest term the affordability helper suggests."""
    return int(getattr(settings, "REPAYMENT_MAX_TERM_MONTHS", 36))


def affordability_share() -> Decimal:
    """Share of the disposable income (income - expenses - other debt payments) a plan may take."""
    return Decimal(str(getattr(settings, "REPAYMENT_AFFORDABILITY_SHARE", "0.5")))


def sweep_batch() -> int:
    """Due checks per sweep transaction: the set-based statements cost per batch as much as per row, so a
    larger batch is cheaper per check (a batch of 1,000 holds its rows' locks for about half a second)."""
    return int(getattr(settings, "REPAYMENT_SWEEP_BATCH", 1000))


def finance_change_flag_percent() -> Decimal:
    """A declared total (income down, expenses or debts up) that moved more than this share since the
    previous declaration is flagged."""
    return Decimal(str(getattr(settings, "REPAYMENT_FINANCE_CHANGE_FLAG_PERCENT", "30")))


def finance_payments_window_days() -> int:
    """Payments seen over this many days are averaged a month and compared with the declared disposable income."""
    return int(getattr(settings, "REPAYMENT_FINANCE_PAYMENTS_WINDOW_DAYS", 90))


def finance_asset_income_floor() -> Decimal:
    """An asset seen at the visit beside a declared monthly income below this is flagged."""
    return Decimal(str(getattr(settings, "REPAYMENT_FINANCE_ASSET_INCOME_FLOOR", "5000")))
