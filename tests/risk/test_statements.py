"""Loading monthly statements: row errors name the row, the rest land, re-importing is a no-op."""

import datetime as dt
from decimal import Decimal

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.urls import reverse
from django.utils import translation

from collections_app.models import AuditLog
from risk.models import Statement, StatementImport
from risk.statements import statement_import_create, statement_import_run, statements_load
from tests.factories import AccountFactory
from tests.risk.conftest import csv_bytes

pytestmark = pytest.mark.django_db


def _rows():
    return [
        ["CUR001", "2026-01-31", "8000.00", "1000.00", "1000.00", "0"],
        ["CUR001", "2026-02-28", "7500.00", "", "500.00", "0"],
        ["NOPE", "2026-01-31", "1.00", "1.00", "1.00", "0"],
        ["CUR001", "2026-13-01", "1.00", "1.00", "1.00", "0"],
        ["CUR001", "2026-03-31", "abc", "1.00", "-2", "0"],
        ["CUR001", "2026-01-31", "8000.00", "1000.00", "1000.00", "0"],
        ["CUR001", "2026-03-31", "7000.00", "1000.00", "0.00", "31"],
    ]


def test_rows_land_and_each_error_names_its_row(current_account, write_file):
    result = statements_load(path=write_file(_rows()), as_of=dt.date(2026, 4, 1))
    assert (result.total, result.created, result.unchanged, result.error_count) == (7, 3, 0, 4)
    by_row = {e["row"]: e["message"] for e in result.errors}
    assert set(by_row) == {4, 5, 6, 7}
    assert "unknown account NOPE" in by_row[4]
    assert "period_end: not a date" in by_row[5]
    assert "balance: not a number" in by_row[6] and "amount_paid: out of range" in by_row[6]
    assert "duplicate account_no and period_end in the file (first in row 2)" in by_row[7]
    feb = Statement.objects.get(account=current_account, period_end=dt.date(2026, 2, 28))
    assert feb.amount_due is None and feb.amount_paid == Decimal("500.00") and feb.dpd == 0


def test_rows_read_chunk_by_chunk_land_alike_and_errors_speak_the_callers_language(
    current_account, write_file, monkeypatch
):
    """The file is read and parsed by a thread of its own, a chunk ahead of the one being stored."""
    from risk import statements

    monkeypatch.setattr(statements._OrmAppender, "chunk_size", 2)
    monkeypatch.setattr(statements._CopyAppender, "chunk_size", 2)
    progress = []
    with translation.override("zh-hans"):
        result = statements_load(
            path=write_file(_rows()), as_of=dt.date(2026, 4, 1), on_progress=lambda r: progress.append(r.processed)
        )
    assert (result.total, result.created, result.unchanged, result.error_count) == (7, 3, 0, 4)
    by_row = {e["row"]: e["message"] for e in result.errors}
    assert set(by_row) == {4, 5, 6, 7} and "不是日期" in by_row[5]
    assert progress == sorted(progress) and len(progress) >= 3 and progress[-1] == 7
    assert Statement.objects.filter(account=current_account).count() == 3


def test_a_failure_while_reading_stops_the_load_with_it(current_account, write_file, monkeypatch):
    from risk import statements

    parse = statements.parse_row

    def parse_or_fail(cells, as_of, dates=None):
        if cells["period_end"] == "2026-03-31":
            raise OSError("disk gone")
        return parse(cells, as_of, dates)

    monkeypatch.setattr(statements, "parse_row", parse_or_fail)
    monkeypatch.setattr(statements._OrmAppender, "chunk_size", 1)
    monkeypatch.setattr(statements._CopyAppender, "chunk_size", 1)
    with pytest.raises(OSError, match="disk gone"):
        statements_load(path=write_file(_rows()), as_of=dt.date(2026, 4, 1))
    if connection.vendor == "postgresql":  # the rows staged so far are never appended
        assert not Statement.objects.filter(account=current_account).exists()


def test_reimport_is_a_no_op_and_a_later_file_adds_months(current_account, write_file):
    first = [["CUR001", "2026-01-31", "8000.00", "1000.00", "1000.00", "0"]]
    statements_load(path=write_file(first), as_of=dt.date(2026, 4, 1))
    again = statements_load(path=write_file(first), as_of=dt.date(2026, 4, 1))
    assert (again.created, again.unchanged, again.error_count) == (0, 1, 0)
    later = [*first, ["CUR001", "2026-02-28", "7000.00", "1000.00", "1000.00", "0"]]
    result = statements_load(path=write_file(later), as_of=dt.date(2026, 4, 1))
    assert (result.created, result.unchanged) == (1, 1)
    assert Statement.objects.filter(account=current_account).count() == 2


def test_a_statement_after_the_as_of_date_is_a_row_error(current_account, write_file):
    result = statements_load(
        path=write_file([["CUR001", "2026-05-31", "1.00", "", "0", "0"]]), as_of=dt.date(2026, 4, 30)
    )
    assert result.error_count == 1 and "after the as-of date 2026-04-30" in result.errors[0]["message"]


