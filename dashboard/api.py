"""``GET /api/v1/dashboard/``: the dashboard's numbers as JSON, with the page's filters as query params."""

import re

from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from collections_app.api.common import MAX_ID
from collections_app.api.exceptions import InputRefused, UnknownReference
from collections_app.db_routing import replica_reads
from collections_app.models import Stage
from dashboard import selectors
from dashboard.forms import DashboardFilterForm
from dashboard.views import may_view_dashboard


class MoneyField(serializers.DecimalField):
    def __init__(self, **kwargs):
        super().__init__(max_digits=18, decimal_places=2, coerce_to_string=True, **kwargs)


class DashboardPortfolioSerializer(serializers.Serializer):
    accounts = serializers.IntegerField()
    outstanding_balance = MoneyField()
    overdue_amount = MoneyField()


class DashboardAgingSerializer(serializers.Serializer):
    bucket = serializers.CharField()
    accounts = serializers.IntegerField()
    overdue_amount = MoneyField()


class DashboardClassificationSerializer(serializers.Serializer):
    accounts = serializers.IntegerField()
    overdue_amount = MoneyField()

    def get_fields(self):
        # "class" is a Python keyword, so the field is added by name.
        fields = super().get_fields()
        return {"class": serializers.CharField(), **fields}


class DashboardStagesSerializer(serializers.Serializer):
    def get_fields(self):
        return {stage: serializers.IntegerField() for stage in Stage.values}


class DashboardRecoverySerializer(serializers.Serializer):
    recovered_amount = MoneyField()
    recovery_rate = serializers.FloatField()


class DashboardPromisesSerializer(serializers.Serializer):
    due = serializers.IntegerField()
    kept = serializers.IntegerField()
    partially_kept = serializers.IntegerField()
    broken = serializers.IntegerField()
    kept_rate = serializers.FloatField()


class DashboardQualityPointSerializer(serializers.Serializer):
    month = serializers.DateField(help_text=_("The first day of the month."))
    score = serializers.DecimalField(max_digits=4, decimal_places=1, allow_null=True)


class DashboardSatisfactionFields(serializers.Serializer):
    csat = serializers.FloatField(
        allow_null=True, help_text=_("Share of the borrowers' visit ratings that are 4 or 5; null with no rating.")
    )
    responses = serializers.IntegerField(help_text=_("Ratings given in the period."))
    complaints = serializers.IntegerField()
    complaints_per_100_visits = serializers.FloatField(allow_null=True, help_text=_("Null with no visit."))


class DashboardCollectorSerializer(DashboardSatisfactionFields):
    username = serializers.CharField()
    cases = serializers.IntegerField()
    visits = serializers.IntegerField()
    promises = serializers.IntegerField()
    kept_rate = serializers.FloatField()
    recovered_amount = MoneyField()
    quality = serializers.DecimalField(
        max_digits=4,
        decimal_places=1,
        allow_null=True,
        help_text=_("Average visit review score in the period, 0 to 100; null when no visit was reviewed."),
    )
    quality_trend = DashboardQualityPointSerializer(
        many=True, help_text=_("Average visit review score per month, the last six months up to the period's end.")
    )


class DashboardTeamSatisfactionSerializer(DashboardSatisfactionFields):
    team = serializers.CharField()


class DashboardSatisfactionSerializer(DashboardSatisfactionFields):
    teams = DashboardTeamSatisfactionSerializer(many=True)


class DashboardSerializer(serializers.Serializer):
    as_of = serializers.DateField()
    state_taken_at = serializers.DateTimeField(
        allow_null=True,
        help_text=_(
            "When the portfolio, open cases and active plans were taken (the state tally); null when they "
            "were computed live for this request."
        ),
    )
    portfolio = DashboardPortfolioSerializer()
    aging = DashboardAgingSerializer(many=True, help_text=_("One entry per aging bucket, in bucket order."))
    classification = DashboardClassificationSerializer(many=True)
    stages = DashboardStagesSerializer(help_text=_("Open cases per stage; closed: cases closed in the period."))
    recovery = DashboardRecoverySerializer()
    promises = DashboardPromisesSerializer()
    collectors = DashboardCollectorSerializer(many=True)
    satisfaction = DashboardSatisfactionSerializer(
        help_text=_("CSAT and complaints per 100 visits, in all and per team.")
    )


ID_SCHEMA = {"type": "integer", "minimum": 1, "maximum": MAX_ID}
FILTER_PARAMETERS = [
    OpenApiParameter("branch", ID_SCHEMA, description="branch id (intersected with what you may see)"),
    OpenApiParameter("team", ID_SCHEMA, description="team id (intersected with what you may see)"),
    OpenApiParameter("period", OpenApiTypes.STR, enum=["month", "30d", "90d", "custom"]),
    OpenApiParameter("date_from", OpenApiTypes.DATE, description="first day of a custom period"),
    OpenApiParameter("date_to", OpenApiTypes.DATE, description="last day of a custom period"),
]


def _check_shape(params) -> None:
    """400 for a blank filter or an id that is not a whole number from 1 to 2**63 - 1."""
    errors = {p.name: [_("This value may not be blank.")] for p in FILTER_PARAMETERS if params.get(p.name) == ""}
    for name in ("branch", "team"):
        value = params.get(name)
        if value and (not re.fullmatch(r"[1-9]\d{0,18}", value) or int(value) > MAX_ID):
            errors[name] = [_("A whole number from 1 to %(max)s.") % {"max": MAX_ID}]
    if errors:
        raise ValidationError(errors)


def _form_error(form) -> Exception:
    """400 for a malformed value, 404 for a branch or team that does not exist, 409 for a period the
    rules refuse (a custom period without its dates, ending after today, too long)."""
    codes = {field: {e["code"] for e in errors} for field, errors in form.errors.get_json_data().items()}
    messages = {field: [str(m) for m in errors] for field, errors in form.errors.items()}
    fields = {f: m for f, m in messages.items() if f != "__all__"}
    if any(f not in ("branch", "team") or codes[f] != {"invalid_choice"} for f in fields):
        return ValidationError(fields)
    if fields:
        return UnknownReference(fields)
    return InputRefused({"non_field_errors": messages["__all__"]})


class DashboardAPIView(APIView):
    """Managers see every branch, supervisors their own teams and branches; collectors are refused."""

    permission_classes = [IsAuthenticated]
    refuses_on_read = True

    @extend_schema(parameters=FILTER_PARAMETERS, responses=DashboardSerializer, operation_id="dashboard_retrieve")
    @replica_reads
    def get(self, request):
        if not may_view_dashboard(request.user):
            raise PermissionDenied(_("The dashboard is for supervisors and managers."))
        _check_shape(request.query_params)
        form = DashboardFilterForm(request.query_params, user=request.user)
        if not form.is_valid():
            raise _form_error(form)
        data = selectors.dashboard(user=request.user, filters=form.filters())
        return Response(DashboardSerializer(data).data)
