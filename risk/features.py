"""The risk model's features, computed for every (account, statement month) at once with numpy.

Each feature of month t reads only what was known at that month's end: statements up to t, promises
due and broken by then, contact attempts and visits recorded by then. Protected attributes (sex,
ethnicity, religion, marital status) are never read: no model or import field carries them into
``FEATURES``, and ``build_matrix`` refuses a feature list that names one.
"""

import datetime as dt
from dataclasses import dataclass

import numpy as np
from django.db import connection
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from collections_app.models import DelinquentAccount, Product

# (name, label shown to readers). Order is the model's column order.
FEATURES = (
    ("dpd", _("Days past due at the period end")),
    ("dpd_change", _("Change in days past due since last month")),
    ("max_dpd_6m", _("Highest days past due in six months")),
    ("months_overdue_6m", _("Months overdue in the last six")),
    ("utilisation", _("Balance to principal (credit limit)")),
    ("balance_change", _("Balance growth since last month")),
    ("pay_ratio", _("Paid share of the amount due this month")),
    ("pay_ratio_3m", _("Paid share of the amount due, three months")),
    ("months_since_full_payment", _("Months since the last full payment")),
    ("history_months", _("Months of statement history")),
    ("broken_promises", _("Broken promises to pay")),
    ("contact_attempts", _("Contact attempts")),
    ("contact_success", _("Share of contact attempts answered")),
    ("negative_visits", _("Visits refused, not home or moved")),
    ("product_credit_card", _("Product: credit card")),
    ("product_secured", _("Product: mortgage or auto loan")),
)
FEATURE_NAMES = tuple(name for name, _label in FEATURES)
FEATURE_LABELS = dict(FEATURES)
PROTECTED = frozenset({"sex", "gender", "ethnicity", "nationality_ethnic", "religion", "marital_status", "married"})
MONTHS_CAP = 12


def assert_no_protected(names) -> None:
    bad = [name for name in names if any(word in name.lower() for word in PROTECTED)]
    if bad:
        raise ValueError(f"protected attributes may not be features: {bad}")


@dataclass
class History:
    """Statement rows sorted by (account, period_end), as parallel numpy arrays."""

    account: np.ndarray  # int64 account id
    day: np.ndarray  # int64 period_end as a proleptic ordinal
    balance: np.ndarray
    due: np.ndarray  # NaN when the bank did not give it
    paid: np.ndarray
    dpd: np.ndarray

    def __len__(self) -> int:
        return len(self.account)


def load_history(statements) -> History:
    """From a Statement queryset (or rows of the same six values), sorted by account then month."""
    if hasattr(statements, "values_list"):
        statements = statements.order_by("account_id", "period_end").values_list(
            "account_id", "period_end", "balance", "amount_due", "amount_paid", "dpd"
        )
    rows = list(statements)
    if not rows:
        empty = np.zeros(0)
        return History(empty.astype(np.int64), empty.astype(np.int64), empty, empty, empty, empty)
    account, period, balance, due, paid, dpd = zip(*rows, strict=True)
    history = History(
        account=np.fromiter(account, dtype=np.int64, count=len(rows)),
        day=np.fromiter((p.toordinal() for p in period), dtype=np.int64, count=len(rows)),
        balance=np.array([float(v) for v in balance]),
        due=np.array([np.nan if v is None else float(v) for v in due]),
        paid=np.array([float(v) for v in paid]),
        dpd=np.fromiter(dpd, dtype=np.float64, count=len(rows)),
    )
    order = np.lexsort((history.day, history.account))
    if not np.array_equal(order, np.arange(len(rows))):
        for name in ("account", "day", "balance", "due", "paid", "dpd"):
            setattr(history, name, getattr(history, name)[order])
    return history


# PostgreSQL's binary COPY of six non-null float8 columns: every row is the same 74 bytes (a field count,
# then a length and 8 bytes per value), so numpy reads the rows straight from the bytes.
_COPY_ROW = np.dtype([("n", ">i2")] + [(f"{k}{i}", ">i4" if k == "l" else ">f8") for i in range(6) for k in "lv"])
_COPY_HEADER = 19  # signature, flags, header extension length
_COPY_BLOCK = 1 << 24


class _CopyRows:
    """A file-like sink for ``COPY … TO STDOUT (FORMAT binary)`` that turns each block of whole rows into a
    float array as it arrives, so the bytes of the whole table are never held at once."""

    def __init__(self):
        self.buffer = bytearray()
        self.parts: list[np.ndarray] = []
        self.header = False

    def write(self, data) -> int:
        self.buffer += data
        if len(self.buffer) >= _COPY_BLOCK:
            self._rows()
        return len(data)

    def _rows(self) -> None:
        if not self.header:
            if len(self.buffer) < _COPY_HEADER:
                return
            del self.buffer[:_COPY_HEADER]
            self.header = True
        whole = len(self.buffer) // _COPY_ROW.itemsize * _COPY_ROW.itemsize
        if whole:
            rows = np.frombuffer(bytes(self.buffer[:whole]), dtype=_COPY_ROW)
            if not (rows["n"] == 6).all():
                raise ValueError("unexpected row in the binary COPY of statements")
            self.parts.append(np.column_stack([rows[f"v{i}"] for i in range(6)]).astype(np.float64))
            del self.buffer[:whole]

    def table(self) -> np.ndarray:
        self._rows()
        if self.buffer not in (b"", b"\xff\xff"):  # all that is left is the trailer (a field count of -1)
            raise ValueError("the binary COPY of statements ended mid-row")
        return np.concatenate(self.parts) if self.parts else np.zeros((0, 6))


