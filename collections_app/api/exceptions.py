"""JSON errors for the API: ``{"detail": "...", "code": "...", "errors": {field: [...]}}``, never a 500 on bad input."""

from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.translation import gettext as _
from rest_framework import status
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.serializers import as_serializer_error
from rest_framework.views import exception_handler as drf_exception_handler

from collections_app.exceptions import CaseRuleError, DoorstepError, NotPermitted, StaleObject


def _doorstep_status(exc: DoorstepError) -> int:
    """A conflict with the case's current state (moved or closed meanwhile) is 409; a rule's refusal of the
    request itself is 400; both carry the rule's name as ``code``."""
    if isinstance(exc, StaleObject) or (isinstance(exc, CaseRuleError) and exc.conflict):
        return status.HTTP_409_CONFLICT
    if isinstance(exc, NotPermitted):
        return status.HTTP_403_FORBIDDEN
    return status.HTTP_400_BAD_REQUEST


def _first_message(errors) -> str:
    while isinstance(errors, dict | list) and errors:
        errors = next(iter(errors.values())) if isinstance(errors, dict) else errors[0]
    return str(errors) if errors else str(_("Invalid input."))


def exception_handler(exc, context):
    if isinstance(exc, DoorstepError):
        body = {"detail": str(exc.message), "code": exc.code, "errors": {}}
        return Response(body, status=_doorstep_status(exc))
    if isinstance(exc, DjangoValidationError):
        exc = ValidationError(as_serializer_error(exc))
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    data = response.data
    if isinstance(exc, ValidationError):
        errors = data if isinstance(data, dict) else {"non_field_errors": data}
        response.data = {"detail": _first_message(errors), "code": "invalid", "errors": errors}
    else:
        detail = data.get("detail", "") if isinstance(data, dict) else data
        code = getattr(detail, "code", "") or getattr(exc, "default_code", "error")
        response.data = {"detail": str(detail), "code": str(code), "errors": {}}
    return response
