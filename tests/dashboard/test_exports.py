import csv
import io
from decimal import Decimal

import pytest
from openpyxl import load_workbook

from collections_app.models import AuditLog, CaseEvent
from dashboard.exports import escape_cell

pytestmark = pytest.mark.django_db

URL = "/dashboard/"
EVIL = '=HYPERLINK("http://evil.example/x","click")'


@pytest.fixture
def evil_collector(dataset, cast):
    cast.collector_a.first_name = EVIL
    cast.collector_a.save(update_fields=["first_name"])
    CaseEvent.objects.create(
        case=dataset.cases["screening"], actor=cast.collector_a, kind="refused", payload={"rule": "quiet_hours"}
    )
    return cast.collector_a


def _params(dataset, **extra):
    return {
        "period": "custom",
        "date_from": dataset.period.date_from.isoformat(),
        "date_to": dataset.today.isoformat(),
        **extra,
    }


@pytest.mark.parametrize("value", ["=1+1", "+1", "-1", "@SUM(A1)", "\tx", "\rx"])
def test_formula_looking_text_is_escaped(value):
    assert escape_cell(value) == "'" + value


def test_plain_values_are_left_alone():
    assert escape_cell("collector_a") == "collector_a"
    assert escape_cell(Decimal("-5.00")) == Decimal("-5.00")
    assert escape_cell(None) == ""


def test_collectors_csv_parses_and_escapes_names(client, dataset, cast, evil_collector):
    client.force_login(cast.supervisor_x)
    response = client.get(URL, _params(dataset, export="csv", table="collectors"))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0][0] == "Username"
    by_user = {row[0]: row for row in rows[1:]}
    assert by_user["collector_a"][1] == "'" + EVIL
    assert by_user["collector_a"][2:] == ["2", "2", "3", "5", "3", "0.6667", "", "", "0", "0", "0.0", "50.00"]
    assert set(by_user) == {"collector_a", "collector_a2"}


def test_collectors_xlsx_opens_and_escapes_names(client, dataset, cast, evil_collector):
    client.force_login(cast.supervisor_x)
    response = client.get(URL, _params(dataset, export="xlsx", table="collectors"))
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:2] == ("Username", "Name")
    first = rows[1]
    assert first[0] == "collector_a"
    assert first[1] == "'" + EVIL
    assert sheet.cell(row=2, column=2).data_type == "s"  # text, not a formula
    assert first[2] == 2
    assert Decimal(str(first[-1])) == Decimal("50.00")


@pytest.mark.parametrize("table", ["aging", "classification", "stages", "roll", "recovery", "collectors", "compliance"])
@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_every_table_exports_and_is_audited(client, dataset, cast, table, fmt):
    client.force_login(cast.manager)
    response = client.get(URL, _params(dataset, export=fmt, table=table))
    assert response.status_code == 200
    assert f"dashboard-{table}-" in response["Content-Disposition"]
    entry = AuditLog.objects.get(action="dashboard.export")
    assert entry.actor == cast.manager
    assert entry.changes["table"] == table
    assert entry.changes["format"] == fmt


def test_aging_csv_matches_the_page(client, dataset, cast):
    client.force_login(cast.supervisor_x)
    response = client.get(URL, _params(dataset, export="csv", table="aging"))
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[1:] == [
        ["1-30", "2", "32.00"],
        ["31-60", "2", "92.00"],
        ["61-90", "2", "152.00"],
        ["91-180", "2", "272.00"],
        ["181+", "5", "1445.50"],
    ]


def test_compliance_export_escapes_usernames(client, dataset, cast):
    cast.collector_a2.username = "@evil"
    cast.collector_a2.save(update_fields=["username"])
    client.force_login(cast.supervisor_x)
    response = client.get(URL, _params(dataset, export="csv", table="compliance"))
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert ["'@evil", "0", "1", "0", "0", "1"] in rows


def test_unknown_table_or_format_shows_a_message(client, dataset, cast):
    client.force_login(cast.manager)
    response = client.get(URL, {"export": "csv", "table": "secrets"})
    assert response.status_code == 200
    assert "There is no dashboard table" in response.content.decode()
    response = client.get(URL, {"export": "pdf", "table": "aging"})
    assert response.status_code == 200
    assert "CSV or XLSX" in response.content.decode()
    assert not AuditLog.objects.filter(action="dashboard.export").exists()


def test_collector_cannot_export(client, cast):
    client.force_login(cast.collector_a)
    assert client.get(URL, {"export": "csv", "table": "aging"}).status_code == 403
