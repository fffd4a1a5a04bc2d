"""A bad byte is the error of its row: a NUL, a line in another encoding, an over-long field are
reported with their row number and column, and every valid row around them is imported."""

import datetime as dt

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from collections_app.importer import rows as R
from collections_app.importer.services import import_file
from collections_app.models import DelinquentAccount, ImportJob
from tests.imports.conftest import csv_bytes, row
from tests.imports.test_importer import report_lines

pytestmark = pytest.mark.django_db
AS_OF = dt.date(2026, 3, 1)
HEADER = b"account_no,borrower_name,branch_code,outstanding_balance,overdue_amount,overdue_since,address\n"
NUL_LINE, GBK_LINE, LONG_LINE = 25_001, 12_001, 29_001  # file lines: the header is line 1
LONG_ADDRESS = "长" * 200_000  # over the column's 300 and over the CSV reader's default field limit


def line(number: int, name: bytes = "王小明".encode(), address: bytes = "苏州市姑苏区人民路1号".encode()) -> bytes:
    return b"A%06d,%s,SZ01,80000.00,5000.00,2026-01-10,%s\n" % (number, name, address)


def thirty_thousand_rows() -> bytes:
    lines = [HEADER]
    for number in range(2, 30_002):
        if number == NUL_LINE:
            lines.append(line(number, name="王\x00小明".encode()))
        elif number == GBK_LINE:
            lines.append(line(number, name="王小明".encode("gbk")))
        elif number == LONG_LINE:
            lines.append(line(number, address=LONG_ADDRESS.encode()))
        else:
            lines.append(line(number))
    return b"".join(lines)


def test_three_bad_rows_of_thirty_thousand_are_named_and_the_other_rows_land(cast, tmp_path):
    path = tmp_path / "accounts.csv"
    path.write_bytes(thirty_thousand_rows())

    job = import_file(path=path, as_of=AS_OF)

    assert (job.status, job.total_rows, job.created_count, job.error_count) == ("done", 30_000, 29_997, 3)
    assert DelinquentAccount.objects.count() == 29_997
    bad = sorted(report_lines(job), key=lambda line: int(line[0]))
    assert bad == [
        [str(GBK_LINE), "borrower_name", "\\xcd\\xf5\u0421\\xc3\\xf7", str(R.BAD_BYTES)],  # D0 A1: U+0421 in UTF-8
        [str(NUL_LINE), "borrower_name", "王\\x00小明", str(R.NUL_BYTE)],
        [str(LONG_LINE), "address", "长" * 200 + "…", str(R.TOO_LONG % {"max": 300})],
    ]
    imported = set(DelinquentAccount.objects.values_list("account_no", flat=True))
    for number in (GBK_LINE, NUL_LINE, LONG_LINE):
        assert f"A{number:06d}" not in imported
        assert {f"A{number - 1:06d}", f"A{number + 1:06d}"} <= imported
    assert DelinquentAccount.objects.get(account_no="A030001").borrower.name == "王小明"


def test_two_rows_with_one_nul_import_the_other(cast, write_csv):
    path = write_csv([row("A1", borrower_name="张\x00三"), row("A2")])

    job = import_file(path=path, as_of=AS_OF)

    assert (job.status, job.created_count, job.error_count) == ("done", 1, 1)
    assert list(DelinquentAccount.objects.values_list("account_no", flat=True)) == ["A2"]
    assert report_lines(job) == [["2", "borrower_name", "张\\x00三", str(R.NUL_BYTE)]]


def test_a_gbk_file_with_one_line_that_is_not_gbk_names_that_line(cast, tmp_path):
    head = b"account_no,borrower_name,branch_code,outstanding_balance,overdue_amount,overdue_since\n"
    good = "A%d,王小明,SZ01,100,10,2026-01-10\n"
    body = (good % 1).encode("gbk") + b"A2,\xff\xfe,SZ01,100,10,2026-01-10\n" + (good % 3).encode("gbk")
    path = tmp_path / "gbk.csv"
    path.write_bytes(head + body)

    job = import_file(path=path, as_of=AS_OF)

    assert (job.created_count, job.error_count) == (2, 1)
    assert DelinquentAccount.objects.get(account_no="A3").borrower.name == "王小明"
    assert report_lines(job) == [["3", "borrower_name", "\\xff\\xfe", str(R.BAD_BYTES)]]


def test_a_header_with_a_bad_byte_is_reported_readably(cast, tmp_path):
    path = tmp_path / "accounts.csv"
    path.write_bytes(csv_bytes([row("A1")]).replace(b"lng", b"l\x00ng", 1))

    job = import_file(path=path, as_of=AS_OF)

    assert (job.status, job.created_count) == ("done", 1)
    assert "l\\x00ng" in job.message
    assert report_lines(job) == [["1", "l\\x00ng", "", str(R.UNKNOWN_COLUMN)]]


def test_web_upload_says_failed_with_the_reason_when_the_job_failed(client, cast):
    client.force_login(cast.supervisor_x)
    upload = SimpleUploadedFile("x.csv", csv_bytes([{"account_no": "A1", "borrower_name": "x"}]))

    response = client.post(reverse("import-list"), {"file": upload}, follow=True)

    job = ImportJob.objects.get()
    assert job.status == ImportJob.Status.FAILED
    shown = [str(m) for m in response.context["messages"]]
    assert shown == [f"Import of x.csv failed: {job.message}"]
    assert "outstanding_balance" in job.message


def test_web_upload_says_finished_when_the_job_is_done(client, cast):
    client.force_login(cast.supervisor_x)
    upload = SimpleUploadedFile("x.csv", csv_bytes([row("A1")]))

    response = client.post(reverse("import-list"), {"file": upload}, follow=True)

    assert [str(m) for m in response.context["messages"]] == ["Import of x.csv finished."]
