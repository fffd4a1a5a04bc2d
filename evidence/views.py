"""Evidence pages: verifying the chains (managers), escalating to legal and the packs (supervisors, managers)."""

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods

from collections_app import chain
from collections_app.exceptions import DoorstepError
from collections_app.models import Case, CloseReason
from collections_app.selectors.cases import case_for_user
from evidence import selectors, services
from evidence.forms import LegalEscalationForm
from evidence.verify import verify_case_evidence


class VerifyForm(forms.Form):
    case = forms.IntegerField(label=gettext_lazy("Case number"), min_value=1, max_value=2**31 - 1, required=False)
    audit = forms.BooleanField(label=gettext_lazy("Also verify the audit trail"), required=False)


@require_GET
def verify_page(request):
    if not request.user.sees_everything:
        raise PermissionDenied(_("Only managers and administrators may verify evidence."))
    form = VerifyForm(request.GET or None)
    context = {"form": form, "result": None, "audit_report": None, "not_found": False}
    if form.is_bound and form.is_valid():
        case_id = form.cleaned_data["case"]
        if case_id:
            case = Case.objects.visible_to(request.user).filter(pk=case_id).first()
            if case is None:
                context["not_found"] = True
            else:
                context["case"] = case
                context["result"] = verify_case_evidence(case.pk)
        if form.cleaned_data["audit"]:
            context["audit_report"] = chain.verify_audit()
    return render(request, "evidence/verify.html", context)


@require_http_methods(["GET", "POST"])
def legal_escalation(request, pk: int):
    """Escalate an open case to legal (its supervisor), or build a new pack for a case already escalated."""
    if not selectors.may_handle_packs(request.user):
        raise PermissionDenied(_("Only supervisors and managers handle legal escalations."))
    case = case_for_user(request.user, pk)
    escalated = case.close_reason == CloseReason.LEGAL
    label = _("Build a new evidence pack") if escalated else _("Escalate to legal")
    initial = {"summary": case.evidence_packs.values_list("summary", flat=True).first() or ""} if escalated else None
    form = LegalEscalationForm(request.POST or None, initial=initial, submit_label=label)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            if escalated:
                services.evidence_pack_build(
                    case=case, actor=request.user, summary=data["summary"], language=data["language"]
                )
            else:
                services.legal_escalate(
                    case=case, actor=request.user, summary=data["summary"], language=data["language"]
                )
        except DoorstepError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, _("The evidence pack is ready."))
            return redirect(f"{case.get_absolute_url()}#evidence")
    return render(request, "evidence/escalate.html", {"case": case, "form": form, "escalated": escalated})


def _pack(request, pk: int):
    if not selectors.may_handle_packs(request.user):
        raise PermissionDenied(_("Only supervisors and managers handle legal escalations."))
    return get_object_or_404(selectors.packs_visible_to(request.user), pk=pk)


def _download(request, pk: int, part: str, content_type: str):
    pack = _pack(request, pk)
    field = pack.pdf if part == "pdf" else pack.manifest
    try:
        handle = field.open("rb")
    except FileNotFoundError as exc:
        raise Http404 from exc
    services.evidence_pack_downloaded(pack=pack, actor=request.user, part=part)
    name = f"evidence-case-{pack.case_id}-{pack.pk}.{'pdf' if part == 'pdf' else 'manifest.json'}"
    response = FileResponse(handle, content_type=content_type, as_attachment=True, filename=name)
    response["Cache-Control"] = "private, no-store"
    return response


@require_GET
def pack_pdf(request, pk: int):
    return _download(request, pk, "pdf", "application/pdf")


@require_GET
def pack_manifest(request, pk: int):
    return _download(request, pk, "manifest", "application/json")
