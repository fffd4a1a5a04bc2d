"""Helpers the API modules of every app share: input validation, the case a write is about, roles, and
the input fields whose OpenAPI schema is generated from the very rule that validates them."""

import re
from decimal import Decimal

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.drainage import set_override
from rest_framework import serializers
from rest_framework.exceptions import NotFound, PermissionDenied, ValidationError

from collections_app.api.exceptions import InputRefused
from collections_app.models import Case
from collections_app.workflow import COLLECTOR, SUPERVISOR, actor_role

MAX_ID = 2**63 - 1
# Money in the API: a string, at most 14 digits before the point and 2 after, no sign, no leading zeros.
MONEY_PATTERN = r"^(0|[1-9]\d{0,13})(\.\d{1,2})?$"
POSITIVE_MONEY_PATTERN = r"^([1-9]\d{0,13}(\.\d{1,2})?|0\.(0[1-9]|[1-9]\d?))$"
LATITUDE_PATTERN = r"^-?(90(\.0{1,6})?|[1-8]?\d(\.\d{1,6})?)$"
LONGITUDE_PATTERN = r"^-?(180(\.0{1,6})?|(1[0-7]\d|[1-9]?\d)(\.\d{1,6})?)$"
ACCURACY_PATTERN = r"^(0|[1-9]\d{0,7})(\.\d)?$"


def validated(serializer_class, data, **context) -> dict:
    """The serializer's validated data, or a 400 with the field errors; then its business rules
    (``rule_errors``), refused with a 409 when the input is well formed but the rules say no."""
    serializer = serializer_class(data=data, context=context)
    serializer.is_valid(raise_exception=True)
    errors = serializer.rule_errors(serializer.validated_data) if hasattr(serializer, "rule_errors") else {}
    if errors:
        raise InputRefused(errors)
    return serializer.validated_data


def case_for_write(user, pk: int, *, roles=(COLLECTOR, SUPERVISOR)) -> Case:
    """The case named in a request body, as the pages find it: not visible → 404, visible but not
    the user's to change (a manager reads only) → 403."""
    case = (
        Case.objects.visible_to(user)
        .select_related("account__borrower", "account__branch", "team__supervisor", "assigned_collector")
        .filter(pk=pk)
        .first()
    )
    if case is None:
        raise NotFound(_("No such case, or not one of yours."))
    if actor_role(case, user) not in roles:
        raise PermissionDenied(_("You may read this case but not change it."))
    return case


IDEMPOTENCY_HEADER = "Idempotency-Key"


def idempotency_key(request, data: dict) -> str | None:
    """The client's key for a create it may retry: the ``Idempotency-Key`` header or the body's
    ``idempotency_key`` (they must agree when both are sent). The service decides 201 or 200 by it."""
    body = (data.pop("idempotency_key", "") or "").strip()
    header = request.headers.get(IDEMPOTENCY_HEADER, "").strip()
    if len(header) > 64:
        raise ValidationError({"idempotency_key": [_("An idempotency key has at most 64 characters.")]})
    if body and header and body != header:
        raise ValidationError({"idempotency_key": [_("The Idempotency-Key header and the body's key differ.")]})
    return body or header or None


def created_status(created: bool) -> int:
    return 201 if created else 200


class IdField(serializers.IntegerField):
    """A database id: a JSON integer from 1 to 2**63 - 1 (a numeric string only in forms)."""

    def __init__(self, **kwargs):
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", MAX_ID)
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        if isinstance(data, bool | float):
            self.fail("invalid")
        return super().to_internal_value(data)


class CaseIdField(IdField):
    def __init__(self, **kwargs):
        kwargs.setdefault("help_text", gettext_lazy("The case's id (a case you may act on)."))
        super().__init__(**kwargs)


class PatternDecimalField(serializers.DecimalField):
    """A decimal sent as a string that must match ``pattern``; the schema states the same pattern."""

    default_error_messages = {"format": gettext_lazy("Enter a number such as 1234.56 (no sign, no spaces).")}

    def __init__(self, *, pattern: str, **kwargs):
        super().__init__(**kwargs)
        self.pattern = pattern
        set_override(self, "field", {"type": "string", "format": "decimal", "pattern": pattern})

    def to_internal_value(self, data):
        if not isinstance(data, str) or not re.fullmatch(self.pattern, data):
            self.fail("format")
        return super().to_internal_value(data)


def money_field(**kwargs) -> serializers.DecimalField:
    """Money in: a string with at most 2 decimals (more than zero with ``positive``), answered as a string."""
    positive = Decimal(kwargs.pop("min_value", 0)) > 0
    return PatternDecimalField(
        pattern=POSITIVE_MONEY_PATTERN if positive else MONEY_PATTERN, max_digits=16, decimal_places=2, **kwargs
    )


class MustBeTrueField(serializers.BooleanField):
    """A confirmation: only ``true`` is accepted, and the schema says so (``enum: [true]``)."""

    def __init__(self, *, message, **kwargs):
        super().__init__(**kwargs)
        self.message = message
        set_override(self, "field", {"type": "boolean", "enum": [True]})

    def to_internal_value(self, data):
        if data is not True and data not in ("true", "True"):
            raise serializers.ValidationError(self.message)
        return True
