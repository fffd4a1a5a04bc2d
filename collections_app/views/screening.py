"""Screening, assignment and workload pages (supervisors; managers read screening and workload)."""

from collections import Counter
from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from collections_app.db_routing import replica_reads
from collections_app.exceptions import DoorstepError
from collections_app.forms_screening import AssignForm, BulkAssignForm, OpenCasesForm, ScreeningFilterForm
from collections_app.models import Case, Role, Stage
from collections_app.selectors import screening as selectors
from collections_app.services import screening as services
from collections_app.services.cases import case_assign
from collections_app.workflow import OPEN_STAGES

FILTER_FIELDS = list(ScreeningFilterForm.base_fields)
ASSIGNMENTS_PER_PAGE = 100


def _may_supervise(user) -> bool:
    return user.is_supervisor or user.role == Role.ADMIN or user.is_superuser


def _require_supervisor(user) -> None:
    if not _may_supervise(user):
        raise PermissionDenied(_("Only a supervisor can do this."))


def _require_reader(user) -> None:
    if not (_may_supervise(user) or user.sees_everything):
        raise PermissionDenied(_("This page is for supervisors and managers."))


def _filter_query(data) -> str:
    """The filter part of a query string (no cursor), to keep filters across pages and posts."""
    return urlencode([(name, value) for name in FILTER_FIELDS for value in data.getlist(name) if value != ""])


def _screening_url(query: str) -> str:
    # Django refuses redirects longer than 2048 characters; a hostile or enormous filter must not
    # turn a completed action into an error page, so such filters are dropped from the way back.
    url = reverse("screening") + ("?" + query if query else "")
    return url if len(url) <= 2000 else reverse("screening")


def _report(request, result: services.BatchResult, done_message: str, *, onward: tuple[str, str] | None = None) -> None:
    """Tell what a batch did; ``onward`` = (url, label) links the success message to the next step."""
    if result.done:
        if onward:
            done_message = format_html('{} <a class="alert-link" href="{}">{}</a>', done_message, *onward)
        messages.success(request, done_message)
    if result.skipped:
        details = _("; ").join(
            _("%(case)s: %(why)s") % {"case": label, "why": why} for label, why in result.skipped[:10]
        )
        more = "…" if len(result.skipped) > 10 else ""
        messages.warning(
            request,
            ngettext("%(n)d skipped — %(details)s", "%(n)d skipped — %(details)s", len(result.skipped))
            % {"n": len(result.skipped), "details": details + more},
        )
    if not result.done and not result.skipped:
        messages.info(request, _("Nothing to do."))


@require_GET
@replica_reads
def screening(request):
    user = request.user
    _require_reader(user)
    form = ScreeningFilterForm(request.GET or None, user=user)
    filters = form.filters() if request.GET else {}
    page = selectors.screening_page(user, filters, after=request.GET.get("after"), before=request.GET.get("before"))
    filter_query = _filter_query(request.GET)
    context = {
        "form": form,
        "page": page,
        "filter_query": filter_query,
        "filter_items": [(n, v) for n in FILTER_FIELDS for v in request.GET.getlist(n) if v != ""],
        "can_open": _may_supervise(user),
        "batch_limit": services.OPEN_BATCH_LIMIT,
        "filtered": any(name != "sort" for name in filters),
        "by_recovery": page.sort == selectors.Sort.EXPECTED_RECOVERY,
    }
    return render(request, "collections_app/screening.html", context)


@require_POST
def screening_open(request):
    user = request.user
    _require_supervisor(user)
    back = _screening_url(_filter_query(request.POST))
    form = OpenCasesForm(request.POST)
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
        return redirect(back)
    if form.cleaned_data["scope"] == OpenCasesForm.ALL:
        filters = ScreeningFilterForm(request.POST, user=user).filters()
        accounts = selectors.screening_accounts(user, filters)
    else:
        ids = form.cleaned_data["account"]
        accounts = selectors.visible_accounts(user).filter(pk__in=ids).order_by(*selectors.SCREENING_ORDER)
    try:
        result = services.screening_open_cases(accounts=accounts, actor=user)
    except DoorstepError as exc:
        messages.error(request, exc.message)
        return redirect(back)
    _report(
        request,
        result,
        ngettext("Opened %(n)d case.", "Opened %(n)d cases.", len(result.done)) % {"n": len(result.done)},
        onward=(reverse("assignments"), _("Assign them")),
    )
    if result.more:
        messages.info(
            request,
            _("More accounts match the filter; at most %(n)d are opened per click. Click again for the next batch.")
            % {"n": services.OPEN_BATCH_LIMIT},
        )
    return redirect(back)


