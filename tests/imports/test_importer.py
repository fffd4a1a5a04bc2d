import datetime as dt
from decimal import Decimal

import openpyxl
import pytest

from collections_app import pii
from collections_app.importer import rows as R
from collections_app.importer.report import safe_cell
from collections_app.importer.services import import_file
from collections_app.models import AuditLog, Borrower, Branch, CaseEvent, DelinquentAccount, ImportJob
from tests.imports.conftest import csv_bytes, row

pytestmark = pytest.mark.django_db
AS_OF = dt.date(2026, 3, 1)


def report_lines(job) -> list[list[str]]:
    import csv
    import io

    with job.report.open("rb") as fh:
        text = fh.read().decode("utf-8-sig")
    return list(csv.reader(io.StringIO(text)))[1:]


def test_import_creates_accounts_with_borrower_contacts_and_encrypted_id(cast, write_csv):
    path = write_csv([row("A1", national_id="32010219800101123x"), row("A2", overdue_amount="0", overdue_since="")])

    job = import_file(path=path, as_of=AS_OF)

    assert (job.status, job.created_count, job.error_count, job.total_rows) == ("done", 2, 0, 2)
    account = DelinquentAccount.objects.select_related("borrower").get(account_no="A1")
    assert account.branch == cast.branch_a
    assert account.outstanding_balance == Decimal("80000.00")
    assert account.overdue_since == dt.date(2026, 1, 10)
    borrower = account.borrower
    assert borrower.national_id == "32010219800101123X"
    assert "32010219800101123" not in borrower.national_id_encrypted
    assert borrower.national_id_hash == pii.lookup_hash("32010219800101123X")
    assert borrower.national_id_last4 == "123X"  # the search box's "last digits"
    assert borrower.phones.get().number == "13812345678"
    assert borrower.phones.get().number_last4 == "5678"
    assert borrower.addresses.get().lat == Decimal("31.300000")
    current = DelinquentAccount.objects.get(account_no="A2")
    assert current.overdue_since is None and current.overdue_amount == 0


def test_accounts_sharing_a_national_id_share_one_borrower(cast, write_csv):
    path = write_csv([row("A1", national_id="320102198001011234"), row("A2", national_id="320102198001011234")])
    import_file(path=path, as_of=AS_OF)
    assert Borrower.objects.count() == 1
    assert DelinquentAccount.objects.filter(borrower__isnull=False).count() == 2


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk"])
def test_csv_in_utf8_with_or_without_bom_and_gbk(cast, write_csv, encoding):
    path = write_csv([row("A1", borrower_name="王小明", address="无锡市滨湖区")], encoding=encoding)
    job = import_file(path=path, as_of=AS_OF)
    assert job.created_count == 1, report_lines(job)
    account = DelinquentAccount.objects.select_related("borrower").get(account_no="A1")
    assert account.borrower.name == "王小明"
    assert account.borrower.addresses.get().text == "无锡市滨湖区"


def test_xlsx_with_numeric_and_date_cells(cast, tmp_path):
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(
        ["account_no", "borrower_name", "branch_code", "outstanding_balance", "overdue_amount", "overdue_since"]
    )
    sheet.append(["X1", "李四", "SZ01", 12345.67, 800, dt.datetime(2026, 2, 1)])
    sheet.append([1002, "赵五", "SZ01", "500", "0", None])
    sheet.append([None, None, None, None, None, None])
    sheet.append(["X3", "钱六", "SZ01", -5, 1, "2026-02-30"])
    path = tmp_path / "accounts.xlsx"
    workbook.save(path)

    job = import_file(path=path, as_of=AS_OF)

    assert (job.created_count, job.error_count, job.total_rows) == (2, 1, 3)
    x1 = DelinquentAccount.objects.get(account_no="X1")
    assert (x1.outstanding_balance, x1.overdue_amount, x1.overdue_since) == (
        Decimal("12345.67"),
        Decimal("800.00"),
        dt.date(2026, 2, 1),
    )
    assert DelinquentAccount.objects.filter(account_no="1002").exists()
    assert sorted((r[0], r[1]) for r in report_lines(job)) == [("5", "outstanding_balance"), ("5", "overdue_since")]


def test_reimporting_the_same_file_changes_nothing(cast, case_a, write_csv):
    path = write_csv([row("A1"), row("A2", national_id="320102198001011234"), row(case_a.account.account_no)])
    first = import_file(path=path, as_of=AS_OF)
    assert (first.created_count, first.updated_count) == (2, 1)
    snapshot = list(DelinquentAccount.objects.order_by("id").values())
    borrowers, events = Borrower.objects.count(), CaseEvent.objects.count()

    second = import_file(path=path, as_of=AS_OF)

    assert (second.created_count, second.updated_count, second.unchanged_count) == (0, 0, 3)
    assert list(DelinquentAccount.objects.order_by("id").values()) == snapshot
    assert (Borrower.objects.count(), CaseEvent.objects.count()) == (borrowers, events)
    # One audit row per run, not per row.
    assert AuditLog.objects.filter(action="import.run").count() == 2


