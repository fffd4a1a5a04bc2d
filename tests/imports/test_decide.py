"""The importer's row decisions over plain values (no database): the rules ``decide`` states, each
pinned with literal inputs and outcomes. ``python -m tests.imports.mutation_check`` breaks each place
of the decisions in turn and expects one of these (or the importer's database tests) to fail."""

import datetime as dt
from decimal import Decimal

from collections_app.importer import rows as R
from collections_app.importer.decide import (
    CREATED,
    UNCHANGED,
    UPDATED,
    NewBorrower,
    Snapshot,
    decide_chunk,
)
from collections_app.importer.rows import ImportRow

SZ, WX = 1, 2
NID, NID_HASH = "320102198001011234", "hash-1234"
OTHER_NID, OTHER_HASH = "320102198001015678", "hash-5678"


def import_row(number=2, account_no="A1", **values) -> ImportRow:
    base = {
        "row": number,
        "account_no": account_no,
        "borrower_name": "张三",
        "outstanding_balance": Decimal("80000.00"),
        "overdue_amount": Decimal("5000.00"),
        "overdue_since": dt.date(2026, 1, 10),
        "branch_code": "SZ01",
    }
    return ImportRow(**{**base, **values})


def current(account_id=10, borrower_id=100, **values) -> dict:
    return {
        "id": account_id,
        "has_open_case": False,
        "borrower_id": borrower_id,
        "branch_id": SZ,
        "product": "mortgage",
        "principal": Decimal("100000.00"),
        "outstanding_balance": Decimal("80000.00"),
        "overdue_amount": Decimal("5000.00"),
        "overdue_since": dt.date(2026, 1, 10),
        "last_payment_date": dt.date(2025, 12, 10),
        "currency": "USD",
        **values,
    }


def snapshot(accounts=(), *, allowed=None, borrowers=None, by_hash=None, phones=None, addresses=None) -> Snapshot:
    return Snapshot(
        branches={"SZ01": SZ, "WX01": WX},
        allowed_branch_ids=allowed,
        hashes={NID: NID_HASH, OTHER_NID: OTHER_HASH},
        accounts={f"A{a['id'] - 9}": a for a in accounts},
        borrowers=borrowers or {100: ("张三", ""), 101: ("李四", "")},
        by_hash=by_hash or {},
        phones=phones or {},
        addresses=addresses or {},
    )


def same_row_again(**values) -> ImportRow:
    """The row that leaves ``current()`` exactly as it is."""
    base = {
        "product": "mortgage",
        "principal": Decimal("100000.00"),
        "last_payment_date": dt.date(2025, 12, 10),
        "currency": "USD",
    }
    return import_row(**{**base, **values})


# --- accounts -------------------------------------------------------------------------------------


def test_new_account_takes_the_row_and_the_defaults_for_what_it_omits():
    plan = decide_chunk([import_row()], snapshot())

    [decision] = plan.accounts
    assert (decision.outcome, decision.write, decision.before, decision.event_for) == (CREATED, True, None, None)
    [borrower] = plan.new_borrowers
    assert decision.values == {
        "borrower_id": borrower,
        "branch_id": SZ,
        "product": "personal_consumer",
        "principal": 0,
        "outstanding_balance": Decimal("80000.00"),
        "overdue_amount": Decimal("5000.00"),
        "overdue_since": dt.date(2026, 1, 10),
        "last_payment_date": None,
        "currency": "CNY",
    }
    assert (plan.count(CREATED), plan.count(UPDATED), plan.count(UNCHANGED)) == (1, 0, 0)


def test_new_account_keeps_what_the_row_gives():
    row = import_row(product="auto", principal=Decimal("9.00"), last_payment_date=dt.date(2026, 2, 1), currency="HKD")
    [decision] = decide_chunk([row], snapshot()).accounts
    values = decision.values
    assert (values["product"], values["principal"], values["last_payment_date"], values["currency"]) == (
        "auto",
        Decimal("9.00"),
        dt.date(2026, 2, 1),
        "HKD",
    )


