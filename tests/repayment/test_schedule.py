import datetime as dt
import itertools
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from repayment.schedule import ScheduleError, add_months, build_schedule, due_dates, split_amount, term_months

amounts = st.decimals(min_value=Decimal("0.01"), max_value=Decimal("9999999.99"), places=2)
counts = st.integers(min_value=1, max_value=120)
dates = st.dates(min_value=dt.date(2020, 1, 1), max_value=dt.date(2035, 12, 31))


@given(amount=amounts, count=counts, first=dates, deferral=st.integers(min_value=0, max_value=24))
def test_schedule_sums_exactly_with_increasing_dates_and_right_count(amount, count, first, deferral):
    if amount < Decimal("0.01") * count:
        with pytest.raises(ScheduleError):
            build_schedule(amount=amount, count=count, first_due=first, deferral_months=deferral)
        return
    rows = build_schedule(amount=amount, count=count, first_due=first, deferral_months=deferral)
    assert len(rows) == count
    assert sum(row.amount for row in rows) == amount
    assert all(row.amount > 0 for row in rows)
    assert all(row.amount == row.amount.quantize(Decimal("0.01")) for row in rows)
    assert [row.seq for row in rows] == list(range(1, count + 1))
    assert all(a.due_date < b.due_date for a, b in itertools.pairwise(rows))
    # Equal instalments except the last, which carries the remainder cents (less than one cent per instalment).
    assert len({row.amount for row in rows[:-1]}) <= 1
    assert Decimal(0) <= rows[-1].amount - rows[0].amount < Decimal("0.01") * count
    assert rows[0].due_date == add_months(first, deferral, 31 if first == add_months(first, 0, 31) else first.day)


@given(first=dates, deferral=st.integers(min_value=1, max_value=24), count=st.integers(min_value=1, max_value=24))
def test_deferral_shifts_the_whole_schedule(first, deferral, count):
    plain = due_dates(first, count)
    shifted = due_dates(first, count, deferral_months=deferral)
    anchor = 31 if first == add_months(first, 0, 31) else first.day
    assert shifted == [add_months(first, deferral + i, anchor) for i in range(count)]
    assert all(s > p for s, p in zip(shifted, plain, strict=True))
    assert term_months(count=count, deferral_months=deferral) == count + deferral


def test_remainder_cents_go_on_the_last_instalment():
    assert split_amount(Decimal("100.00"), 3) == [Decimal("33.33"), Decimal("33.33"), Decimal("33.34")]
    assert split_amount(Decimal("0.05"), 5) == [Decimal("0.01")] * 5


def test_month_end_first_due_keeps_month_ends():
    rows = due_dates(dt.date(2026, 1, 31), 4)
    assert rows == [dt.date(2026, 1, 31), dt.date(2026, 2, 28), dt.date(2026, 3, 31), dt.date(2026, 4, 30)]
    assert due_dates(dt.date(2028, 1, 30), 2) == [dt.date(2028, 1, 30), dt.date(2028, 2, 29)]
    assert due_dates(dt.date(2026, 2, 28), 2) == [dt.date(2026, 2, 28), dt.date(2026, 3, 31)]


def test_no_zero_or_negative_instalments():
    with pytest.raises(ScheduleError):
        split_amount(Decimal("0.02"), 3)
    with pytest.raises(ScheduleError):
        split_amount(Decimal("-1.00"), 1)
    with pytest.raises(ScheduleError):
        split_amount(Decimal("1.00"), 0)
    with pytest.raises(ScheduleError):
        split_amount(Decimal("1.005"), 1)
