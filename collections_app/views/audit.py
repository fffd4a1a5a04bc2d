"""The audit trail browser and its CSV export (managers and admins only)."""

import csv
import datetime as dt
import json

from crispy_forms.helper import FormHelper
from crispy_forms.layout import Column, Layout, Row, Submit
from django import forms
from django.core.exceptions import PermissionDenied
from django.core.validators import MaxValueValidator, MinValueValidator
from django.http import StreamingHttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET

from collections_app import pii
from collections_app.models import AuditLog
from collections_app.services.audit import audit_log
from collections_app.widgets import DateInput

PAGE_SIZE = 50
EXPORT_LIMIT = 100_000


# Days whose local midnight (and the next) exist in every time zone: 0001-01-01 or 9999-12-31 overflow.
DAY_BOUNDS = [MinValueValidator(dt.date(2000, 1, 1)), MaxValueValidator(dt.date(2100, 12, 31))]


class AuditFilterForm(forms.Form):
    actor = forms.CharField(label=_("Actor (user name)"), required=False, max_length=150)
    action = forms.CharField(
        label=_("Action"), required=False, max_length=60, help_text=_("A prefix, e.g. “pii.” or “case.transition”.")
    )
    object_type = forms.CharField(label=_("Object type"), required=False, max_length=60)
    object_id = forms.CharField(label=_("Object id"), required=False, max_length=40)
    date_from = forms.DateField(label=_("From"), required=False, widget=DateInput(), validators=DAY_BOUNDS)
    date_to = forms.DateField(label=_("To"), required=False, widget=DateInput(), validators=DAY_BOUNDS)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.form_method = "get"
        self.helper.layout = Layout(
            Row(
                Column("actor", css_class="col-md-4"),
                Column("action", css_class="col-md-4"),
                Column("object_type", css_class="col-md-2"),
                Column("object_id", css_class="col-md-2"),
            ),
            Row(Column("date_from", css_class="col-md-3"), Column("date_to", css_class="col-md-3")),
            Submit("filter", _("Filter"), css_class="btn-primary"),
        )

    def clean(self):
        data = super().clean()
        start, end = data.get("date_from"), data.get("date_to")
        if start and end and start > end:
            raise forms.ValidationError(_("“From” must not be after “To”."))
        return data


def _local_midnight(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


def audit_entries(filters: dict):
    """Audit rows matching the filters, newest first (by id: ids only grow)."""
    rows = AuditLog.objects.select_related("actor").order_by("-id")
    if filters.get("actor"):
        rows = rows.filter(actor__username__iexact=filters["actor"])
    if filters.get("action"):
        rows = rows.filter(action__startswith=filters["action"])
    if filters.get("object_type"):
        rows = rows.filter(object_type=filters["object_type"])
    if filters.get("object_id"):
        rows = rows.filter(object_id=filters["object_id"])
    if filters.get("date_from"):
        rows = rows.filter(created_at__gte=_local_midnight(filters["date_from"]))
    if filters.get("date_to"):
        rows = rows.filter(created_at__lt=_local_midnight(filters["date_to"] + dt.timedelta(days=1)))
    return rows


def _text(value) -> str:
    return "∅" if value in (None, "") else json.dumps(value, ensure_ascii=False).strip('"')


def _change_lines(changes) -> list[tuple[str, str]]:
    """``before → after`` for changed fields, the value alone for other details.

    Masked again on display: a caller that stored a clear number must not show it here.
    """
    if not isinstance(changes, dict):
        return [("", pii.scrub(_text(changes)))]
    return [(field, pii.scrub(_change_text(value))) for field, value in changes.items()]


def _change_text(value) -> str:
    if isinstance(value, list) and len(value) == 2:
        return f"{_text(value[0])} → {_text(value[1])}"
    return _text(value)


def _require_auditor(user) -> None:
    if not user.sees_everything:
        raise PermissionDenied(_("Only managers and administrators may read the audit trail."))


def _filters(request) -> tuple[AuditFilterForm, dict]:
    form = AuditFilterForm(request.GET or None)
    filters = form.cleaned_data if form.is_bound and form.is_valid() else {}
    return form, filters


@require_GET
def audit_list(request):
    _require_auditor(request.user)
    form, filters = _filters(request)
    rows = audit_entries(filters)
    before = request.GET.get("before", "")
    if before.isdigit():
        rows = rows.filter(id__lt=int(before))
    page = list(rows[: PAGE_SIZE + 1])
    has_more = len(page) > PAGE_SIZE
    page = page[:PAGE_SIZE]
    for row in page:
        row.change_lines = _change_lines(row.changes)
    query = request.GET.copy()
    query.pop("before", None)
    context = {
        "form": form,
        "rows": page,
        "older_query": f"{query.urlencode()}&before={page[-1].pk}".lstrip("&") if has_more else "",
        "newest_query": query.urlencode(),
        "is_first_page": not before,
        "export_query": query.urlencode(),
    }
    return render(request, "security/audit_list.html", context)


def _csv_cell(value) -> str:
    # Spreadsheet formula injection: a cell starting with = + - @ would run as a formula.
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


class _Echo:
    def write(self, value):
        return value


@require_GET
def audit_export(request):
    _require_auditor(request.user)
    _, filters = _filters(request)
    audit_log(
        actor=request.user,
        action="audit.export",
        object_type="collections_app.auditlog",
        changes={"filters": {k: str(v) for k, v in filters.items() if v}},
    )
    rows = audit_entries(filters)[:EXPORT_LIMIT]
    writer = csv.writer(_Echo())
    header = ["id", "time", "actor", "action", "object_type", "object_id", "changes", "ip_address"]

    def lines():
        yield writer.writerow(header)
        for row in rows.iterator(chunk_size=2000):
            yield writer.writerow(
                [
                    _csv_cell(value)
                    for value in (
                        row.pk,
                        timezone.localtime(row.created_at).isoformat(),
                        row.actor.get_username() if row.actor else "",
                        row.action,
                        row.object_type,
                        row.object_id,
                        pii.scrub(json.dumps(row.changes, ensure_ascii=False, sort_keys=True)),
                        row.ip_address or "",
                    )
                ]
            )

    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="audit-{stamp}.csv"'
    return response
