"""Discrepancy flags at their boundaries, and affordability from verified figures."""

import datetime as dt

import pytest

from repayment.discrepancies import discrepancies
from repayment.finances import capacity, case_finances, verified_capacity
from repayment.services.payments import payment_record
from risk.models import Statement
from tests.repayment.finances_helpers import D, declare, figure, verify

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def _codes(case):
    return [flag.code for flag in discrepancies(case, case_finances(case))]


def _reasons(case):
    return " ".join(flag.reason for flag in discrepancies(case, case_finances(case)))


# --- payments seen ---------------------------------------------------------------------------------


def test_payments_averaging_exactly_the_disposable_income_are_not_flagged(negotiation_case, cast, today):
    declare(negotiation_case, cast.collector_a, ("salary", "1000.00"), ("rent", "700.00"))  # disposable 300
    payment_record(case=negotiation_case, actor=cast.collector_a, amount=D("900.00"), paid_on=today, channel="cash")
    assert "payments" not in _codes(negotiation_case)  # 900 over 90 days = 300 a month


def test_payments_averaging_a_cent_above_the_disposable_income_are_flagged(negotiation_case, cast, today):
    declare(negotiation_case, cast.collector_a, ("salary", "1000.00"), ("rent", "700.00"))
    payment_record(case=negotiation_case, actor=cast.collector_a, amount=D("900.03"), paid_on=today, channel="cash")
    assert _codes(negotiation_case).count("payments") == 1
    assert "300.01" in _reasons(negotiation_case) and "300.00" in _reasons(negotiation_case)


def test_payments_outside_the_window_do_not_count(negotiation_case, cast, today):
    declare(negotiation_case, cast.collector_a, ("salary", "1000.00"), ("rent", "700.00"))
    payment_record(
        case=negotiation_case,
        actor=cast.collector_a,
        amount=D("5000.00"),
        paid_on=today - dt.timedelta(days=90),
        channel="cash",
    )
    assert "payments" not in _codes(negotiation_case)


# --- statement history (registered by the risk app) ------------------------------------------------


def _statements(case, *paid):
    for month, amount in enumerate(paid, start=1):
        Statement.objects.create(
            account=case.account,
            period_end=dt.date(2026, month, 28),
            balance=D("10000.00"),
            amount_due=D("500.00"),
            amount_paid=D(amount),
            dpd=0,
        )


def test_statements_paying_the_disposable_income_are_not_flagged(negotiation_case, cast):
    declare(negotiation_case, cast.collector_a, ("salary", "1000.00"), ("rent", "700.00"))
    _statements(negotiation_case, "200.00", "400.00")  # average 300
    assert "statements" not in _codes(negotiation_case)


def test_statements_paying_more_than_the_disposable_income_are_flagged(negotiation_case, cast):
    declare(negotiation_case, cast.collector_a, ("salary", "1000.00"), ("rent", "700.00"))
    _statements(negotiation_case, "200.00", "400.02")  # average 300.01
    assert _codes(negotiation_case) == ["statements"]


def test_only_the_last_six_statements_count(negotiation_case, cast):
    declare(negotiation_case, cast.collector_a, ("salary", "1000.00"), ("rent", "700.00"))
    _statements(negotiation_case, "9000.00", *["300.00"] * 6)  # the large one is the oldest, seventh back
    assert "statements" not in _codes(negotiation_case)


# --- employer on file ------------------------------------------------------------------------------


def _employer(case, name):
    borrower = case.account.borrower
    borrower.employer = name
    borrower.save(update_fields=["employer"])


def test_an_employer_on_file_and_no_salary_declared_is_flagged(negotiation_case, cast):
    _employer(negotiation_case, "Suzhou Steel Works")
    declare(negotiation_case, cast.collector_a, ("business_income", "3000.00"))
    assert _codes(negotiation_case) == ["employer"]
    assert "Suzhou Steel Works" in _reasons(negotiation_case)


def test_a_salary_of_zero_counts_as_no_salary(negotiation_case, cast):
    _employer(negotiation_case, "Suzhou Steel Works")
    declare(negotiation_case, cast.collector_a, ("salary", "0.00"))
    assert _codes(negotiation_case) == ["employer"]


def test_the_same_employer_in_other_words_is_not_flagged(negotiation_case, cast):
    _employer(negotiation_case, "Suzhou Steel Works Co., Ltd.")
    declare(negotiation_case, cast.collector_a, ("salary", "3000.00", "suzhou steel works"))
    assert _codes(negotiation_case) == []


def test_another_employer_is_flagged(negotiation_case, cast):
    _employer(negotiation_case, "Suzhou Steel Works")
    declare(negotiation_case, cast.collector_a, ("salary", "3000.00", "Wuxi Textiles"))
    assert _codes(negotiation_case) == ["employer"]
    assert "Wuxi Textiles" in _reasons(negotiation_case)


def test_no_employer_on_file_flags_nothing(negotiation_case, cast):
    _employer(negotiation_case, "")
    declare(negotiation_case, cast.collector_a, ("business_income", "3000.00"))
    assert _codes(negotiation_case) == []