def test_changed_balance_updates_account_and_writes_event_on_open_case(cast, case_a, write_csv):
    account = case_a.account
    path = write_csv(
        [row(account.account_no, outstanding_balance="70000.00", overdue_amount="4000.00", overdue_since="2026-01-15")]
    )
    job = import_file(path=path, as_of=AS_OF)
    assert job.updated_count == 1
    account.refresh_from_db()
    assert account.outstanding_balance == Decimal("70000.00")
    event = CaseEvent.objects.get(case=case_a, kind="account_updated")
    assert event.payload["import_job"] == job.pk
    assert event.payload["changes"]["outstanding_balance"] == ["80000.00", "70000.00"]
    case_a.refresh_from_db()
    assert not case_a.cured_candidate


def test_account_that_became_current_flags_its_open_case_cured_candidate(cast, case_a, write_csv):
    path = write_csv([row(case_a.account.account_no, overdue_amount="0", overdue_since="")])
    import_file(path=path, as_of=AS_OF)
    case_a.refresh_from_db()
    assert case_a.cured_candidate
    assert case_a.account.__class__.objects.get(pk=case_a.account_id).overdue_since is None


ERROR_CASES = [
    ({"account_no": ""}, "account_no", R.MISSING_KEY),
    ({"outstanding_balance": "12,3x"}, "outstanding_balance", R.BAD_NUMBER),
    ({"principal": "1.005"}, "principal", R.BAD_NUMBER),
    ({"overdue_amount": "-1"}, "overdue_amount", R.NEGATIVE),
    ({"overdue_since": "10/01/2026"}, "overdue_since", R.BAD_DATE),
    ({"overdue_since": ""}, "overdue_since", R.OVERDUE_WITHOUT_DATE),
    ({"branch_code": "NOPE"}, "branch_code", R.UNKNOWN_BRANCH),
    ({"product": "yacht"}, "product", R.UNKNOWN_PRODUCT),
    ({"lat": "91"}, "lat", R.OUT_OF_RANGE),
    ({"borrower_name": ""}, "borrower_name", R.REQUIRED),
]


@pytest.mark.parametrize(("values", "column", "reason"), ERROR_CASES, ids=[c[1] + ":" + str(c[2]) for c in ERROR_CASES])
def test_bad_row_is_reported_and_good_rows_still_import(cast, write_csv, values, column, reason):
    path = write_csv([row("GOOD1"), {**row("BAD"), **values}, row("GOOD2")])
    job = import_file(path=path, as_of=AS_OF)
    assert (job.created_count, job.error_count) == (2, 1)
    assert report_lines(job) == [["3", column, safe_cell(values.get(column, "")), str(reason)]]
    assert set(DelinquentAccount.objects.values_list("account_no", flat=True)) == {"GOOD1", "GOOD2"}


def test_duplicate_key_inside_the_file_keeps_the_first_row(cast, write_csv):
    path = write_csv([row("A1", outstanding_balance="1.00"), row("A1", outstanding_balance="2.00")])
    job = import_file(path=path, as_of=AS_OF)
    assert report_lines(job) == [["3", "account_no", "A1", str(R.DUPLICATE % {"row": 2})]]
    assert DelinquentAccount.objects.get().outstanding_balance == Decimal("1.00")


def test_days_past_due_gives_overdue_since_from_the_as_of_date(cast, write_csv):
    path = write_csv([row("A1", overdue_since="", days_past_due="45")])
    import_file(path=path, as_of=AS_OF)
    assert DelinquentAccount.objects.get().overdue_since == AS_OF - dt.timedelta(days=45)


def test_unknown_columns_are_ignored_and_reported(cast, write_csv):
    path = write_csv([{**row("A1"), "colour": "blue"}])
    job = import_file(path=path, as_of=AS_OF)
    assert job.created_count == 1 and job.error_count == 0
    assert "colour" in job.message
    assert report_lines(job) == [["1", "colour", "", str(R.UNKNOWN_COLUMN)]]


def test_missing_required_column_fails_the_job(cast, write_csv):
    path = write_csv([{"account_no": "A1", "borrower_name": "x"}])
    job = import_file(path=path, as_of=AS_OF)
    assert job.status == ImportJob.Status.FAILED
    assert "outstanding_balance" in job.message
    assert not DelinquentAccount.objects.exists()


def test_unreadable_file_fails_the_job_with_a_message(cast, tmp_path):
    path = tmp_path / "x.csv"
    path.write_bytes(b"\xff\xfe\x00\x81\x30\x81" * 10)
    job = import_file(path=path, as_of=AS_OF)
    assert job.status == ImportJob.Status.FAILED and job.message


