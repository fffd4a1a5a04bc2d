"""Helpers the API modules of every app share: input validation, the case a write is about, roles."""

from decimal import Decimal

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from rest_framework import serializers
from rest_framework.exceptions import NotFound, PermissionDenied, ValidationError

from collections_app.models import Case
from collections_app.workflow import COLLECTOR, SUPERVISOR, actor_role

MAX_ID = 2**63 - 1


def validated(serializer_class, data, **context) -> dict:
    """The serializer's validated data, or a 400 with the field errors."""
    serializer = serializer_class(data=data, context=context)
    serializer.is_valid(raise_exception=True)
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


class CaseIdField(serializers.IntegerField):
    def __init__(self, **kwargs):
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", MAX_ID)
        kwargs.setdefault("help_text", gettext_lazy("The case's id (a case you may act on)."))
        super().__init__(**kwargs)


def money_field(**kwargs) -> serializers.DecimalField:
    """Money in: at most 2 decimals, answered as a 2-decimal string."""
    kwargs["min_value"] = Decimal(kwargs.get("min_value", 0))
    return serializers.DecimalField(max_digits=16, decimal_places=2, **kwargs)