def stored_history(id_range: tuple[int, int] | None = None) -> History:
    """The stored statements (of accounts with ids in ``id_range``) as a ``History``.

    On PostgreSQL the rows come as a binary COPY of plain numbers (no Python object per value; a missing
    amount due as NaN), read in blocks, so 12 million statements load in bounded memory; elsewhere
    through the ORM."""
    from risk.models import Statement

    if connection.vendor != "postgresql":
        statements = Statement.objects.all()
        if id_range is not None:
            statements = statements.filter(account_id__gte=id_range[0], account_id__lte=id_range[1])
        return load_history(statements)
    where = f"WHERE account_id BETWEEN {int(id_range[0])} AND {int(id_range[1])}" if id_range else ""
    sql = (
        "COPY (SELECT account_id::float8, ((period_end - DATE '0001-01-01') + 1)::float8, balance::float8, "  # noqa: S608  # nosec B608 — fixed table name, integer bounds
        "COALESCE(amount_due::float8, 'NaN'), amount_paid::float8, dpd::float8 "
        f"FROM {Statement._meta.db_table} {where} ORDER BY account_id, period_end) TO STDOUT (FORMAT binary)"
    )
    sink = _CopyRows()
    with connection.cursor() as cursor:
        cursor.cursor.copy_expert(sql, sink)
    table = sink.table()
    return History(
        account=table[:, 0].astype(np.int64),
        day=table[:, 1].astype(np.int64),
        balance=np.ascontiguousarray(table[:, 2]),
        due=np.ascontiguousarray(table[:, 3]),
        paid=np.ascontiguousarray(table[:, 4]),
        dpd=np.ascontiguousarray(table[:, 5]),
    )


def _lag(values: np.ndarray, same: np.ndarray, k: int, fill: float) -> np.ndarray:
    """values[i - k] where row i - k is the same account, else ``fill``."""
    out = np.full(len(values), fill, dtype=np.float64)
    if k < len(values):
        out[k:] = np.where(same[k:], values[:-k], fill)
    return out


def _same_account(history: History, k: int) -> np.ndarray:
    same = np.zeros(len(history), dtype=bool)
    if k < len(history):
        same[k:] = history.account[k:] == history.account[:-k]
    return same


def _events_before(account: np.ndarray, day: np.ndarray, events: list[tuple[int, int]]) -> np.ndarray:
    """How many (account, day) events each row's account had on or before the row's day."""
    if not events:
        return np.zeros(len(account))
    ev = np.array(events, dtype=np.int64)
    keys = np.sort(ev[:, 0] * 1_000_000 + ev[:, 1])
    upto = np.searchsorted(keys, account * 1_000_000 + day, side="right")
    start = np.searchsorted(keys, account * 1_000_000, side="left")
    return (upto - start).astype(np.float64)


def outcome_events(id_range: tuple[int, int] | None = None) -> dict[str, list[tuple[int, int]]]:
    """Case outcomes by account and day: broken promises, contact attempts (all, answered), negative visits.

    ``id_range`` (first, last account id) limits them to a chunk of accounts (a range, not an IN list:
    SQLite caps the number of parameters)."""
    from repayment.models import PromiseToPay
    from visits.models import ContactAttempt, Visit

    def scoped(qs, path):
        return qs if id_range is None else qs.filter(**{f"{path}__gte": id_range[0], f"{path}__lte": id_range[1]})

    def rows(qs, account_path, date_path, is_datetime):
        values = scoped(qs, account_path).values_list(account_path, date_path)
        # A time counts on its local (bank) date, the calendar the statements are cut on.
        return [
            (a, (timezone.localtime(d).date() if is_datetime else d).toordinal())
            for a, d in values.iterator(chunk_size=10_000)
        ]

    negative = (Visit.Outcome.REFUSED, Visit.Outcome.NOT_HOME, Visit.Outcome.MOVED)
    return {
        "broken_promises": rows(
            PromiseToPay.objects.filter(status=PromiseToPay.Status.BROKEN), "case__account_id", "due_date", False
        ),
        "contact_attempts": rows(ContactAttempt.objects.all(), "case__account_id", "attempted_at", True),
        "contact_answered": rows(
            ContactAttempt.objects.filter(result=ContactAttempt.Result.ANSWERED),
            "case__account_id",
            "attempted_at",
            True,
        ),
        "negative_visits": rows(Visit.objects.filter(outcome__in=negative), "case__account_id", "created_at", True),
    }


