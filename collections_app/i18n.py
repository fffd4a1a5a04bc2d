"""Time zone per request: the signed-in user's branch, else ``settings.TIME_ZONE``.

The language itself comes from Django's ``LocaleMiddleware`` (the switcher's cookie, then the
browser's ``Accept-Language``); number and date formats follow it (``collections_app.formats``).
"""

import zoneinfo

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver
from django.utils import timezone
from django.views.decorators.cache import cache_page
from django.views.i18n import JavaScriptCatalog

from collections_app.models import Team

SESSION_KEY = "doorstep_tz"

# ``gettext()``/``interpolate()`` for static/js (``/jsi18n/``). The catalogue changes only with a
# deploy; the server cache is keyed per language.
javascript_catalog = login_not_required(cache_page(24 * 3600)(JavaScriptCatalog.as_view()))


def _zone(name: str | None) -> zoneinfo.ZoneInfo:
    try:
        return zoneinfo.ZoneInfo(name or settings.TIME_ZONE)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        # A mistyped branch time zone must not break every page of its staff.
        return zoneinfo.ZoneInfo(settings.TIME_ZONE)


def user_timezone_name(user) -> str:
    """The IANA name of the time zone ``user`` works in (their team's branch; the default without a team)."""
    team_id = getattr(user, "team_id", None)
    if team_id is None:
        return settings.TIME_ZONE
    name = Team.objects.filter(pk=team_id).values_list("branch__timezone", flat=True).first()
    return _zone(name).key


@receiver(user_logged_in, dispatch_uid="doorstep_branch_timezone")
def _remember_timezone_at_login(sender, request, user, **kwargs):
    # Looked up once at sign-in, so the pages themselves spend no query on it.
    if request is not None and hasattr(request, "session"):
        request.session[SESSION_KEY] = [user.team_id, user_timezone_name(user)]


class BranchTimezoneMiddleware:
    """Activates the branch's time zone for the request, so pages, forms and ``localdate()`` use it.

    The zone is remembered in the session with the team it came from (at sign-in): one query when
    a user signs in or changes team, none on the other requests. A branch whose zone is edited
    takes effect at the next sign-in.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            timezone.activate(_zone(self._cached_name(request, user)))
        else:
            timezone.deactivate()
        try:
            return self.get_response(request)
        finally:
            timezone.deactivate()

    @staticmethod
    def _cached_name(request, user) -> str:
        session = getattr(request, "session", None)
        cached = session.get(SESSION_KEY) if session is not None else None
        if isinstance(cached, list) and len(cached) == 2 and cached[0] == user.team_id:
            return cached[1]
        name = user_timezone_name(user)
        if session is not None:
            session[SESSION_KEY] = [user.team_id, name]
        return name
