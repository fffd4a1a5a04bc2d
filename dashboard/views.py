from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from collections_app.aging import LoanClass
from collections_app.db_routing import replica_reads
from collections_app.exceptions import DoorstepError
from collections_app.models import Stage
from dashboard import exports, selectors
from dashboard.forms import PERIOD_CHOICES, DashboardFilterForm, Filters


def may_view_dashboard(user) -> bool:
    return bool(user.is_authenticated and (user.is_supervisor or user.sees_everything))


def chart_data(data: dict) -> dict:
    """What static/js/dashboard.js draws; amounts stay decimal strings."""
    return {
        "aging": {
            "labels": [row["bucket"] for row in data["aging"]],
            "accounts": [row["accounts"] for row in data["aging"]],
            "amounts": [str(row["overdue_amount"]) for row in data["aging"]],
        },
        "classification": {
            "labels": [str(row["label"]) for row in data["classification_rows"]],
            "accounts": [row["accounts"] for row in data["classification"]],
            "amounts": [str(row["overdue_amount"]) for row in data["classification"]],
        },
        "stages": {
            "labels": [str(label) for _stage, label in Stage.choices],
            "cases": [data["stages"][stage] for stage in Stage.values],
        },
        "recovery": {
            "labels": [week["week"].isoformat() for week in data["recovery"]["weeks"]],
            "amounts": [str(week["recovered_amount"]) for week in data["recovery"]["weeks"]],
        },
        "labels": {
            "accounts": _("Accounts"),
            "amount": _("Overdue amount"),
            "cases": _("Cases"),
            "recovered": _("Recovered amount"),
        },
    }


@require_GET
@replica_reads
def dashboard(request):
    if not may_view_dashboard(request.user):
        raise PermissionDenied(_("The dashboard is for supervisors and managers."))
    form = DashboardFilterForm(request.GET or None, user=request.user)
    filters = form.filters() if form.is_bound else Filters.default()
    data = selectors.dashboard(user=request.user, filters=filters)
    export = request.GET.get("export")
    if export and (not form.is_bound or form.is_valid()):
        try:
            return exports.export_response(user=request.user, data=data, table=request.GET.get("table", ""), fmt=export)
        except DoorstepError as exc:
            messages.error(request, exc.message)
    data["classification_rows"] = [{**row, "label": LoanClass(row["class"]).label} for row in data["classification"]]
    data["stage_rows"] = [
        {"stage": stage, "label": label, "cases": data["stages"][stage], "days": data["stage_days"].get(stage)}
        for stage, label in Stage.choices
    ]
    context = {
        "form": form,
        "data": data,
        "chart_data": chart_data(data),
        "export_tables": exports.TABLES,
        "period_label": dict(PERIOD_CHOICES).get(filters.period, ""),
    }
    return render(request, "dashboard/dashboard.html", context)
