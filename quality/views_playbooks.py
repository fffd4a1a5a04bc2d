"""Playbook pages: supervisors write them; the collector records how one was used on a case."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from collections_app.exceptions import DoorstepError
from collections_app.selectors.cases import case_for_user
from quality import playbooks
from quality.forms import PlaybookForm
from quality.models import Playbook


def _require_writer(user) -> None:
    if not (user.is_supervisor or user.sees_everything):
        raise PermissionDenied(_("Supervisors write playbooks."))


@require_GET
def playbook_list(request):
    _require_writer(request.user)
    rows = list(Playbook.objects.select_related("updated_by").order_by("overdue_reason", "attitude", "id"))
    for playbook in rows:
        playbook.text = playbooks.localised(playbook)
    return render(request, "quality/playbook_list.html", {"playbooks": rows})


@require_http_methods(["GET", "POST"])
def playbook_edit(request, pk: int | None = None):
    _require_writer(request.user)
    instance = get_object_or_404(Playbook, pk=pk) if pk else None
    form = PlaybookForm(request.POST or None, instance=instance)
    if request.method == "POST" and form.is_valid():
        playbooks.playbook_save(actor=request.user, playbook=form.save(commit=False))
        messages.success(request, _("Playbook saved."))
        return redirect("playbook-list")
    return render(request, "quality/playbook_form.html", {"form": form, "playbook": instance})


@require_POST
def playbook_use(request, pk: int, playbook_id: int):
    case = case_for_user(request.user, pk)
    playbook = get_object_or_404(Playbook, pk=playbook_id, active=True)
    points = [int(p) for p in request.POST.getlist("points") if p.isdigit()]
    try:
        playbooks.playbook_use_record(
            case=case, actor=request.user, playbook=playbook, points=points, steps=request.POST.getlist("steps")
        )
    except DoorstepError as exc:
        if exc.code == "NotPermitted":
            raise PermissionDenied(exc.message) from exc
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Saved which points you used."))
    return redirect(f"{case.get_absolute_url()}#playbook")
