import pytest
from django.core.management import CommandError, call_command

from collections_app.models import DelinquentAccount, ImportJob
from tests.imports.conftest import row

pytestmark = pytest.mark.django_db


def test_command_imports_and_succeeds_when_every_row_is_good(cast, write_csv, capsys):
    call_command("import_accounts", str(write_csv([row("A1"), row("A2")])), "--as-of", "2026-03-01")
    assert DelinquentAccount.objects.count() == 2
    assert "2 created" in capsys.readouterr().out


def test_command_exits_non_zero_and_writes_the_report_when_a_row_failed(cast, write_csv, tmp_path):
    report = tmp_path / "report.csv"
    path = write_csv([row("A1"), row("A2", overdue_amount="x")])
    with pytest.raises(CommandError, match="1 rows failed"):
        call_command("import_accounts", str(path), "--report", str(report))
    assert DelinquentAccount.objects.count() == 1
    assert "overdue_amount" in report.read_text(encoding="utf-8-sig")
    assert ImportJob.objects.get().error_count == 1


def test_command_refuses_a_bad_as_of_date_and_a_missing_file(cast, write_csv, tmp_path):
    with pytest.raises(CommandError, match="as-of"):
        call_command("import_accounts", str(write_csv([row("A1")])), "--as-of", "01/03/2026")
    with pytest.raises(CommandError, match="No such file"):
        call_command("import_accounts", str(tmp_path / "missing.csv"))


def test_command_create_branches(cast, write_csv):
    path = write_csv([row("A1", branch_code="HZ01")])
    with pytest.raises(CommandError):
        call_command("import_accounts", str(path))
    call_command("import_accounts", str(path), "--create-branches")
    assert DelinquentAccount.objects.get().branch.code == "HZ01"