def _case_url(case: Case) -> str:
    try:
        return reverse("case-detail", args=[case.pk])
    except NoReverseMatch:
        return reverse("assignments")


@require_http_methods(["GET", "POST"])
def case_assign_view(request, pk: int):
    user = request.user
    _require_supervisor(user)
    case = get_object_or_404(
        Case.objects.visible_to(user).select_related("account__borrower", "account__branch", "team"), pk=pk
    )
    form = AssignForm(request.POST or None, user=user, case=case)
    if request.method == "POST" and form.is_valid():
        try:
            case_assign(
                case=case, collector=form.cleaned_data["collector"], actor=user, reason=form.cleaned_data["reason"]
            )
        except DoorstepError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(
                request,
                _("Case %(case)s assigned to %(user)s.")
                % {"case": case, "user": form.cleaned_data["collector"].get_username()},
            )
            return redirect(_case_url(case))
    return render(request, "collections_app/assign.html", {"case": case, "form": form})


@require_GET
def assignments(request):
    user = request.user
    _require_supervisor(user)
    paginator = Paginator(selectors.team_open_cases(user), ASSIGNMENTS_PER_PAGE)
    page = paginator.get_page(request.GET.get("page"))
    context = {
        "page": page,
        "form": BulkAssignForm(user=user),
        "auto_assign_limit": services.AUTO_ASSIGN_LIMIT,
    }
    return render(request, "collections_app/assignments.html", context)


@require_POST
def case_bulk_assign(request):
    user = request.user
    _require_supervisor(user)
    form = BulkAssignForm(request.POST, user=user)
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
        return redirect("assignments")
    cases = Case.objects.visible_to(user).filter(pk__in=form.cleaned_data["case"]).order_by("id")
    result = services.cases_assign_bulk(
        cases=cases, collector=form.cleaned_data["collector"], actor=user, reason=form.cleaned_data["reason"]
    )
    _report(
        request,
        result,
        ngettext("Assigned %(n)d case.", "Assigned %(n)d cases.", len(result.done)) % {"n": len(result.done)},
    )
    return redirect("assignments")


def _who_got_what(cases: list[Case]) -> str:
    """ "collector1: 2, collector2: 1": how many of the assigned cases each collector got."""
    counts = Counter(case.assigned_collector.get_full_name() or case.assigned_collector.username for case in cases)
    return _("; ").join(_("%(collector)s: %(n)d") % {"collector": name, "n": n} for name, n in sorted(counts.items()))


@require_POST
def case_auto_assign(request):
    user = request.user
    _require_supervisor(user)
    try:
        result = services.cases_auto_assign(actor=user)
    except DoorstepError as exc:
        messages.error(request, exc.message)
        return redirect("assignments")
    _report(
        request,
        result,
        ngettext("Auto-assigned %(n)d case.", "Auto-assigned %(n)d cases.", len(result.done)) % {"n": len(result.done)}
        + " "
        + _who_got_what(result.done),
        onward=(reverse("workload"), _("See the workload")),
    )
    if result.more:
        messages.info(request, _("More unassigned cases remain; click again for the next batch."))
    return redirect("assignments")


@require_GET
def workload(request):
    user = request.user
    _require_reader(user)
    stages = [(stage, Stage(stage).label) for stage in OPEN_STAGES]
    return render(
        request,
        "collections_app/workload.html",
        {"rows": selectors.workload(user), "stages": stages, "show_team": user.sees_everything},
    )
