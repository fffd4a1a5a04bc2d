import re

from django.utils.translation import gettext as _
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import CursorPagination


def strict_page_size(request, *, default: int, maximum: int, name: str = "page_size") -> int:
    """The page size asked for, or ``default``; anything but a whole number from 1 to ``maximum`` is a 400."""
    raw = request.query_params.get(name)
    if raw is None:
        return default
    if not re.fullmatch(r"[1-9]\d{0,5}", raw) or int(raw) > maximum:
        raise ValidationError({name: [_("A whole number from 1 to %(max)s.") % {"max": maximum}]})
    return int(raw)


class DoorstepCursorPagination(CursorPagination):
    """Stable under inserts: a cursor on the id, newest first."""

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200
    ordering = "-id"

    def get_page_size(self, request):
        return strict_page_size(request, default=self.page_size, maximum=self.max_page_size)

    def get_schema_operation_parameters(self, view):
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            if parameter["name"] == self.page_size_query_param:
                parameter["schema"] = {"type": "integer", "minimum": 1, "maximum": self.max_page_size}
        return parameters
