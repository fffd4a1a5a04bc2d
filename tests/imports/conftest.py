import csv
import io

import pytest


def csv_bytes(rows: list[dict], *, encoding: str = "utf-8", header: list[str] | None = None) -> bytes:
    header = header or list(rows[0])
    out = io.StringIO(newline="")
    writer = csv.DictWriter(out, fieldnames=header, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue().encode(encoding)


def row(account_no="A0001", **values) -> dict:
    base = {
        "account_no": account_no,
        "borrower_name": "张三",
        "national_id": "",
        "phone": "13812345678",
        "address": "苏州市姑苏区人民路1号",
        "branch_code": "SZ01",
        "product": "personal_consumer",
        "principal": "100000.00",
        "outstanding_balance": "80000.00",
        "overdue_amount": "5000.00",
        "overdue_since": "2026-01-10",
        "last_payment_date": "2025-12-10",
        "currency": "CNY",
        "lat": "31.3",
        "lng": "120.6",
    }
    base.update(values)
    return base


@pytest.fixture
def write_csv(tmp_path):
    def write(rows, name="accounts.csv", **kwargs):
        path = tmp_path / name
        path.write_bytes(csv_bytes(rows, **kwargs))
        return path

    return write


@pytest.fixture(autouse=True)
def _media_in_tmp(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