def test_gbk_csv_with_bom_header_and_xlsx_are_read(cast, tmp_path):
    AccountFactory(branch=cast.branch_a, account_no="账户01")
    gbk = tmp_path / "gbk.csv"
    gbk.write_bytes(csv_bytes([["账户01", "2026-01-31", "1.00", "", "0", "0"]], encoding="gb18030"))
    assert statements_load(path=gbk, as_of=dt.date(2026, 4, 1)).created == 1
    bom = tmp_path / "bom.csv"
    bom.write_bytes(csv_bytes([["账户01", "2026-02-28", "1.00", "", "0", "0"]], encoding="utf-8-sig"))
    assert statements_load(path=bom, as_of=dt.date(2026, 4, 1)).created == 1
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["account_no", "period_end", "balance", "amount_due", "amount_paid", "dpd"])
    sheet.append(["账户01", dt.datetime(2026, 3, 31), 1.5, None, 0, 0])
    book.save(tmp_path / "s.xlsx")
    assert statements_load(path=tmp_path / "s.xlsx", as_of=dt.date(2026, 4, 1)).created == 1
    assert Statement.objects.filter(account__account_no="账户01").count() == 3


def test_missing_required_column_fails_the_file(current_account, write_file):
    path = write_file([["CUR001", "2026-01-31"]], header=["account_no", "period_end"])
    with pytest.raises(CommandError, match="balance, amount_paid, dpd"):
        call_command("import_statements", str(path), "--as-of", "2026-04-01")


def test_command_reports_counts_and_fails_on_row_errors(current_account, write_file, capsys):
    path = write_file(_rows())
    with pytest.raises(CommandError, match="4 rows failed"):
        call_command("import_statements", str(path), "--as-of", "2026-04-01")
    out = capsys.readouterr().out
    assert "7 rows: 3 created, 0 unchanged, 4 failed" in out and "row 4: account_no: unknown account NOPE" in out
    assert AuditLog.objects.filter(action="statements.import").exists()
    call_command("import_statements", str(write_file(_rows()[:2])), "--as-of", "2026-04-01")
    assert "2 rows: 0 created, 2 unchanged, 0 failed" in capsys.readouterr().out


def test_upload_job_runs_once_with_progress_and_errors(cast, current_account):
    upload = SimpleUploadedFile("s.csv", csv_bytes(_rows()))
    job = statement_import_create(actor=cast.supervisor_x, upload=upload, as_of=dt.date(2026, 4, 1))
    assert job.status == StatementImport.Status.QUEUED
    done = statement_import_run(job_id=job.pk)
    assert done.status == StatementImport.Status.DONE and done.progress_percent == 100
    assert (done.processed_rows, done.created_count, done.error_count) == (7, 3, 4)
    assert [e["row"] for e in done.errors] == [4, 5, 6, 7]
    assert statement_import_run(job_id=job.pk) is None  # a second delivery does nothing


def test_upload_page_imports_and_shows_row_errors(client, cast, current_account):
    client.force_login(cast.supervisor_x)
    url = reverse("statement-imports")
    assert client.get(url).status_code == 200
    response = client.post(url, {"file": SimpleUploadedFile("s.csv", csv_bytes(_rows()))}, follow=True)
    assert response.status_code == 200
    body = response.content.decode()
    assert 'data-row="4"' in body and "unknown account NOPE" in body
    job = StatementImport.objects.get()
    assert client.get(reverse("statement-import-progress", args=[job.pk])).status_code == 200


def test_collectors_cannot_import_statements(client, cast):
    client.force_login(cast.collector_a)
    assert client.get(reverse("statement-imports")).status_code == 403


def test_large_upload_is_queued_for_the_worker(
    client, cast, current_account, settings, django_capture_on_commit_callbacks, celery_eager
):
    from risk import views

    client.force_login(cast.supervisor_x)
    rows = [["CUR001", f"20{y:02d}-01-31", "1.00", "", "0", "0"] for y in range(0, 26)]
    original = views.INLINE_MAX_BYTES
    views.INLINE_MAX_BYTES = 10
    try:
        with django_capture_on_commit_callbacks(execute=True):
            client.post(reverse("statement-imports"), {"file": SimpleUploadedFile("s.csv", csv_bytes(rows))})
    finally:
        views.INLINE_MAX_BYTES = original
    job = StatementImport.objects.get()
    assert job.status == StatementImport.Status.DONE and job.created_count == 26


def test_an_upload_left_queued_is_picked_up_by_the_sweep(cast, current_account, settings, celery_eager):
    import datetime as dt_

    from django.utils import timezone

    from risk.tasks import requeue_queued_statement_imports

    job = statement_import_create(
        actor=cast.supervisor_x, upload=SimpleUploadedFile("s.csv", csv_bytes(_rows()[:1])), as_of=dt.date(2026, 4, 1)
    )
    assert requeue_queued_statement_imports() == 0  # younger than a minute: its own message may still come
    StatementImport.objects.filter(pk=job.pk).update(created_at=timezone.now() - dt_.timedelta(minutes=2))
    assert requeue_queued_statement_imports() == 1
    job.refresh_from_db()
    assert job.status == StatementImport.Status.DONE and job.created_count == 1


