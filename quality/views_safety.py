"""Field safety pages: check in and out of a visit, the help button."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import JsonResponse
from django.shortcuts import get_object_or_404, redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from collections_app.exceptions import DoorstepError
from collections_app.models import Case
from collections_app.selectors.cases import case_for_user
from quality import safety
from quality.forms_safety import CheckInForm, HelpForm
from quality.models import SafetyCheckIn


@require_POST
def check_in(request, pk: int):
    case = case_for_user(request.user, pk)
    if case.assigned_collector_id != request.user.pk:
        raise PermissionDenied(_("Only the case's collector checks in on it."))
    form = CheckInForm(request.POST, case=case)
    if not form.is_valid():
        messages.error(request, " ".join(str(e) for errors in form.errors.values() for e in errors))
        return redirect(f"{case.get_absolute_url()}#safety")
    data = form.cleaned_data
    try:
        safety.safety_check_in(
            case=case,
            actor=request.user,
            expected_minutes=data["expected_minutes"],
            lat=data["lat"],
            lng=data["lng"],
            companion=data["companion"],
        )
    except DoorstepError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Checked in. Check out when you leave, or your supervisor is alerted."))
    return redirect(f"{case.get_absolute_url()}#safety")


@require_POST
def check_out(request, pk: int):
    checkin = get_object_or_404(SafetyCheckIn.objects.filter(collector=request.user), pk=pk)
    safety.safety_check_out(checkin=checkin, actor=request.user)
    messages.success(request, _("Checked out. Stay safe."))
    return redirect(f"{checkin.case.get_absolute_url()}#safety")


@require_POST
def help_button(request):
    """JSON for the phone's queue (static/js/safety.js): 201 once, 200 for a resend, 400 with the reason."""
    form = HelpForm(request.POST)
    if not form.is_valid():
        return JsonResponse({"errors": form.errors}, status=400)
    data = form.cleaned_data
    case = None
    if data["case"]:
        case = Case.objects.visible_to(request.user).select_related("team__supervisor").filter(pk=data["case"]).first()
    try:
        help_request, created = safety.help_request(
            actor=request.user,
            client_id=data["client_id"],
            pressed_at=data["pressed_at"],
            case=case,
            lat=data["lat"],
            lng=data["lng"],
        )
    except DoorstepError as exc:
        return JsonResponse({"error": str(exc.message)}, status=403)
    return JsonResponse(
        {"id": help_request.pk, "message": _("Your supervisor has been told.")}, status=201 if created else 200
    )
