"""OpenAPI generation: every operation documents the JSON error body it may answer with."""

from django.utils.translation import gettext_lazy as _
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import OpenApiResponse
from rest_framework import serializers


class ErrorSerializer(serializers.Serializer):
    """``{"detail": "...", "code": "...", "errors": {field: [messages]}}``"""

    detail = serializers.CharField(help_text=_("What went wrong, for a person to read."))
    code = serializers.CharField(required=False, help_text=_("A stable machine-readable code."))
    errors = serializers.DictField(
        child=serializers.JSONField(), help_text=_("Messages per input field (empty when not about a field).")
    )


_DESCRIPTIONS = {
    "400": _("Invalid input or a refused action"),
    "401": _("Not authenticated (token authentication)"),
    "403": _("Not authenticated (session) or not permitted"),
    "404": _("Not found or not visible to you"),
    "405": _("Method not allowed"),
    "409": _("Well-formed but refused by a business rule, or changed by someone else meanwhile"),
    "415": _("Unsupported media type"),
}


class DoorstepAutoSchema(AutoSchema):
    def _error_codes(self) -> list[str]:
        codes = ["400", "401", "403", "404", "405"]
        if self.method not in ("GET", "HEAD", "OPTIONS"):
            codes += ["409", "415"]
        elif getattr(self.view, "refuses_on_read", False):
            codes.append("409")  # well-formed filters a rule refuses (e.g. a range whose bounds are reversed)
        return codes

    def _get_response_bodies(self, direction="response"):
        bodies = super()._get_response_bodies(direction)
        if direction != "response":
            return bodies
        for code in self._error_codes():
            if code not in bodies:
                response = OpenApiResponse(ErrorSerializer, description=str(_DESCRIPTIONS[code]))
                bodies[code] = self._get_response_for_code(response, code, direction=direction)
        return bodies