def account_facts(id_range: tuple[int, int] | None = None) -> dict[int, tuple[float, str]]:
    """(principal, product) per account id, for accounts with ids in ``id_range``."""
    accounts = (
        DelinquentAccount.objects.all() if id_range is None else DelinquentAccount.objects.filter(pk__range=id_range)
    )
    rows = accounts.values_list("id", "principal", "product")
    return {pk: (float(principal), product) for pk, principal, product in rows.iterator(chunk_size=10_000)}


def _facts_per_row(account: np.ndarray, facts: dict) -> tuple[np.ndarray, np.ndarray]:
    """(principal, product) for each row's account by a sorted lookup, not a dict lookup per row."""
    if not facts or not len(account):
        return np.zeros(len(account)), np.full(len(account), "", dtype=object)
    ids = np.fromiter(facts.keys(), dtype=np.int64, count=len(facts))
    order = np.argsort(ids)
    ids = ids[order]
    values = list(facts.values())
    principal = np.array([v[0] for v in values], dtype=np.float64)[order]
    product = np.array([v[1] for v in values], dtype=object)[order]
    at = np.minimum(np.searchsorted(ids, account), len(ids) - 1)
    known = ids[at] == account
    return np.where(known, principal[at], 0.0), np.where(known, product[at], "")


def build_matrix(history: History, events: dict, facts: dict, names=FEATURE_NAMES) -> np.ndarray:
    """One row of features per statement row of ``history`` (same order)."""
    assert_no_protected(names)
    n = len(history)
    same1 = _same_account(history, 1)
    dpd = history.dpd
    prev_dpd = _lag(dpd, same1, 1, np.nan)
    # Without an amount due, a month counts as paid when the account is current at its end.
    known = ~np.isnan(history.due)
    due = np.nan_to_num(history.due)
    paid_share = np.where(due > 0, np.minimum(history.paid / np.where(due > 0, due, 1), 2.0), 1.0)
    pay_ratio = np.where(known, paid_share, (dpd == 0).astype(np.float64))
    full = np.where(known, history.paid >= due, dpd == 0)
    prev_balance = _lag(history.balance, same1, 1, np.nan)

    max_dpd = dpd.copy()
    overdue_months = (dpd > 0).astype(np.float64)
    ratio_sum, ratio_n = pay_ratio.copy(), np.ones(n)
    since_full = np.where(full, 0.0, np.nan)
    history_months = np.ones(n)
    for k in range(1, MONTHS_CAP):
        same = _same_account(history, k)
        if not same.any():
            break
        history_months += same
        if k < 6:
            max_dpd = np.maximum(max_dpd, _lag(dpd, same, k, 0.0))
            overdue_months += _lag((dpd > 0).astype(np.float64), same, k, 0.0)
        if k < 3:
            ratio_sum += _lag(pay_ratio, same, k, 0.0)
            ratio_n += same
        lag_full = _lag(full.astype(np.float64), same, k, 0.0) > 0
        since_full = np.where(np.isnan(since_full) & lag_full, float(k), since_full)
    since_full = np.where(np.isnan(since_full), np.minimum(history_months, MONTHS_CAP), since_full)

    principal, product = _facts_per_row(history.account, facts)
    attempts = _events_before(history.account, history.day, events.get("contact_attempts", []))
    answered = _events_before(history.account, history.day, events.get("contact_answered", []))
    columns = {
        "dpd": dpd,
        "dpd_change": np.where(np.isnan(prev_dpd), 0.0, dpd - np.nan_to_num(prev_dpd)),
        "max_dpd_6m": max_dpd,
        "months_overdue_6m": overdue_months,
        "utilisation": np.where(principal > 0, history.balance / np.where(principal > 0, principal, 1), 0.0),
        "balance_change": np.where(
            np.isnan(prev_balance) | (np.nan_to_num(prev_balance) <= 0),
            0.0,
            history.balance / np.where(np.nan_to_num(prev_balance) > 0, np.nan_to_num(prev_balance), 1) - 1,
        ),
        "pay_ratio": pay_ratio,
        "pay_ratio_3m": ratio_sum / ratio_n,
        "months_since_full_payment": since_full,
        "history_months": history_months,
        "broken_promises": _events_before(history.account, history.day, events.get("broken_promises", [])),
        "contact_attempts": attempts,
        "contact_success": np.where(attempts > 0, answered / np.where(attempts > 0, attempts, 1), 0.0),
        "negative_visits": _events_before(history.account, history.day, events.get("negative_visits", [])),
        "product_credit_card": (product == Product.CREDIT_CARD).astype(np.float64),
        "product_secured": np.isin(product, [Product.MORTGAGE, Product.AUTO]).astype(np.float64),
    }
    return np.column_stack([columns[name] for name in names]) if n else np.zeros((0, len(names)))


def next_month_labels(history: History, dpd_threshold: int = 30) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For rows that have a next statement of the same account: (row index, label, label month day)."""
    same_next = np.zeros(len(history), dtype=bool)
    if len(history) > 1:
        same_next[:-1] = history.account[:-1] == history.account[1:]
    rows = np.nonzero(same_next)[0]
    labels = (history.dpd[rows + 1] >= dpd_threshold).astype(np.int64)
    return rows, labels, history.day[rows + 1]


def day_to_date(day: int) -> dt.date:
    return dt.date.fromordinal(int(day))