def test_unchanged_account_is_not_written():
    plan = decide_chunk([same_row_again()], snapshot([current()]))
    [decision] = plan.accounts
    assert (decision.outcome, decision.write, decision.event_for) == (UNCHANGED, False, None)
    assert (plan.count(CREATED), plan.count(UPDATED), plan.count(UNCHANGED)) == (0, 0, 1)
    assert (plan.new_borrowers, plan.renamed, plan.attached, plan.phones, plan.addresses) == ([], {}, {}, [], [])


def test_values_the_row_omits_keep_the_accounts_current_ones():
    plan = decide_chunk([import_row(outstanding_balance=Decimal("1.00"))], snapshot([current()]))
    [decision] = plan.accounts
    assert decision.outcome == UPDATED and decision.write
    assert decision.values == {**decision.before, "outstanding_balance": Decimal("1.00")}
    assert decision.before == {k: v for k, v in current().items() if k not in ("id", "has_open_case")}


def test_row_values_replace_the_accounts_current_ones():
    row = same_row_again(
        product="auto", principal=Decimal("9.00"), last_payment_date=dt.date(2026, 2, 1), currency="HKD"
    )
    [decision] = decide_chunk([row], snapshot([current()])).accounts
    assert decision.outcome == UPDATED
    changed = {k for k in decision.values if decision.values[k] != decision.before[k]}
    assert changed == {"product", "principal", "last_payment_date", "currency"}


def test_changed_account_with_an_open_case_gets_an_event_and_no_cure_while_still_overdue():
    account = current(has_open_case=True)
    [decision] = decide_chunk([same_row_again(overdue_amount=Decimal("1.00"))], snapshot([account])).accounts
    assert (decision.outcome, decision.event_for, decision.cured) == (UPDATED, 10, False)


def test_account_with_an_open_case_that_became_current_is_a_cure_candidate():
    account = current(has_open_case=True)
    row = same_row_again(overdue_amount=Decimal("0.00"), overdue_since=None)
    [decision] = decide_chunk([row], snapshot([account])).accounts
    assert (decision.event_for, decision.cured) == (10, True)


def test_account_already_current_is_no_new_cure():
    account = current(has_open_case=True, overdue_amount=Decimal("0.00"), overdue_since=None)
    row = same_row_again(overdue_amount=Decimal("0.00"), overdue_since=None, outstanding_balance=Decimal("1.00"))
    [decision] = decide_chunk([row], snapshot([account])).accounts
    assert (decision.event_for, decision.cured) == (10, False)


def test_unchanged_account_with_an_open_case_gets_no_event():
    [decision] = decide_chunk([same_row_again()], snapshot([current(has_open_case=True)])).accounts
    assert (decision.outcome, decision.event_for, decision.cured) == (UNCHANGED, None, False)


def test_changed_account_without_an_open_case_gets_no_event():
    [decision] = decide_chunk([same_row_again(overdue_amount=Decimal("0.00"))], snapshot([current()])).accounts
    assert (decision.outcome, decision.event_for, decision.cured) == (UPDATED, None, False)


# --- branches -------------------------------------------------------------------------------------


def test_unknown_branch_refuses_the_row():
    plan = decide_chunk([import_row(branch_code="NJ01"), import_row(3, "A2")], snapshot())
    assert [(n, e.column, e.value, e.reason) for n, e in plan.errors] == [(2, "branch_code", "NJ01", R.UNKNOWN_BRANCH)]
    assert [d.account_no for d in plan.accounts] == ["A2"]


def test_new_account_needs_a_branch_an_existing_one_keeps_its_own():
    rows = [import_row(branch_code=""), import_row(3, "A2", branch_code="")]
    plan = decide_chunk(rows, snapshot([current(branch_id=WX)]))
    assert [(n, e.column, e.value, e.reason) for n, e in plan.errors] == [(3, "branch_code", "", R.BRANCH_REQUIRED)]
    [decision] = plan.accounts
    assert (decision.account_no, decision.values["branch_id"]) == ("A1", WX)


