"""``/today/``: the collector's day in a suggested order; supervisors may look at a team member's day."""

from decimal import Decimal, InvalidOperation

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from collections_app.exceptions import DoorstepError
from collections_app.models import Role, User
from visits import today as services
from visits.selectors_today import START_SESSION_KEY, saved_start, today_route


class RouteActionForm(forms.Form):
    action = forms.ChoiceField(choices=[(a, a) for a in ("up", "down", "reset", "fixed")])
    case = forms.IntegerField(required=False, min_value=1)


def _collector_for(request) -> User:
    """The collector whose day is shown: yourself, or (for a supervisor) a member of your team."""
    user = request.user
    wanted = request.GET.get("collector", "")
    if user.is_collector:
        if wanted and wanted != str(user.pk):
            raise Http404
        return User.objects.select_related("team__branch").get(pk=user.pk)
    if not user.is_supervisor:
        raise PermissionDenied(_("Today's route is the collectors' page."))
    if not wanted.isdigit():
        return None
    collector = (
        User.objects.filter(pk=int(wanted), role=Role.COLLECTOR, team__supervisor=user)
        .select_related("team__branch")
        .first()
    )
    if collector is None:
        raise Http404
    return collector


def _coordinate(value: str, limit: int) -> float | None:
    try:
        number = Decimal(value)
    except (InvalidOperation, TypeError):
        return None
    return float(number) if number.is_finite() and abs(number) <= limit else None


def _start_point(request) -> tuple[float, float] | None:
    """The start the collector gave ("use my location"), kept only in the session, never on the user."""
    if request.GET.get("start") == "clear":
        request.session.pop(START_SESSION_KEY, None)
        return None
    lat, lng = _coordinate(request.GET.get("lat", ""), 90), _coordinate(request.GET.get("lng", ""), 180)
    if lat is not None and lng is not None:
        if request.user.is_collector:
            request.session[START_SESSION_KEY] = [lat, lng]
        return (lat, lng)
    return saved_start(request.session, request.user)


def _team_collectors(user: User):
    return User.objects.filter(role=Role.COLLECTOR, team__supervisor=user).order_by("username")


@require_http_methods(["GET", "POST"])
def today(request):
    collector = _collector_for(request)
    if collector is None:
        return render(request, "visits/today.html", {"route": None, "collectors": _team_collectors(request.user)})
    if request.method == "POST":
        return _change_route(request, collector)
    route = today_route(viewer=request.user, collector=collector, start=_start_point(request), now=timezone.now())
    offline_urls = [reverse("today")]
    for stop in route.stops:
        offline_urls += [reverse("case-detail", args=[stop.case.pk]), reverse("visit-create", args=[stop.case.pk])]
    context = {
        "route": route,
        "editable": collector.pk == request.user.pk,
        "offline_urls": offline_urls,
    }
    return render(request, "visits/today.html", context)


def _change_route(request, collector: User):
    if collector.pk != request.user.pk:
        raise PermissionDenied(_("Only the collector changes their own route."))
    form = RouteActionForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("The route could not be changed."))
        return redirect("today")
    action, case_id = form.cleaned_data["action"], form.cleaned_data["case"]
    route = today_route(viewer=request.user, collector=collector, start=_start_point(request), now=timezone.now())
    kwargs = {"collector": collector, "actor": request.user, "day": route.day}
    try:
        if action == "reset":
            services.route_order_reset(**kwargs)
        elif action == "fixed":
            services.route_fixed_time_toggle(**kwargs, current=route.case_ids, case_id=case_id)
        else:
            services.route_order_move(**kwargs, current=route.case_ids, case_id=case_id, direction=action)
    except DoorstepError as exc:
        messages.error(request, exc.message)
    return redirect(reverse("today") + (f"#stop-{case_id}" if case_id else ""))
