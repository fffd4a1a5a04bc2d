"""CSV and XLSX exports of the dashboard's tables. Text that a spreadsheet would read as a formula
(``=``, ``+``, ``-``, ``@``, tab, CR first) is prefixed with ``'`` in both formats."""

import csv
import io
from collections.abc import Callable

from django.http import HttpResponse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from openpyxl import Workbook

from collections_app.aging import LoanClass
from collections_app.exceptions import DoorstepError
from collections_app.models import Stage
from collections_app.services.audit import audit_log

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
FORMATS = ("csv", "xlsx")
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class ExportRefused(DoorstepError):
    default_message = gettext_lazy("This export does not exist.")


def escape_cell(value):
    """Numbers stay numbers; text that starts like a formula gets a leading apostrophe."""
    if value is None:
        return ""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def _aging(data):
    headers = [_("Bucket"), _("Accounts"), _("Overdue amount")]
    return headers, [[r["bucket"], r["accounts"], r["overdue_amount"]] for r in data["aging"]]


def _classification(data):
    headers = [_("Class"), _("Code"), _("Accounts"), _("Overdue amount")]
    rows = [
        [str(LoanClass(r["class"]).label), r["class"], r["accounts"], r["overdue_amount"]]
        for r in data["classification"]
    ]
    return headers, rows


def _stages(data):
    headers = [_("Stage"), _("Code"), _("Cases"), _("Average days in stage")]
    days = data["stage_days"]
    return headers, [[str(label), stage, data["stages"][stage], days.get(stage)] for stage, label in Stage.choices]


def _roll(data):
    headers = [_("From bucket"), _("Accounts at start"), _("Rolled to a worse bucket"), _("Roll rate")]
    headers += [_("Cured"), _("Cure rate")]
    rows = [
        [r["bucket"], r["accounts"], r["rolled"], r["roll_rate"], r["cured"], r["cure_rate"]]
        for r in data["roll"]["rows"]
    ]
    return headers, rows


def _recovery(data):
    headers = [_("Week starting"), _("Payments"), _("Recovered amount")]
    rows = [[w["week"], w["payments"], w["recovered_amount"]] for w in data["recovery"]["weeks"]]
    return headers, rows


SATISFACTION_KEYS = ("csat", "responses", "complaints", "complaints_per_100_visits")


def _satisfaction_headers() -> list:
    return [_("CSAT"), _("Ratings"), _("Complaints"), _("Complaints per 100 visits")]


def _satisfaction_cells(row: dict) -> list:
    return ["" if row[k] is None else row[k] for k in SATISFACTION_KEYS]


def _collectors(data):
    headers = [_("Username"), _("Name"), _("Open cases"), _("Visits"), _("Contacts"), _("Promises")]
    headers += [_("Promises due"), _("Kept rate"), _("Visit quality"), *_satisfaction_headers(), _("Recovered amount")]
    keys = ("username", "name", "cases", "visits", "contacts", "promises", "promises_due", "kept_rate", "quality")
    return headers, [
        [*(r[k] for k in keys), *_satisfaction_cells(r), r["recovered_amount"]] for r in data["collectors"]
    ]


def _satisfaction(data):
    block = data["satisfaction"]
    rows = [[r["team"], *_satisfaction_cells(r)] for r in block["teams"]]
    return [_("Team"), *_satisfaction_headers()], [*rows, [_("All"), *_satisfaction_cells(block)]]


def _compliance(data):
    headers = [_("Username"), _("Quiet hours"), _("Attempt cap"), _("Third parties"), _("Other"), _("Total")]
    keys = ("username", "quiet_hours", "attempt_cap", "third_party", "other", "total")
    return headers, [[r[k] for k in keys] for r in data["compliance"]]


TABLES: dict[str, Callable] = {
    "aging": _aging,
    "classification": _classification,
    "stages": _stages,
    "roll": _roll,
    "recovery": _recovery,
    "collectors": _collectors,
    "satisfaction": _satisfaction,
    "compliance": _compliance,
}


def table_rows(table: str, data: dict) -> tuple[list[str], list[list]]:
    if table not in TABLES:
        raise ExportRefused(_("There is no dashboard table called “%(table)s”.") % {"table": table})
    headers, rows = TABLES[table](data)
    return [escape_cell(str(h)) for h in headers], [[escape_cell(v) for v in row] for row in rows]


def _csv(headers, rows) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(headers)
    writer.writerows(rows)
    # The BOM lets spreadsheet programs read UTF-8 (Chinese names) correctly.
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def _xlsx(headers, rows, title: str) -> bytes:
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=title[:31])
    sheet.append(headers)
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def export_response(*, user, data: dict, table: str, fmt: str) -> HttpResponse:
    """One table of the dashboard as a download; every export is audited."""
    if fmt not in FORMATS:
        raise ExportRefused(_("Exports are available as CSV or XLSX."))
    headers, rows = table_rows(table, data)
    filters = data["filters"]
    filename = f"dashboard-{table}-{filters.date_from:%Y%m%d}-{filters.date_to:%Y%m%d}.{fmt}"
    if fmt == "csv":
        response = HttpResponse(_csv(headers, rows), content_type="text/csv; charset=utf-8")
    else:
        response = HttpResponse(_xlsx(headers, rows, table), content_type=XLSX_TYPE)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    audit_log(
        actor=user,
        action="dashboard.export",
        object_type="dashboard",
        changes={
            "table": table,
            "format": fmt,
            "rows": len(rows),
            "branch": filters.branch.pk if filters.branch else None,
            "team": filters.team.pk if filters.team else None,
            "date_from": filters.date_from.isoformat(),
            "date_to": filters.date_to.isoformat(),
        },
    )
    return response