def test_supervisor_imports_only_into_and_out_of_their_branches():
    rows = [
        import_row(2, "A1", branch_code="WX01"),  # new account, other branch
        import_row(3, "A2", branch_code="SZ01"),  # account of another branch moved into theirs
        import_row(4, "A3", branch_code="SZ01"),  # their account
        import_row(5, "A4"),  # new account, their branch
    ]
    accounts = [current(11, 100, branch_id=WX), current(12, 101)]
    plan = decide_chunk(rows, snapshot(accounts, allowed={SZ}))
    assert [(n, e.value, e.reason) for n, e in plan.errors] == [
        (2, "WX01", R.BRANCH_NOT_YOURS),
        (3, "SZ01", R.BRANCH_NOT_YOURS),
    ]
    assert [d.account_no for d in plan.accounts] == ["A3", "A4"]


# --- borrowers ------------------------------------------------------------------------------------


def test_rows_sharing_a_new_national_id_share_one_new_borrower_named_by_the_first():
    rows = [import_row(national_id=NID), import_row(3, "A2", national_id=NID, borrower_name="李四")]
    plan = decide_chunk(rows, snapshot())
    [borrower] = plan.new_borrowers
    assert (borrower.name, borrower.national_id) == ("张三", NID)
    assert [d.values["borrower_id"] for d in plan.accounts] == [borrower, borrower]


def test_rows_without_a_national_id_get_a_borrower_each():
    plan = decide_chunk([import_row(), import_row(3, "A2")], snapshot())
    assert [(b.name, b.national_id) for b in plan.new_borrowers] == [("张三", ""), ("张三", "")]
    first, second = (d.values["borrower_id"] for d in plan.accounts)
    assert first is not second


def test_national_id_on_file_picks_that_borrower_and_the_last_row_names_it():
    rows = [
        import_row(national_id=NID, borrower_name="李四"),
        import_row(3, "A2", national_id=NID, borrower_name="王五"),
    ]
    snap = snapshot(by_hash={NID_HASH: 101}, borrowers={101: ("李四", NID_HASH)})
    plan = decide_chunk(rows, snap)
    assert plan.new_borrowers == []
    assert [d.values["borrower_id"] for d in plan.accounts] == [101, 101]
    assert (plan.renamed, plan.attached) == ({101: "王五"}, {})


def test_borrower_on_file_with_the_same_name_is_not_renamed():
    snap = snapshot(by_hash={NID_HASH: 101}, borrowers={101: ("张三", NID_HASH)})
    plan = decide_chunk([import_row(national_id=NID)], snap)
    assert (plan.renamed, plan.attached) == ({}, {})


def test_existing_account_without_national_id_keeps_its_borrower_even_one_with_an_id():
    snap = snapshot([current()], borrowers={100: ("张三", NID_HASH)})
    plan = decide_chunk([same_row_again()], snap)
    assert (plan.new_borrowers, plan.accounts[0].values["borrower_id"]) == ([], 100)
    assert plan.accounts[0].outcome == UNCHANGED


def test_renamed_borrower_of_an_unchanged_account_counts_the_account_updated():
    plan = decide_chunk([same_row_again(borrower_name="张三丰")], snapshot([current()]))
    assert plan.renamed == {100: "张三丰"}
    [decision] = plan.accounts
    assert (decision.outcome, decision.write) == (UPDATED, False)


def test_account_borrower_without_an_id_gets_the_rows_id_and_later_rows_share_it():
    rows = [same_row_again(national_id=NID), import_row(3, "A2", national_id=NID)]
    plan = decide_chunk(rows, snapshot([current()]))
    assert plan.attached == {100: NID}
    assert plan.new_borrowers == []
    assert [d.values["borrower_id"] for d in plan.accounts] == [100, 100]
    assert [d.outcome for d in plan.accounts] == [UPDATED, CREATED]


def test_account_borrower_with_another_id_gives_the_row_a_new_borrower():
    snap = snapshot([current()], borrowers={100: ("张三", OTHER_HASH)})
    plan = decide_chunk([same_row_again(national_id=NID)], snap)
    [borrower] = plan.new_borrowers
    assert isinstance(borrower, NewBorrower) and borrower.national_id == NID
    [decision] = plan.accounts
    assert (decision.values["borrower_id"], decision.outcome, plan.attached) == (borrower, UPDATED, {})


# --- contacts -------------------------------------------------------------------------------------


