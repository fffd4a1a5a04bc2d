"""Complaint pages: log from the case page, the list for supervisors and managers, acknowledge, resolve."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from collections_app.exceptions import DoorstepError
from collections_app.selectors.cases import case_for_action
from voice import selectors, services
from voice.forms import ComplaintForm, ResolveForm


def _require_overseer(user) -> None:
    if not (user.is_supervisor or user.sees_everything):
        raise PermissionDenied(_("Complaints are handled by supervisors and managers."))


def _require_owner(complaint, user) -> None:
    if not services.complaint_may_handle(complaint, user):
        raise PermissionDenied(_("Only the supervisor who owns the complaint can do this."))


@require_http_methods(["GET", "POST"])
def complaint_create(request, pk: int):
    case = case_for_action(request.user, pk)
    form = ComplaintForm(request.POST or None, case=case)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.complaint_log(
                case=case,
                actor=request.user,
                category=data["category"],
                text=data["text"],
                collector_named=data["collector_named"],
            )
        except DoorstepError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, _("Complaint logged."))
            return redirect(case)
    return render(request, "voice/complaint_form.html", {"case": case, "form": form})


@require_GET
def complaint_list(request):
    _require_overseer(request.user)
    complaints = selectors.complaints_for(request.user)
    status = request.GET.get("status", "open")
    if status == "open":
        complaints = complaints.filter(resolved_at=None)
    elif status == "resolved":
        complaints = complaints.exclude(resolved_at=None)
    now = timezone.now()
    counts = selectors.complaint_counts(request.user, now)
    context = {"complaints": complaints[:200], "status": status, "now": now, "counts": counts}
    return render(request, "voice/complaint_list.html", context)


@require_http_methods(["GET", "POST"])
def complaint_detail(request, pk: int):
    _require_overseer(request.user)
    complaint = selectors.complaint_for_user(request.user, pk)
    if request.method == "POST":
        _require_owner(complaint, request.user)
    form = ResolveForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.complaint_resolve(complaint=complaint, actor=request.user, note=form.cleaned_data["note"])
        except DoorstepError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, _("Complaint resolved."))
            return redirect(complaint)
    can_handle = services.complaint_may_handle(complaint, request.user)
    context = {"complaint": complaint, "form": form, "can_handle": can_handle}
    return render(request, "voice/complaint_detail.html", context)


@require_POST
def complaint_acknowledge(request, pk: int):
    _require_overseer(request.user)
    complaint = selectors.complaint_for_user(request.user, pk)
    _require_owner(complaint, request.user)
    try:
        services.complaint_acknowledge(complaint=complaint, actor=request.user)
    except DoorstepError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Complaint acknowledged."))
    return redirect(complaint)
