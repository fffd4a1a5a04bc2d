"""Evidence pages: verifying the chains (managers), escalating to legal and the packs (supervisors, managers)."""

from django import forms
from django.core.exceptions import PermissionDenied
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET

from collections_app import chain
from collections_app.models import Case
from evidence.verify import verify_case_evidence


class VerifyForm(forms.Form):
    case = forms.IntegerField(label=_("Case number"), min_value=1, max_value=2**31 - 1, required=False)
    audit = forms.BooleanField(label=_("Also verify the audit trail"), required=False)


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
