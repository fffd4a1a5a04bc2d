"""Session limits, cache headers, refused-access logging and the PII reveal.

Middlewares (see ``settings.MIDDLEWARE`` for their order):

- ``SessionLimitMiddleware`` ends a session 12 hours after login whatever the activity (the
  30-minute idle limit is the session's age, renewed by activity). The session is written at most
  once a minute (its last-activity stamp, ``ACTIVE_AT``), not on every request: a write is an
  UPDATE and a commit on every page. So the idle limit counts from the last write and has a
  one-minute granularity: a session ends between 29 and 30 minutes after the last request. On the
  way to the login page, a POST returns afterwards to the page its form was on, and an htmx
  request gets ``HX-Redirect`` so the whole page goes to the login, not a fragment.
- ``NoStoreMiddleware`` marks every response to a signed-in user ``Cache-Control: no-store``:
  those pages carry personal data and must not stay in a shared phone's browser cache.
- ``RequestSizeLimitMiddleware`` answers 413 to a request whose declared body (``Content-Length``)
  is larger than the path allows (``DOORSTEP_MAX_REQUEST_BYTES``; the import upload
  ``DOORSTEP_IMPORT_MAX_BYTES``), before anything reads it: an oversized upload never reaches a
  temporary file, the login page included. A body sent without a length is left to the server in
  front (its own body limit).
- ``RefusedAccessMiddleware`` writes an ``access.refused`` audit row for a 403, or a 404 on an
  object URL, answered to a signed-in user. It only looks at the status code, so a 200 costs
  nothing.
"""

import time
from types import SimpleNamespace

from axes.signals import user_locked_out
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.signals import user_logged_in
from django.contrib.auth.views import redirect_to_login
from django.dispatch import receiver
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, render, resolve_url
from django.template.defaultfilters import filesizeformat
from django.urls import reverse
from django.utils.cache import add_never_cache_headers
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _

from collections_app.models import Borrower, BorrowerPhone, Case
from collections_app.services.audit import audit_log

LOGIN_AT = "doorstep_login_at"
# Last time the session was written for activity; renewing it renews the idle expiry.
ACTIVE_AT = "doorstep_active_at"
ACTIVITY_WRITE_SECONDS = 60
_REFUSED = {403, 404}


@receiver(user_logged_in, dispatch_uid="doorstep_session_login_time")
def _remember_login_time(sender, request, user, **kwargs):
    if request is not None and hasattr(request, "session"):
        now = int(time.time())
        request.session[LOGIN_AT] = now
        request.session[ACTIVE_AT] = now


@receiver(user_locked_out, dispatch_uid="doorstep_audit_lockout")
def _audit_lockout(sender, request, username, ip_address, **kwargs):
    # Axes also signals each attempt made during a lockout; those carry no failure count.
    if request is not None and getattr(request, "axes_failures_since_start", None) is None:
        return
    audit_log(
        actor=None,
        action="auth.lockout",
        object_type="auth.username",
        changes={"username": (username or "")[:150]},
    )


def _is_login_redirect(request, response) -> bool:
    # Views open to anonymous users go where they were told: the language switch on the login
    # page redirects back to it and must keep its language cookie.
    match = getattr(request, "resolver_match", None)
    if match is not None and not getattr(match.func, "login_required", True):
        return False
    return response.status_code == 302 and response.get("Location", "").startswith(resolve_url(settings.LOGIN_URL))


def _htmx_redirect(location: str) -> HttpResponse:
    # htmx follows a 302 inside the XHR and would swap the login page into a fragment.
    response = HttpResponse(status=204)
    response["HX-Redirect"] = location
    return response


def _renew_idle_limit(session, now: int) -> None:
    # Setting the stamp marks the session modified, so SessionMiddleware saves it with a new
    # expiry (SESSION_COOKIE_AGE from now) and sends the cookie again; in between, nothing is
    # written. A stamp in the future (a clock set back) is renewed too.
    active_at = session.get(ACTIVE_AT)
    if active_at is None or not 0 <= now - int(active_at) < ACTIVITY_WRITE_SECONDS:
        session[ACTIVE_AT] = now


class SessionLimitMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            now = int(time.time())
            login_at = request.session.get(LOGIN_AT)
            if login_at is None:
                request.session[LOGIN_AT] = now
            elif now - int(login_at) > settings.DOORSTEP_SESSION_MAX_AGE:
                # Carry on as an anonymous request: pages send it to the login (below), the API
                # answers 401/403 itself.
                logout(request)
                messages.info(request, _("Your session has reached its time limit. Please log in again."))
            else:
                _renew_idle_limit(request.session, now)
        response = self.get_response(request)
        if _is_login_redirect(request, response):
            return self._to_login(request, response)
        return response

    @staticmethod
    def _to_login(request, response):
        if request.method != "GET":
            # The POST is lost; after logging in, come back to the page the form was on, where
            # static/js/drafts.js restores what was typed.
            referer = request.headers.get("Referer", "")
            safe = url_has_allowed_host_and_scheme(
                referer, allowed_hosts={request.get_host()}, require_https=request.is_secure()
            )
            response = redirect_to_login(referer if safe else resolve_url(settings.LOGIN_REDIRECT_URL))
        if request.headers.get("HX-Request"):
            return _htmx_redirect(response["Location"])
        return response


def body_limit(path: str) -> int:
    """The largest body a request to ``path`` may carry."""
    if path in (reverse("import-list"), reverse("api:import-list")):
        return settings.DOORSTEP_IMPORT_MAX_BYTES
    return settings.DOORSTEP_MAX_REQUEST_BYTES


class RequestSizeLimitMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        try:
            declared = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            declared = 0  # Django reads a malformed length as no body
        limit = body_limit(request.path_info)
        if declared > limit:
            return self._too_large(request, declared, limit)
        return self.get_response(request)

    @staticmethod
    def _too_large(request, declared: int, limit: int) -> HttpResponse:
        message = _("The upload is %(size)s; at most %(max)s can be sent here.") % {
            "size": filesizeformat(declared),
            "max": filesizeformat(limit),
        }
        if request.path_info.startswith("/api/"):
            return JsonResponse({"detail": message, "code": "too_large"}, status=413)
        return render(request, "413.html", {"message": message}, status=413)


class NoStoreMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and not request.path.startswith(settings.STATIC_URL):
            add_never_cache_headers(response)
        return response


class RefusedAccessMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if response.status_code in _REFUSED:
            self._record(request, response.status_code)
        return response

    @staticmethod
    def _record(request, status: int) -> None:
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return
        match = getattr(request, "resolver_match", None)
        if match is None or (status == 404 and not match.kwargs):
            return  # an unknown URL or a page, not an object: nothing was refused
        # The URL's first argument is the object's id (e.g. /cases/<pk>/); the view name is its type.
        target = SimpleNamespace(pk=str(next(iter(match.kwargs.values()), ""))[:40])
        audit_log(
            actor=user,
            action="access.refused",
            obj=target,
            object_type=(match.view_name or "")[:60],
            changes={"path": request.path[:300], "method": request.method, "status": status},
        )


# --- Reveal -------------------------------------------------------------------------------------


def pii_reveal(*, actor, borrower_id: int, field: str) -> str:
    """The clear value of a borrower's national ID or one phone, audited.

    Allowed only when the borrower has an account with a case the actor may see; otherwise
    ``Http404`` (no hint that the borrower exists).
    """
    if not Case.objects.visible_to(actor).filter(account__borrower_id=borrower_id).exists():
        raise Http404
    borrower = get_object_or_404(Borrower, pk=borrower_id)
    if field == "national_id":
        value, target, detail = borrower.national_id, borrower, {"field": "national_id"}
    elif field.startswith("phone:") and field[6:].isdigit():
        phone = get_object_or_404(BorrowerPhone, pk=int(field[6:]), borrower=borrower)
        value, target, detail = phone.number, phone, {"field": "phone", "borrower": borrower.pk}
    else:
        raise Http404
    audit_log(actor=actor, action="pii.reveal", obj=target, changes=detail)
    return value


# The longest user name a Doorstep user can have (``AbstractUser.username``).
USERNAME_MAX_LENGTH = 150


def axes_username(request, credentials: dict | None = None) -> str | None:
    """The user name django-axes records for a login attempt (``AXES_USERNAME_CALLABLE``).

    Cut to the longest a user name can be: a longer one names nobody, and axes' attempt table holds
    at most 255 characters, so on PostgreSQL a 20,000-character "user name" was a 500, not a refusal.
    """
    source = credentials or getattr(request, "data", request.POST)
    username = source.get("username") if hasattr(source, "get") else None
    if username is None:
        return None
    return str(username).replace("\x00", "")[:USERNAME_MAX_LENGTH]
