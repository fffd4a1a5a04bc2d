"""JSON errors for the API, one format for every status: ``{"detail": "...", "code": "...", "errors": {field: [...]}}``.

400: the input does not match the schema (a bad field, a bad filter value). 409: the input is well formed
but a business rule refuses it (a closed case, a waiver above the limit) or the object changed meanwhile.
Never a 500 on bad input.
"""

from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from rest_framework import status
from rest_framework.exceptions import APIException, ValidationError
from rest_framework.response import Response
from rest_framework.serializers import as_serializer_error
from rest_framework.views import exception_handler as drf_exception_handler

from collections_app.exceptions import DoorstepError, NotPermitted


class FieldErrors(APIException):
    """An error about named input fields, in the common format with its ``errors``."""

    def __init__(self, errors: dict):
        self.errors = {
            field: [str(m) for m in (msgs if isinstance(msgs, list | tuple) else [msgs])]
            for field, msgs in errors.items()
        }
        super().__init__(detail=_first_message(self.errors))


class InputRefused(FieldErrors):
    """Well-formed input a business rule refuses (409)."""

    status_code = status.HTTP_409_CONFLICT
    default_code = "refused"
    default_detail = gettext_lazy("Refused by a business rule.")


class UnknownReference(FieldErrors):
    """A well-formed id in the input that names nothing you may see (404)."""

    status_code = status.HTTP_404_NOT_FOUND
    default_code = "not_found"
    default_detail = gettext_lazy("Not found.")


def _doorstep_status(exc: DoorstepError) -> int:
    if getattr(exc, "status_code", None):  # e.g. a full disk: 507, not the caller's fault
        return exc.status_code
    if isinstance(exc, NotPermitted):
        return status.HTTP_403_FORBIDDEN
    # A rule refusal or a lost race (StaleObject): the input was well formed.
    return status.HTTP_409_CONFLICT


def _first_message(errors) -> str:
    while isinstance(errors, dict | list) and errors:
        errors = next(iter(errors.values())) if isinstance(errors, dict) else errors[0]
    return str(errors) if errors else str(_("Invalid input."))


def exception_handler(exc, context):
    if isinstance(exc, DoorstepError):
        body = {"detail": str(exc.message), "code": exc.code, "errors": {}}
        return Response(body, status=_doorstep_status(exc))
    if isinstance(exc, DjangoValidationError):
        # Input validation happens in serializers (their errors arrive as DRF's); a Django one comes from a
        # service or a model's rules, after the input was found well formed.
        exc = InputRefused(as_serializer_error(exc))
    if isinstance(exc, FieldErrors):
        return Response(
            {"detail": str(exc.detail), "code": exc.default_code, "errors": exc.errors}, status=exc.status_code
        )
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
