"""``GET /api/v1/dashboard/``: the dashboard's numbers as JSON, with the page's filters as query params."""

from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.authentication import SessionAuthentication
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from collections_app.models import Stage
from credentials.authentication import BearerTokenAuthentication
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


class DashboardCollectorSerializer(serializers.Serializer):
    username = serializers.CharField()
    cases = serializers.IntegerField()
    visits = serializers.IntegerField()
    promises = serializers.IntegerField()
    kept_rate = serializers.FloatField()
    recovered_amount = MoneyField()


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


FILTER_PARAMETERS = [
    OpenApiParameter("branch", OpenApiTypes.INT, description="branch id (intersected with what you may see)"),
    OpenApiParameter("team", OpenApiTypes.INT, description="team id (intersected with what you may see)"),
    OpenApiParameter("period", OpenApiTypes.STR, enum=["month", "30d", "90d", "custom"]),
    OpenApiParameter("date_from", OpenApiTypes.DATE, description="first day of a custom period"),
    OpenApiParameter("date_to", OpenApiTypes.DATE, description="last day of a custom period"),
]


class DashboardAPIView(APIView):
    """Managers see every branch, supervisors their own teams and branches; collectors are refused."""

    authentication_classes = [BearerTokenAuthentication, SessionAuthentication]
    permission_classes = [IsAuthenticated]

    @extend_schema(parameters=FILTER_PARAMETERS, responses=DashboardSerializer, operation_id="dashboard_retrieve")
    def get(self, request):
        if not may_view_dashboard(request.user):
            raise PermissionDenied(_("The dashboard is for supervisors and managers."))
        form = DashboardFilterForm(request.query_params, user=request.user)
        if not form.is_valid():
            raise ValidationError(form.errors.get_json_data())
        data = selectors.dashboard(user=request.user, filters=form.filters())
        return Response(DashboardSerializer(data).data)
