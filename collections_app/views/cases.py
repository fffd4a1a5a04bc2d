"""The case pages: "my cases", the case page, and stage changes from it."""

from django.contrib import messages
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from collections_app import panels
from collections_app.exceptions import DoorstepError
from collections_app.forms_cases import CaseFilterForm, CaseTransitionForm, ContactPointStatusForm
from collections_app.models import BorrowerAddress, BorrowerPhone, Stage
from collections_app.selectors import cases as selectors
from collections_app.services import cases as case_services
from collections_app.services import contacts as contact_services
from collections_app.workflow import actor_role, transition_targets


@require_GET
def case_list(request):
    filters = CaseFilterForm(request.GET or None)
    stage = filters.cleaned_data["stage"] if filters.is_valid() else ""
    page = Paginator(selectors.case_list(request.user, stage=stage), selectors.CASE_LIST_PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    cases = selectors.case_list_rows(page.object_list)
    context = {"filters": filters, "page": page, "cases": cases, "stage": stage, "read_only": request.user.is_manager}
    return render(request, "collections_app/case_list.html", context)


@require_GET
def case_detail(request, pk: int):
    user = request.user
    case = selectors.case_for_page(user, pk)
    can_act = actor_role(case, user) is not None
    buttons = transition_targets(case, user)
    context = {
        "case": case,
        "can_act": can_act,
        "moves": [b for b in buttons if b["target"] != Stage.CLOSED],
        "close_reasons": [b for b in buttons if b["target"] == Stage.CLOSED],
        "case_panels": panels.case_panels(),
        **selectors.case_page(user, case),
        **panels.panel_context(user=user, case=case, can_act=can_act),
    }
    return render(request, "collections_app/case_detail.html", context)


@require_POST
def case_transition(request, pk: int):
    case = selectors.case_for_action(request.user, pk)
    form = CaseTransitionForm(request.POST)
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
        return redirect(case)
    data = form.cleaned_data
    try:
        case_services.case_transition(
            case=case, target=data["target"], actor=request.user, close_reason=data["close_reason"], note=data["note"]
        )
    except DoorstepError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("The case is now in %(stage)s.") % {"stage": case.get_stage_display()})
    return redirect(case)


@require_POST
def contact_point_status(request, pk: int):
    """Confirm a phone or an address of the case's borrower, or mark it wrong / moved."""
    case = selectors.case_for_action(request.user, pk)
    form = ContactPointStatusForm(request.POST)
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
        return redirect(f"{case.get_absolute_url()}#borrower")
    data = form.cleaned_data
    model = BorrowerPhone if data["kind"] == "phone" else BorrowerAddress
    point = get_object_or_404(model, pk=data["point"], borrower_id=case.account.borrower_id)
    try:
        contact_services.contact_point_set_status(
            case=case, actor=request.user, point=point, status=data["status"], note=data["note"]
        )
    except DoorstepError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Verification saved."))
    return redirect(f"{case.get_absolute_url()}#borrower")
