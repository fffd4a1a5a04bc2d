import datetime as dt
from decimal import Decimal

import pytest

from collections_app.aging import bucket_for, class_for, days_past_due, overdue_since_range
from collections_app.models import DelinquentAccount

TODAY = dt.date(2026, 11, 28)

# DPD, aging bucket, five-category class — every boundary named in DOMAIN.md.
BOUNDARIES = [
    (0, "current", "normal"),
    (1, "1-30", "special_mention"),
    (30, "1-30", "special_mention"),
    (31, "31-60", "special_mention"),
    (60, "31-60", "special_mention"),
    (61, "61-90", "special_mention"),
    (90, "61-90", "special_mention"),
    (91, "91-180", "substandard"),
    (180, "91-180", "substandard"),
    (181, "181+", "substandard"),
    (270, "181+", "substandard"),
    (271, "181+", "doubtful"),
    (360, "181+", "doubtful"),
    (361, "181+", "loss"),
]


@pytest.mark.parametrize("dpd,bucket,loan_class", BOUNDARIES)
def test_bucket_and_class_at_every_boundary(dpd, bucket, loan_class):
    assert bucket_for(dpd) == bucket
    assert class_for(dpd) == loan_class


@pytest.mark.parametrize("dpd,bucket,loan_class", BOUNDARIES)
def test_account_derives_dpd_bucket_and_class_from_overdue_since(dpd, bucket, loan_class):
    account = DelinquentAccount(overdue_amount=Decimal("10.00"), overdue_since=TODAY - dt.timedelta(days=dpd))
    assert account.dpd(TODAY) == dpd
    assert account.aging_bucket(TODAY) == bucket
    assert account.loan_class(TODAY) == loan_class


def test_dpd_is_zero_without_an_overdue_amount_or_date():
    assert days_past_due(TODAY - dt.timedelta(days=40), Decimal("0"), TODAY) == 0
    assert days_past_due(None, Decimal("5"), TODAY) == 0
    assert days_past_due(TODAY + dt.timedelta(days=3), Decimal("5"), TODAY) == 0


def test_dpd_grows_every_day():
    since = TODAY - dt.timedelta(days=30)
    assert days_past_due(since, Decimal("1"), TODAY) == 30
    assert days_past_due(since, Decimal("1"), TODAY + dt.timedelta(days=1)) == 31


def test_overdue_since_range_selects_exactly_the_dpd_range():
    lookups = overdue_since_range(31, 60, TODAY)
    assert lookups == {
        "overdue_since__lte": TODAY - dt.timedelta(days=31),
        "overdue_since__gte": TODAY - dt.timedelta(days=60),
    }
