"""Pages of the risk app: statement imports, early warning, care cases, model card, strategies."""

import re

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from collections_app.exceptions import DoorstepError
from collections_app.models import DelinquentAccount, Role, User
from risk import selectors
from risk.forms import CareRecordForm, StatementUploadForm, StrategyForm
from risk.models import CareCase, RiskModel, StatementImport, Strategy
from risk.services import care_case_open, care_case_record
from risk.statements import COLUMNS, REQUIRED, may_import_statements, statement_import_create, statement_import_run
from risk.strategies import may_define_strategies, strategy_create, strategy_results, strategy_set_active
from risk.tasks import statement_import_enqueue

INLINE_MAX_BYTES = 512 * 1024
PAGE_SIZE = 50


def _jobs(user):
    jobs = StatementImport.objects.select_related("created_by")
    return jobs if user.role == Role.ADMIN or user.is_superuser else jobs.filter(created_by=user)


@require_http_methods(["GET", "POST"])
def statement_imports(request):
    if not may_import_statements(request.user):
        raise PermissionDenied
    form = StatementUploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            job = statement_import_create(actor=request.user, upload=upload, as_of=form.cleaned_data.get("as_of"))
        except DoorstepError as exc:
            messages.error(request, exc.message)
        else:
            if upload.size <= INLINE_MAX_BYTES:
                statement_import_run(job_id=job.pk)
                messages.success(request, _("Import of %(file)s finished.") % {"file": job.filename})
            elif statement_import_enqueue(job.pk):
                messages.info(
                    request, _("Import of %(file)s is queued; progress shows below.") % {"file": job.filename}
                )
            else:
                messages.warning(
                    request, _("The task queue cannot be reached; %(file)s stays queued.") % {"file": job.filename}
                )
            return redirect("statement-imports")
    context = {"form": form, "jobs": _jobs(request.user)[:30], "columns": COLUMNS, "required_columns": REQUIRED}
    return render(request, "risk/statement_imports.html", context)


@require_GET
def statement_import_progress(request, pk: int):
    if not may_import_statements(request.user):
        raise PermissionDenied
    job = get_object_or_404(_jobs(request.user), pk=pk)
    return render(request, "risk/_statement_job.html", {"job": job})


class _Page(list):
    """A page read as PAGE_SIZE + 1 rows: whether a next page exists without COUNT(*) over every score
    above the threshold (the count cost more than the page itself at 100k accounts)."""

    def __init__(self, rows: list, number: int):
        super().__init__(rows[:PAGE_SIZE])
        self.object_list = self
        self.number = number
        self.has_next = len(rows) > PAGE_SIZE
        self.has_previous = number > 1
        self.has_other_pages = self.has_next or self.has_previous

    def next_page_number(self) -> int:
        return self.number + 1

    def previous_page_number(self) -> int:
        return self.number - 1


def _page_without_count(queryset, number) -> _Page:
    try:
        number = max(1, min(int(number or 1), 10_000))
    except ValueError:
        number = 1
    start = (number - 1) * PAGE_SIZE
    return _Page(list(queryset[start : start + PAGE_SIZE + 1]), number)


def _require_warnings(request) -> None:
    if not selectors.may_see_warnings(request.user):
        raise PermissionDenied


@require_GET
def early_warning(request):
    _require_warnings(request)
    order = "rise" if request.GET.get("order") == "rise" else "risk"
    page = _page_without_count(selectors.warning_scores(request.user, order=order), request.GET.get("page"))
    for score in page:
        score.factor_rows = selectors.with_labels(score.factors)
    collectors = []
    if request.user.is_supervisor:
        collectors = list(
            User.objects.filter(role=Role.COLLECTOR, is_active=True, team__supervisor=request.user).order_by("username")
        )
    context = {
        "page": page,
        "order": order,
        "collectors": collectors,
        "threshold": selectors.settings.RISK_WARNING_THRESHOLD,
    }
    return render(request, "risk/early_warning.html", context)


@require_POST
def care_open(request, account_id: int):
    _require_warnings(request)
    account = get_object_or_404(DelinquentAccount.objects.visible_to(request.user), pk=account_id)
    collector = None
    chosen = request.POST.get("collector", "")
    if chosen:
        collector = User.objects.filter(pk=chosen).first() if re.fullmatch(r"[0-9]{1,10}", chosen) else None
        if collector is None:
            messages.error(request, _("Choose a collector of your team."))
            return redirect("early-warning")
    try:
        care = care_case_open(account=account, actor=request.user, collector=collector)
    except DoorstepError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Care case opened for %(no)s.") % {"no": care.account.account_no})
    return redirect("early-warning")


@require_GET
def care_list(request):
    if not request.user.is_authenticated:
        raise PermissionDenied
    status = CareCase.Status.DONE if request.GET.get("status") == "done" else CareCase.Status.OPEN
    cases = selectors.care_cases_for(request.user).filter(status=status)
    page = Paginator(cases, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "risk/care_list.html", {"page": page, "status": status})


@require_http_methods(["GET", "POST"])
def care_detail(request, pk: int):
    care = get_object_or_404(selectors.care_cases_for(request.user), pk=pk)
    form = CareRecordForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            care_case_record(care=care, actor=request.user, **form.cleaned_data)
        except DoorstepError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, _("Care contact recorded."))
            return redirect("care-list")
    risk = selectors.account_risk(care.account_id)
    context = {
        "care": care,
        "form": form,
        "risk": risk,
        "factors": selectors.with_labels(risk.factors) if risk else [],
        "statement_chart": selectors.statement_chart(care.account_id),
    }
    return render(request, "risk/care_detail.html", context)


@require_GET
def model_card(request):
    _require_warnings(request)
    models = list(selectors.model_card_models())
    active = next((m for m in models if m.status == RiskModel.Status.ACTIVE), None)
    latest = models[0] if models else None
    from risk.features import FEATURE_LABELS, PROTECTED

    context = {
        "models": models,
        "active": active,
        "latest": latest,
        "feature_rows": [(name, FEATURE_LABELS.get(name, name)) for name in (latest.features if latest else [])],
        "protected": sorted(PROTECTED),
    }
    return render(request, "risk/model_card.html", context)


@require_http_methods(["GET", "POST"])
def strategies(request):
    if not may_define_strategies(request.user):
        raise PermissionDenied
    form = StrategyForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            strategy_create(actor=request.user, **form.cleaned_data)
        except DoorstepError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, _("Strategy added."))
            return redirect("strategies")
    results = strategy_results()
    return render(request, "risk/strategies.html", {"form": form, "results": results})


@require_POST
def strategy_toggle(request, pk: int):
    if not may_define_strategies(request.user):
        raise PermissionDenied
    strategy = get_object_or_404(Strategy, pk=pk)
    try:
        strategy_set_active(strategy=strategy, actor=request.user, active=not strategy.is_active)
    except DoorstepError as exc:
        messages.error(request, exc.message)
    return redirect("strategies")