def test_supervisor_may_only_import_rows_for_their_branches(cast, write_csv):
    path = write_csv([row("A1"), row("B1", branch_code="WX01")])
    job = import_file(path=path, actor=cast.supervisor_x, as_of=AS_OF)
    assert report_lines(job) == [["3", "branch_code", "WX01", str(R.BRANCH_NOT_YOURS)]]
    assert list(DelinquentAccount.objects.values_list("account_no", flat=True)) == ["A1"]


def test_create_branches_creates_missing_branches(cast, write_csv):
    path = write_csv([row("A1", branch_code="NJ01")])
    assert import_file(path=path, as_of=AS_OF).error_count == 1
    job = import_file(path=path, as_of=AS_OF, create_branches=True)
    assert job.created_count == 1
    assert Branch.objects.get(code="NJ01").accounts.count() == 1


def test_report_cells_that_look_like_formulas_are_escaped(cast, write_csv):
    path = write_csv([row("=HYPERLINK(1)", outstanding_balance="@SUM(A1)")])
    job = import_file(path=path, as_of=AS_OF)
    assert report_lines(job)[0][2] == "'@SUM(A1)"


def test_new_phone_becomes_primary_and_address_position_updates(cast, write_csv):
    import_file(path=write_csv([row("A1")]), as_of=AS_OF)
    job = import_file(path=write_csv([row("A1", phone="13900000000", lat="31.5")]), as_of=AS_OF)
    assert job.updated_count == 1
    borrower = DelinquentAccount.objects.get().borrower
    assert [(p.number, p.is_primary) for p in borrower.phones.all()] == [("13900000000", True), ("13812345678", False)]
    assert borrower.addresses.get().lat == Decimal("31.500000")


def test_progress_is_written_after_every_chunk(cast, write_csv, monkeypatch):
    from collections_app.importer import services

    monkeypatch.setattr(services, "CHUNK_SIZE", 100)
    monkeypatch.setattr(services, "PG_CHUNK_SIZE", 100)
    seen = []
    original = services.upsert_chunk

    def spy(ctx, chunk, **kwargs):
        seen.append(ImportJob.objects.get(pk=ctx.job_id).processed_rows)
        return original(ctx, chunk, **kwargs)

    monkeypatch.setattr(services, "upsert_chunk", spy)
    job = import_file(path=write_csv([row(f"A{i}") for i in range(350)]), as_of=AS_OF)
    assert seen == [0, 100, 200, 300]
    assert (job.processed_rows, job.total_rows, job.progress_percent) == (350, 350, 100)


def test_ten_thousand_rows_import_in_seconds(cast, tmp_path):
    import time

    rows = [
        row(f"T{i:06d}", national_id=f"3201021980{i:08d}", phone=f"138{i:08d}", address=f"路{i}号")
        for i in range(10_000)
    ]
    path = tmp_path / "big.csv"
    path.write_bytes(csv_bytes(rows))
    started = time.monotonic()
    job = import_file(path=path, as_of=AS_OF)
    elapsed = time.monotonic() - started
    assert (job.created_count, job.error_count) == (10_000, 0)
    assert DelinquentAccount.objects.count() == 10_000
    assert DelinquentAccount.objects.filter(screening_key=0).count() == 0
    assert elapsed < 30, elapsed
    started = time.monotonic()
    again = import_file(path=path, as_of=AS_OF)
    assert again.unchanged_count == 10_000
    assert time.monotonic() - started < 20


def test_a_national_id_given_later_joins_the_accounts_borrower(cast, write_csv):
    import_file(path=write_csv([row("A1", national_id="")]), as_of=AS_OF)
    borrower = DelinquentAccount.objects.get(account_no="A1").borrower_id
    job = import_file(
        path=write_csv([row("A1", national_id="320102198001011234"), row("A2", national_id="320102198001011234")]),
        as_of=AS_OF,
    )
    assert (job.created_count, job.updated_count) == (1, 1)
    assert set(DelinquentAccount.objects.values_list("borrower_id", flat=True)) == {borrower}
    assert Borrower.objects.get().national_id_hash == pii.lookup_hash("320102198001011234")
    assert Borrower.objects.get().national_id_last4 == "1234"


def test_a_renamed_borrower_counts_as_updated_without_an_account_change(cast, case_a, write_csv):
    account_no = case_a.account.account_no
    import_file(path=write_csv([row(account_no)]), as_of=AS_OF)
    events = CaseEvent.objects.filter(kind="account_updated").count()
    job = import_file(path=write_csv([row(account_no, borrower_name="张三丰")]), as_of=AS_OF)
    assert (job.updated_count, job.unchanged_count) == (1, 0)
    assert DelinquentAccount.objects.get(account_no=account_no).borrower.name == "张三丰"
    assert CaseEvent.objects.filter(kind="account_updated").count() == events  # the account itself is unchanged
