"""Days past due, aging buckets and the five-category classification (DOMAIN.md)."""

import datetime as dt
from decimal import Decimal

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class AgingBucket(models.TextChoices):
    CURRENT = "current", _("Current")
    B1_30 = "1-30", "1-30"
    B31_60 = "31-60", "31-60"
    B61_90 = "61-90", "61-90"
    B91_180 = "91-180", "91-180"
    B181_PLUS = "181+", "181+"


class LoanClass(models.TextChoices):
    NORMAL = "normal", _("Normal")
    SPECIAL_MENTION = "special_mention", _("Special mention")
    SUBSTANDARD = "substandard", _("Substandard")
    DOUBTFUL = "doubtful", _("Doubtful")
    LOSS = "loss", _("Loss")


# (lowest DPD, highest DPD or None, bucket): the delinquent buckets in order.
BUCKET_RANGES: tuple[tuple[int, int | None, str], ...] = (
    (1, 30, AgingBucket.B1_30),
    (31, 60, AgingBucket.B31_60),
    (61, 90, AgingBucket.B61_90),
    (91, 180, AgingBucket.B91_180),
    (181, None, AgingBucket.B181_PLUS),
)
CLASS_RANGES: tuple[tuple[int, int | None, str], ...] = (
    (0, 0, LoanClass.NORMAL),
    (1, 90, LoanClass.SPECIAL_MENTION),
    (91, 270, LoanClass.SUBSTANDARD),
    (271, 360, LoanClass.DOUBTFUL),
    (361, None, LoanClass.LOSS),
)


def local_today() -> dt.date:
    return timezone.localdate()


def days_past_due(overdue_since: dt.date | None, overdue_amount: Decimal, as_of: dt.date) -> int:
    """Days since the oldest unpaid amount fell due; 0 for an account with nothing overdue."""
    if overdue_since is None or overdue_amount <= 0:
        return 0
    return max((as_of - overdue_since).days, 0)


def bucket_for(dpd: int) -> str:
    for low, high, bucket in BUCKET_RANGES:
        if dpd >= low and (high is None or dpd <= high):
            return bucket
    return AgingBucket.CURRENT


def class_for(dpd: int) -> str:
    for low, high, loan_class in CLASS_RANGES:
        if dpd >= low and (high is None or dpd <= high):
            return loan_class
    return LoanClass.NORMAL


def overdue_since_range(low_dpd: int | None, high_dpd: int | None, as_of: dt.date) -> dict:
    """ORM lookups on ``overdue_since`` selecting accounts whose DPD lies in [low, high].

    DPD grows daily, so it is never stored; filtering by the date keeps the index usable.
    """
    lookups: dict = {}
    if low_dpd is not None:
        lookups["overdue_since__lte"] = as_of - dt.timedelta(days=low_dpd)
    if high_dpd is not None:
        lookups["overdue_since__gte"] = as_of - dt.timedelta(days=high_dpd)
    return lookups


def bucket_range(bucket: str) -> tuple[int, int | None]:
    for low, high, name in BUCKET_RANGES:
        if name == bucket:
            return low, high
    raise ValueError(bucket)


def class_range(loan_class: str) -> tuple[int, int | None]:
    for low, high, name in CLASS_RANGES:
        if name == loan_class:
            return low, high
    raise ValueError(loan_class)
