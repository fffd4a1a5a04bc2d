from decimal import Decimal

from repayment.affordability import suggest_plan

D = Decimal


def test_suggests_term_within_half_the_disposable_income():
    s = suggest_plan(income=D("10000"), expenses=D("4000"), other_debt_payments=D("1000"), amount=D("12000.00"))
    # disposable 5000; half = 2500; debt-service cap 5000 - 1000 = 4000 → capacity 2500 → 5 months
    assert s.disposable == D("5000")
    assert s.capacity == D("2500")
    assert s.term_months == 5
    assert s.instalment == D("2400.00")
    assert s.affordable and s.complete


def test_debt_service_cap_binds_when_other_debts_are_high():
    s = suggest_plan(income=D("10000"), expenses=D("1000"), other_debt_payments=D("4500"), amount=D("1000.00"))
    # half of disposable 4500 → 2250, but 5000 - 4500 = 500 keeps debt payments within half the income
    assert s.capacity == D("500")
    assert s.term_months == 2


def test_remainder_on_last_suggested_instalment():
    s = suggest_plan(income=D("9000"), expenses=D("3000"), other_debt_payments=D("0"), amount=D("10000.00"))
    assert s.capacity == D("3000")
    assert s.term_months == 4
    assert (s.instalment, s.last_instalment) == (D("2500.00"), D("2500.00"))
    s = suggest_plan(income=D("9000"), expenses=D("3000"), other_debt_payments=D("0"), amount=D("10000.01"))
    assert s.instalment * (s.term_months - 1) + s.last_instalment == D("10000.01")


def test_term_capped_and_flagged_unaffordable():
    s = suggest_plan(income=D("3000"), expenses=D("2800"), other_debt_payments=D("0"), amount=D("50000"), max_term=36)
    assert s.term_months == 36
    assert not s.affordable


def test_no_capacity_suggests_deferral():
    s = suggest_plan(income=D("3000"), expenses=D("3500"), other_debt_payments=D("0"), amount=D("5000"))
    assert s.term_months is None and s.instalment is None
    assert s.deferral_months == 3
    assert not s.affordable


def test_lump_sum_when_it_fits_one_month():
    s = suggest_plan(income=D("20000"), expenses=D("2000"), other_debt_payments=None, amount=D("3000"))
    assert s.term_months == 1
    assert s.instalment == D("3000.00")
    assert not s.complete  # other debts not recorded


def test_no_income_no_suggestion():
    s = suggest_plan(income=None, expenses=D("100"), other_debt_payments=D("0"), amount=D("100"))
    assert s.term_months is None and s.capacity is None and not s.complete
