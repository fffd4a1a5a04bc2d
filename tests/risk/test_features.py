"""Features from a hand-built history match hand-computed values; protected attributes never get in."""

import datetime as dt

import numpy as np
import pytest

from risk import features as F

D = dt.date


def _history():
    rows = [
        (7, D(2026, 1, 31), 1000, 100, 100, 0),
        (7, D(2026, 2, 28), 1100, 100, 50, 0),
        (7, D(2026, 3, 31), 1200, 200, 0, 31),
        (7, D(2026, 4, 30), 1300, None, 0, 61),
        (9, D(2026, 4, 30), 500, 50, 50, 0),
    ]
    return F.load_history(rows)


def _events():
    return {
        "broken_promises": [(7, D(2026, 2, 15).toordinal())],
        "contact_attempts": [(7, D(2026, 3, 10).toordinal()), (7, D(2026, 3, 10).toordinal())],
        "contact_answered": [(7, D(2026, 3, 10).toordinal())],
        "negative_visits": [(7, D(2026, 5, 2).toordinal())],  # after every statement: never counted
    }


def test_features_match_the_hand_computed_values():
    history = _history()
    X = F.build_matrix(history, _events(), {7: (2000.0, "credit_card"), 9: (1000.0, "mortgage")})
    row = dict(zip(F.FEATURE_NAMES, X[3], strict=True))  # account 7 in April
    expected = {
        "dpd": 61,
        "dpd_change": 30,
        "max_dpd_6m": 61,
        "months_overdue_6m": 2,
        "utilisation": 0.65,
        "balance_change": 1300 / 1200 - 1,
        "pay_ratio": 0.0,  # no amount due given and overdue: counts as unpaid
        "pay_ratio_3m": (0 + 0 + 0.5) / 3,
        "months_since_full_payment": 3,  # January was the last month paid in full
        "history_months": 4,
        "broken_promises": 1,
        "contact_attempts": 2,
        "contact_success": 0.5,
        "negative_visits": 0,
        "product_credit_card": 1,
        "product_secured": 0,
    }
    assert row == pytest.approx(expected)
    january = dict(zip(F.FEATURE_NAMES, X[0], strict=True))
    assert (january["broken_promises"], january["contact_attempts"], january["dpd_change"]) == (0, 0, 0)
    assert january["months_since_full_payment"] == 0 and january["history_months"] == 1
    other = dict(zip(F.FEATURE_NAMES, X[4], strict=True))  # a different account starts afresh
    assert (other["history_months"], other["max_dpd_6m"], other["product_secured"]) == (1, 0, 1)


def test_labels_pair_each_statement_with_the_next_month_of_the_same_account():
    rows, labels, label_day = F.next_month_labels(_history())
    assert rows.tolist() == [0, 1, 2]  # April of account 7 and account 9's only month have no next month
    assert labels.tolist() == [0, 1, 1]
    assert label_day.tolist() == [D(2026, 2, 28).toordinal(), D(2026, 3, 31).toordinal(), D(2026, 4, 30).toordinal()]


def test_no_protected_attribute_is_a_feature():
    assert not any(word in name for name in F.FEATURE_NAMES for word in F.PROTECTED)
    for bad in ("sex", "marital_status", "religion", "ethnicity", "borrower_gender"):
        with pytest.raises(ValueError, match="protected"):
            F.build_matrix(_history(), {}, {}, names=(*F.FEATURE_NAMES, bad))


def test_unsorted_rows_are_sorted_by_account_and_month():
    history = F.load_history(list(reversed([(7, D(2026, 1, 31), 1, 1, 1, 0), (7, D(2026, 2, 28), 1, 1, 1, 0)])))
    assert np.all(np.diff(history.day) > 0)


@pytest.mark.django_db
def test_case_outcomes_count_as_of_each_statement_date(cast, case_a):
    from decimal import Decimal
    from zoneinfo import ZoneInfo

    from repayment.models import PromiseToPay
    from risk.models import Statement
    from visits.models import ContactAttempt

    shanghai = ZoneInfo("Asia/Shanghai")
    account = case_a.account
    for period in (D(2026, 1, 31), D(2026, 2, 28), D(2026, 3, 31)):
        Statement.objects.create(account=account, period_end=period, balance=1000, amount_paid=0, dpd=30)
    for day, result in ((D(2026, 2, 3), "answered"), (D(2026, 2, 20), "no_answer"), (D(2026, 3, 5), "busy")):
        ContactAttempt.objects.create(
            case=case_a,
            actor=cast.collector_a,
            result=result,
            attempted_at=dt.datetime.combine(day, dt.time(7), shanghai),  # the previous day in UTC
        )
    PromiseToPay.objects.create(
        case=case_a,
        amount=Decimal(100),
        due_date=D(2026, 3, 10),
        status="broken",
        grace_days=0,
        created_by=cast.collector_a,
    )
    PromiseToPay.objects.create(
        case=case_a,
        amount=Decimal(100),
        due_date=D(2026, 2, 10),
        status="kept",
        grace_days=0,
        created_by=cast.collector_a,
    )
    history = F.load_history(Statement.objects.filter(account=account))
    X = F.build_matrix(history, F.outcome_events(), F.account_facts())
    column = {name: X[:, i].tolist() for i, name in enumerate(F.FEATURE_NAMES)}
    assert column["contact_attempts"] == [0, 2, 3]
    assert column["contact_success"] == pytest.approx([0, 0.5, 1 / 3])
    assert column["broken_promises"] == [0, 0, 1]
    scoped = F.outcome_events((account.pk, account.pk))
    assert (
        len(scoped["contact_attempts"]) == 3
        and F.outcome_events((account.pk + 1, account.pk + 5))["contact_attempts"] == []
    )


@pytest.mark.django_db
@pytest.mark.parametrize("block", [1 << 24, 100])
def test_stored_history_reads_what_the_orm_reads_and_keeps_to_its_range(cast, block, monkeypatch):
    """The streamed loader (a binary COPY of plain numbers on PostgreSQL, read block by block, also when a
    block ends mid-row) gives the same arrays as the ORM's rows, a missing amount due as NaN, and only the
    accounts of the range asked for."""
    from decimal import Decimal

    from risk.models import Statement
    from tests.factories import AccountFactory

    first, second = (AccountFactory(branch=cast.branch_a) for _ in range(2))
    for account, rows in (
        (second, [(D(2026, 2, 28), "10.50", None, "0.25", 31), (D(2026, 1, 31), "9.00", "3.00", "3.00", 0)]),
        (first, [(D(2026, 1, 31), "1234567.89", "100.00", "0.00", 61)]),
    ):
        for period, balance, due, paid, dpd in rows:
            Statement.objects.create(
                account=account,
                period_end=period,
                balance=Decimal(balance),
                amount_due=None if due is None else Decimal(due),
                amount_paid=Decimal(paid),
                dpd=dpd,
            )
    monkeypatch.setattr(F, "_COPY_BLOCK", block)
    streamed = F.stored_history()
    by_orm = F.load_history(Statement.objects.all())
    for name in ("account", "day", "balance", "due", "paid", "dpd"):
        np.testing.assert_array_equal(getattr(streamed, name), getattr(by_orm, name))
    assert streamed.day.tolist()[0] == D(2026, 1, 31).toordinal() and np.isnan(streamed.due).sum() == 1
    only = F.stored_history((second.pk, second.pk))
    assert only.account.tolist() == [second.pk, second.pk] and only.balance.tolist() == [9.0, 10.5]