# --- the previous declaration ----------------------------------------------------------------------


def test_income_falling_by_exactly_the_share_is_not_flagged(negotiation_case, cast):
    declare(negotiation_case, cast.collector_a, ("salary", "10000.00"), ("rent", "1000.00"))
    declare(negotiation_case, cast.collector_a, ("salary", "7000.00"), ("rent", "1300.00"))  # -30 %, +30 %
    assert _codes(negotiation_case) == []


def test_income_falling_by_more_than_the_share_is_flagged(negotiation_case, cast):
    declare(negotiation_case, cast.collector_a, ("salary", "10000.00"), ("rent", "1000.00"))
    declare(negotiation_case, cast.collector_a, ("salary", "6999.99"), ("rent", "1300.01"))
    flags = discrepancies(negotiation_case, case_finances(negotiation_case))
    assert [(f.code, f.category) for f in flags] == [("previous", "income"), ("previous", "expense")]
    assert "10,000.00" in flags[0].reason and "6,999.99" in flags[0].reason


def test_a_visit_before_the_first_declaration_counts_as_the_previous_one(negotiation_case, cast):
    from tests.repayment.test_approval_facts import _finances

    _finances(negotiation_case, cast.collector_a, "10000.00", "1000.00", "0.00")
    declare(negotiation_case, cast.collector_a, ("salary", "5000.00"), ("rent", "1000.00"))
    assert _codes(negotiation_case) == ["previous"]


def test_the_share_is_configurable(negotiation_case, cast, settings):
    settings.REPAYMENT_FINANCE_CHANGE_FLAG_PERCENT = "50"
    declare(negotiation_case, cast.collector_a, ("salary", "10000.00"))
    declare(negotiation_case, cast.collector_a, ("salary", "6000.00"))
    assert _codes(negotiation_case) == []


# --- an asset seen at the visit --------------------------------------------------------------------


def test_an_asset_beside_an_income_at_the_floor_is_not_flagged(negotiation_case, cast):
    declare(negotiation_case, cast.collector_a, ("salary", "5000.00"), source="visit", assets=["vehicle"])
    assert _codes(negotiation_case) == []


def test_an_asset_beside_an_income_below_the_floor_is_flagged(negotiation_case, cast):
    declare(negotiation_case, cast.collector_a, ("salary", "4999.99"), source="visit", assets=["vehicle"])
    assert _codes(negotiation_case) == ["asset"]
    assert "A vehicle" in _reasons(negotiation_case)


def test_no_asset_seen_flags_nothing(negotiation_case, cast):
    declare(negotiation_case, cast.collector_a, ("salary", "100.00"), source="visit")
    assert _codes(negotiation_case) == []


# --- affordability from verified figures -----------------------------------------------------------


def test_affordability_counts_verified_amounts_and_names_the_unverified_figures(negotiation_case, cast):
    declaration = declare(
        negotiation_case, cast.collector_a, ("salary", "10000.00"), ("other_income", "2000.00"), ("rent", "2000.00")
    )
    verify(figure(declaration, "salary"), cast.supervisor_x, amount="6000.00")  # the payslip shows less
    finances = case_finances(negotiation_case)
    assert finances.declared.income == D("12000.00")
    assert finances.effective.income == D("8000.00")  # verified 6,000 + unverified 2,000
    assert [f.kind for f in finances.unverified] == ["other_income", "rent"]
    amount = negotiation_case.account.overdue_amount
    # (8,000 - 2,000) x 50 % = 3,000 (the debt-service cap is 4,000)
    assert capacity(finances.effective, amount=amount) == D("3000")
    # only the verified 6,000: (6,000 - 2,000) x 50 % = 2,000
    assert verified_capacity(finances, amount=amount) == D("2000")


def test_nothing_verified_means_no_verified_capacity(negotiation_case, cast):
    declare(negotiation_case, cast.collector_a, ("salary", "10000.00"))
    finances = case_finances(negotiation_case)
    assert finances.verified_income is None
    assert verified_capacity(finances, amount=D("5000.00")) == D("0")


def test_a_later_visit_replaces_the_declaration_and_its_verified_capacity_is_nothing(negotiation_case, cast):
    import uuid

    from django.utils import timezone

    from visits.models import Party, Visit

    declare(negotiation_case, cast.collector_a, ("salary", "10000.00"))
    assert case_finances(negotiation_case).source == "declaration"
    Visit.objects.create(
        case=negotiation_case,
        collector=cast.collector_a,
        idempotency_key=uuid.uuid4(),
        checked_in_at=timezone.now() + dt.timedelta(seconds=1),
        identity_confirmed=True,
        met=Party.BORROWER,
        outcome="other",
        monthly_income=D("4000.00"),
    )
    finances = case_finances(negotiation_case)
    assert (finances.source, finances.effective.income) == ("visit", D("4000.00"))
    assert verified_capacity(finances, amount=D("5000.00")) == 0  # a visit's figures are never verified
    assert discrepancies(negotiation_case, finances) == []
