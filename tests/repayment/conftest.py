import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from collections_app.models import Stage


@pytest.fixture
def negotiation_case(case_in_stage):
    """Collector A's case in negotiation: 5,000.00 overdue, 80,000.00 outstanding (tests.factories)."""
    return case_in_stage(Stage.NEGOTIATION)


@pytest.fixture
def today():
    return timezone.localdate()


def days(n: int) -> dt.timedelta:
    return dt.timedelta(days=n)


def money(value: str) -> Decimal:
    return Decimal(value)
