"""Declared vs verified finances: the case's finances page, evidence uploads, verification, the evidence
file. Thin: access → form → one service call → redirect."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from collections_app.exceptions import DoorstepError
from collections_app.workflow import COLLECTOR, SUPERVISOR, actor_role
from repayment import selectors
from repayment.forms import DeclarationForm, EvidenceForm, FigureFormSet, VerifyForm
from repayment.services import finances as services


def _can_act(case, user) -> bool:
    return actor_role(case, user) in (COLLECTOR, SUPERVISOR) and case.is_open


def _require_field(case, user) -> None:
    if actor_role(case, user) not in (COLLECTOR, SUPERVISOR):
        raise PermissionDenied


def _newest(figure):
    items = list(figure.evidence_items.all())  # prefetched
    return items[-1].pk if items else None


@require_http_methods(["GET", "POST"])
def case_finances(request, case_id: int):
    case = selectors.case_for_user(request.user, case_id)
    posted = request.method == "POST"
    if posted:
        _require_field(case, request.user)
    form = DeclarationForm(request.POST if posted else None, case=case)
    figures = FigureFormSet(request.POST if posted else None, prefix="fig")
    if posted and form.is_valid() and figures.is_valid():
        data = form.cleaned_data
        try:
            services.declaration_record(
                case=case,
                actor=request.user,
                source=data["source"],
                visit=data["visit"],
                assets_seen=data["assets_seen"],
                note=data["note"],
                figures=figures.figures(),
                idempotency_key=data["idempotency_key"] or None,
            )
        except DoorstepError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, _("Declared figures recorded; verify each one when you have its evidence."))
            return redirect("case-finances", case_id=case.pk)
    overview = selectors.finances_overview(case)
    can_act = _can_act(case, request.user)
    finances = overview["finances"]
    rows = []
    if finances is not None and finances.declaration is not None:
        for figure in finances.figures:
            rows.append(
                {
                    "figure": figure,
                    "evidence_form": EvidenceForm(auto_id=f"id_ev{figure.pk}_%s"),
                    "verify_form": VerifyForm(
                        auto_id=f"id_vf{figure.pk}_%s",
                        figure=figure,
                        initial={"verified_amount": figure.amount, "evidence": _newest(figure)},
                    ),
                }
            )
    context = {
        "case": case,
        "form": form,
        "figures_formset": figures,
        "can_act": can_act,
        "rows": rows,
        **overview,
    }
    return render(request, "repayment/finances.html", context, status=400 if posted else 200)


@require_POST
def figure_evidence(request, figure_id: int):
    figure = selectors.figure_for_user(request.user, figure_id)
    case = figure.declaration.case
    _require_field(case, request.user)
    form = EvidenceForm(request.POST, request.FILES)
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
        return redirect("case-finances", case_id=case.pk)
    try:
        services.evidence_attach(
            figure=figure, actor=request.user, kind=form.cleaned_data["kind"], upload=form.cleaned_data["photo"]
        )
    except (DoorstepError, ValidationError) as exc:
        messages.error(request, getattr(exc, "message", None) or " ".join(exc.messages))
    else:
        messages.success(request, _("Evidence attached."))
    return redirect("case-finances", case_id=case.pk)


@require_POST
def figure_verify(request, figure_id: int):
    figure = selectors.figure_for_user(request.user, figure_id)
    case = figure.declaration.case
    _require_field(case, request.user)
    form = VerifyForm(request.POST, figure=figure)
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
        return redirect("case-finances", case_id=case.pk)
    data = form.cleaned_data
    try:
        if data["action"] == "verify":
            services.figure_verify(
                figure=figure,
                actor=request.user,
                evidence=data["evidence"],
                verified_amount=data["verified_amount"],
                note=data["note"],
            )
            messages.success(request, _("Figure verified."))
        else:
            services.figure_unverify(figure=figure, actor=request.user, note=data["note"])
            messages.success(request, _("Figure marked unverified."))
    except DoorstepError as exc:
        messages.error(request, exc.message)
    return redirect("case-finances", case_id=case.pk)


@require_GET
def finance_evidence(request, pk: int):
    """A document photo, only for users who may see the case; never from a public media URL."""
    evidence = selectors.evidence_for_user(request.user, pk)
    try:
        handle = evidence.file.open("rb")
    except FileNotFoundError as exc:
        raise Http404 from exc
    response = FileResponse(handle, content_type=evidence.content_type)
    response["Content-Disposition"] = f'inline; filename="finance-evidence-{evidence.pk}"'
    response["Cache-Control"] = "private, no-store"
    return response
