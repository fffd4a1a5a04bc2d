import csv
import datetime as dt
import io
from decimal import Decimal

import pytest

from tests.factories import AccountFactory

HEADER = ["account_no", "period_end", "balance", "amount_due", "amount_paid", "dpd"]


def csv_bytes(rows: list[list], *, encoding: str = "utf-8", header=HEADER) -> bytes:
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue().encode(encoding)


@pytest.fixture
def write_file(tmp_path):
    def write(rows, name="statements.csv", **kwargs):
        path = tmp_path / name
        path.write_bytes(csv_bytes(rows, **kwargs))
        return path

    return write


@pytest.fixture
def current_account(cast):
    """A current account (nothing overdue) in branch A: the early-warning population."""
    return AccountFactory(
        branch=cast.branch_a,
        account_no="CUR001",
        overdue_amount=Decimal("0.00"),
        overdue_since=None,
        principal=Decimal("10000.00"),
    )


def month_ends(first: dt.date, count: int) -> list[dt.date]:
    """``count`` month ends from ``first``'s month on."""
    out, year, month = [], first.year, first.month
    for _i in range(count):
        nxt = dt.date(year + (month == 12), month % 12 + 1, 1)
        out.append(nxt - dt.timedelta(days=1))
        year, month = nxt.year, nxt.month
    return out
