"""Field-work pages: log a contact attempt, prepare a visit, log a visit, view a visit and its photos."""

from django.contrib import messages
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from collections_app.exceptions import DoorstepError
from collections_app.models import Stage
from collections_app.selectors.cases import case_for_action
from visits import selectors, services
from visits.forms import ContactAttemptForm, VisitForm, VisitPlanForm
from visits.models import Visit, VisitPhoto


@require_http_methods(["GET", "POST"])
def contact_attempt_create(request, pk: int):
    case = case_for_action(request.user, pk)
    form = ContactAttemptForm(request.POST or None, case=case)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.contact_attempt_log(
                case=case,
                actor=request.user,
                channel=data["channel"],
                party=data["party"],
                phone_number=data["phone_number"],
                result=data["result"],
                note=data["note"],
                attempted_at=data["attempted_at"],
                idempotency_key=data["idempotency_key"],
                found_contact=data["found_contact"],
            )
        except DoorstepError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, _("Contact attempt logged."))
            return redirect(case)
    rules = {**selectors.rule_hints(case), **selectors.attempt_cap_hints(case)}
    return render(request, "visits/contact_form.html", {"case": case, "form": form, "rules": rules})


@require_http_methods(["GET", "POST"])
def visit_plan_edit(request, pk: int):
    case = case_for_action(request.user, pk)
    plan = selectors.case_visit_plan(case)
    form = VisitPlanForm(request.POST or None, instance=plan, case=case)
    if request.method == "POST" and form.is_valid():
        try:
            services.visit_plan_save(case=case, actor=request.user, **{f: form.cleaned_data[f] for f in form.fields})
        except DoorstepError as exc:
            form.add_error("planned_at" if getattr(exc, "rule", "") else None, exc.message)
        else:
            messages.success(request, _("Preparation saved."))
            return redirect(case)
    context = {
        "case": case,
        "form": form,
        "plan": plan,
        "editable": case.stage in (Stage.PREPARATION, Stage.VISIT),
        "rules": selectors.rule_hints(case),
    }
    return render(request, "visits/plan_form.html", context)


@require_http_methods(["GET", "POST"])
def visit_create(request, pk: int):
    case = case_for_action(request.user, pk)
    form = VisitForm(request.POST or None, request.FILES or None, case=case, owner=request.user)
    if request.method == "POST":
        if form.is_valid():
            try:
                visit, created = services.visit_log(case=case, actor=request.user, **form.service_kwargs())
            except DoorstepError as exc:
                form.add_error(None, exc.message)
            else:
                form.release_kept()
                if created:
                    messages.success(request, _("Visit logged."))
                else:
                    messages.info(request, _("This visit was already saved; nothing was recorded twice."))
                return redirect(visit)
        # Refused: the photos chosen stay on the server, so the returned form need not ask for them again.
        form.keep_photos()
    plan = selectors.case_visit_plan(case)
    rules = selectors.rule_hints(case, consent=bool(plan and plan.consent_outside_hours))
    context = {"case": case, "form": form, "plan": plan, "rules": rules}
    return render(request, "visits/visit_form.html", context)


@require_GET
def visit_detail(request, pk: int):
    try:
        visit = selectors.visit_for_user(request.user, pk)
    except Visit.DoesNotExist as exc:
        raise Http404 from exc
    return render(request, "visits/visit_detail.html", {"visit": visit, "case": visit.case})


@require_GET
def visit_photo(request, pk: int):
    """Photo evidence, only for users who may see the case; never from a public media URL."""
    try:
        photo = selectors.photo_for_user(request.user, pk)
    except VisitPhoto.DoesNotExist as exc:
        raise Http404 from exc
    try:
        handle = photo.file.open("rb")
    except FileNotFoundError as exc:
        raise Http404 from exc
    response = FileResponse(handle, content_type=photo.content_type)
    response["Content-Disposition"] = f'inline; filename="visit-{photo.visit_id}-photo-{photo.pk}"'
    response["Cache-Control"] = "private, no-store"
    return response
