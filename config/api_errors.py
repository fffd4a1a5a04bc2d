"""Under ``/api/`` every error is the documented JSON ``{"detail", "code", "errors"}``, never an HTML page.

DRF already answers its own exceptions (collections_app.api.exceptions). This covers the rest: an
unexpected exception in a view (``ApiErrorMiddleware``, which also runs when DEBUG would show the
technical page) and whatever Django answers through its error handlers (``handler400/403/404/500``
in config.urls: a failing middleware, a killed database connection, an unknown URL). A database
that is unreachable or dropped the connection answers 503 with code ``database_unavailable``,
which a client may retry; everything else is 500 ``server_error``.
"""

import logging
import sys

from django.db import InterfaceError, OperationalError
from django.http import JsonResponse
from django.utils.translation import gettext as _
from django.views import defaults

logger = logging.getLogger("django.request")
API_PREFIX = "/api/"


def is_api(request) -> bool:
    return request.path.startswith(API_PREFIX)


def error_response(status: int, detail: str, code: str) -> JsonResponse:
    response = JsonResponse({"detail": detail, "code": code, "errors": {}}, status=status)
    if status == 503:
        response["Retry-After"] = "5"
    return response


def server_error_response(exc: BaseException | None) -> JsonResponse:
    if isinstance(exc, OperationalError | InterfaceError):
        return error_response(503, _("The database is unavailable; try again shortly."), "database_unavailable")
    return error_response(500, _("Server error: the request was not completed."), "server_error")


class ApiErrorMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if not is_api(request):
            return None
        logger.error("Internal Server Error: %s", request.path, exc_info=exception, extra={"status_code": 500})
        return server_error_response(exception)


def bad_request(request, exception, template_name="400.html"):
    if is_api(request):
        return error_response(400, _("Bad request."), "bad_request")
    return defaults.bad_request(request, exception, template_name)


def permission_denied(request, exception, template_name="403.html"):
    if is_api(request):
        return error_response(403, _("You may not do this."), "permission_denied")
    return defaults.permission_denied(request, exception, template_name)


def page_not_found(request, exception, template_name="404.html"):
    if is_api(request):
        return error_response(404, _("Not found."), "not_found")
    return defaults.page_not_found(request, exception, template_name)


def server_error(request, template_name="500.html"):
    if is_api(request):
        return server_error_response(sys.exc_info()[1])
    return defaults.server_error(request, template_name)