def test_a_statements_file_in_the_drop_folder_is_imported_like_an_upload(current_account, settings, tmp_path):
    """The daily feed carries statements as well as accounts (collections_app.feed)."""
    from collections_app.feed import feed_kinds
    from collections_app.feed.drop import kind_dir
    from collections_app.feed.tasks import pick_up_drop_folder

    settings.MEDIA_ROOT = tmp_path / "media"
    settings.IMPORT_DROP_DIR = tmp_path / "drop"
    settings.IMPORT_DROP_SETTLE_SECONDS = 0
    assert "statements" in feed_kinds()
    rows = [["CUR001", "2026-01-31", "8000.00", "1000.00", "1000.00", "0"]]
    (kind_dir("statements") / "statements-20260201.csv").write_bytes(csv_bytes(rows))
    assert pick_up_drop_folder() == 1
    assert Statement.objects.filter(account=current_account).count() == 1
    job = StatementImport.objects.get()
    assert job.status == StatementImport.Status.DONE and job.created_by is None
    assert len(list((tmp_path / "drop" / "statements" / "done").iterdir())) == 1
    assert pick_up_drop_folder() == 0 and StatementImport.objects.count() == 1


# --- PostgreSQL: COPY into a session table, one INSERT … SELECT … ON CONFLICT ------------------------


@pytest.mark.postgres
def test_postgres_path_streams_new_rows_through_copy_and_decides_rows_like_sqlite(
    current_account, write_file, django_assert_max_num_queries
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as ctx:
        result = statements_load(path=write_file(_rows()), as_of=dt.date(2026, 4, 1))
    sql = " ".join(q["sql"] for q in ctx.captured_queries)
    assert "INSERT INTO risk_statement" in sql and "ON CONFLICT (account_id, period_end) DO NOTHING" in sql
    assert "risk_statement_stage" in sql
    assert (result.total, result.created, result.unchanged, result.error_count) == (7, 3, 0, 4)
    by_row = {e["row"]: e["message"] for e in result.errors}
    assert "unknown account NOPE" in by_row[4] and "period_end: not a date" in by_row[5]
    assert "balance: not a number" in by_row[6] and "amount_paid: out of range" in by_row[6]
    assert "duplicate account_no and period_end in the file (first in row 2)" in by_row[7]
    stored = Statement.objects.filter(account=current_account).order_by("period_end")
    assert [(s.period_end.month, s.balance, s.amount_due, s.amount_paid, s.dpd) for s in stored] == [
        (1, Decimal("8000.00"), Decimal("1000.00"), Decimal("1000.00"), 0),
        (2, Decimal("7500.00"), None, Decimal("500.00"), 0),
        (3, Decimal("7000.00"), Decimal("1000.00"), Decimal("0.00"), 31),
    ]


@pytest.mark.postgres
def test_postgres_path_importing_the_same_file_twice_adds_nothing(cast, write_file):
    accounts = [AccountFactory(branch=cast.branch_a, account_no=f"PG{i:03d}") for i in range(30)]
    rows = [
        [account.account_no, f"2026-{month:02d}-28", f"{1000 + i}.50", "", f"{i}.00", str(month * 3)]
        for i, account in enumerate(accounts)
        for month in (1, 2, 3)
    ]
    path = write_file(rows)
    first = statements_load(path=path, as_of=dt.date(2026, 4, 1))
    assert (first.created, first.unchanged, first.error_count) == (90, 0, 0)
    before = list(Statement.objects.order_by("id").values_list("id", "created_at"))
    again = statements_load(path=path, as_of=dt.date(2026, 4, 1))
    assert (again.created, again.unchanged, again.error_count) == (0, 90, 0)
    assert list(Statement.objects.order_by("id").values_list("id", "created_at")) == before
    later = write_file([*rows, [accounts[0].account_no, "2026-03-31", "1.00", "1.00", "1.00", "0"]], name="b.csv")
    assert statements_load(path=later, as_of=dt.date(2026, 4, 1)).created == 1


@pytest.mark.postgres
def test_postgres_path_counts_a_month_stored_meanwhile_as_unchanged(current_account, write_file, monkeypatch):
    """A concurrent import storing the same month between the decision and the append: ON CONFLICT keeps
    the stored row, and the month is counted unchanged rather than failing the load."""
    from risk import statements

    decide = statements._decide

    def decide_then_race(chunk, result, seen):
        new = decide(chunk, result, seen)
        Statement.objects.create(
            account=current_account, period_end=dt.date(2026, 1, 31), balance=1, amount_paid=1, dpd=0
        )
        return new

    monkeypatch.setattr(statements, "_decide", decide_then_race)
    rows = [["CUR001", "2026-01-31", "8000.00", "", "1000.00", "0"], ["CUR001", "2026-02-28", "1.00", "", "0", "0"]]
    result = statements_load(path=write_file(rows), as_of=dt.date(2026, 4, 1))
    assert (result.created, result.unchanged, result.error_count) == (1, 1, 0)
    assert Statement.objects.get(account=current_account, period_end=dt.date(2026, 1, 31)).balance == 1