def test_new_phones_and_addresses_are_added_and_the_last_of_a_borrower_is_primary():
    rows = [
        import_row(national_id=NID, phone="1", address="甲", lat=Decimal("31"), lng=Decimal("120")),
        import_row(3, "A2", national_id=NID, phone="2", address="乙"),
        import_row(4, "A3", national_id=NID, phone="2", address="甲", lat=Decimal("32"), lng=Decimal("121")),
    ]
    plan = decide_chunk(rows, snapshot())
    [borrower] = plan.new_borrowers
    assert [(c.borrower, c.text, c.is_primary) for c in plan.phones] == [(borrower, "1", False), (borrower, "2", True)]
    assert [(c.text, c.lat, c.lng, c.is_primary) for c in plan.addresses] == [
        ("甲", Decimal("31"), Decimal("120"), False),
        ("乙", None, None, True),
    ]
    assert plan.moved == {}


def test_contacts_on_file_are_not_added_again():
    snap = snapshot(
        [current()], phones={100: {"1"}}, addresses={100: {"甲": (7, Decimal("31.000000"), Decimal("120.000000"))}}
    )
    rows = [same_row_again(phone="1", address="甲", lat=Decimal("31.000000"), lng=Decimal("120.000000"))]
    plan = decide_chunk(rows, snap)
    assert (plan.phones, plan.addresses, plan.moved) == ([], [], {})
    assert plan.accounts[0].outcome == UNCHANGED


def test_new_phone_of_an_unchanged_account_counts_it_updated():
    plan = decide_chunk([same_row_again(phone="2")], snapshot([current()], phones={100: {"1"}}))
    assert [(c.borrower, c.text, c.is_primary) for c in plan.phones] == [(100, "2", True)]
    assert plan.accounts[0].outcome == UPDATED


def test_new_address_of_an_unchanged_account_counts_it_updated():
    plan = decide_chunk([same_row_again(address="乙")], snapshot([current()]))
    assert [(c.borrower, c.text, c.is_primary) for c in plan.addresses] == [(100, "乙", True)]
    assert plan.accounts[0].outcome == UPDATED


def test_known_address_at_a_new_position_moves_and_counts_the_account_updated():
    snap = snapshot([current()], addresses={100: {"甲": (7, Decimal("31"), Decimal("120"))}})
    rows = [same_row_again(address="甲", lat=Decimal("30"), lng=Decimal("119"))]
    plan = decide_chunk(rows, snap)
    assert plan.moved == {7: (Decimal("30"), Decimal("119"))}
    assert (plan.addresses, plan.accounts[0].outcome) == ([], UPDATED)


def test_last_row_of_a_known_address_gives_its_position():
    snap = snapshot([current(), current(11, 100)], addresses={100: {"甲": (7, Decimal("31"), Decimal("120"))}})
    rows = [
        same_row_again(address="甲", lat=Decimal("30"), lng=Decimal("119")),
        same_row_again(number=3, account_no="A2", address="甲", lat=Decimal("32"), lng=Decimal("121")),
    ]
    plan = decide_chunk(rows, snap)
    assert plan.moved == {7: (Decimal("32"), Decimal("121"))}
    assert [d.outcome for d in plan.accounts] == [UPDATED, UPDATED]


def test_half_a_position_moves_nothing():
    snap = snapshot([current()], addresses={100: {"甲": (7, Decimal("31"), Decimal("120"))}})
    for lat, lng in ((Decimal("30"), None), (None, Decimal("119"))):
        plan = decide_chunk([same_row_again(address="甲", lat=lat, lng=lng)], snap)
        assert (plan.moved, plan.accounts[0].outcome) == ({}, UNCHANGED)


def test_address_added_in_the_chunk_is_not_moved_by_a_later_row():
    rows = [
        same_row_again(address="乙", lat=Decimal("30"), lng=Decimal("119")),
        same_row_again(number=3, account_no="A2", address="乙", lat=Decimal("32"), lng=Decimal("121")),
    ]
    plan = decide_chunk(rows, snapshot([current(), current(11, 100)]))
    assert [(c.text, c.lat, c.lng) for c in plan.addresses] == [("乙", Decimal("30"), Decimal("119"))]
    assert plan.moved == {}
