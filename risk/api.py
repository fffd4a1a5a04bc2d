"""``GET /api/v1/risk/accounts/<id>/``: an account's statement history and its current risk with factors."""

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.authentication import SessionAuthentication, TokenAuthentication
from rest_framework.exceptions import NotFound, PermissionDenied
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from collections_app.models import DelinquentAccount
from risk import selectors


class MoneyField(serializers.DecimalField):
    def __init__(self, **kwargs):
        super().__init__(max_digits=18, decimal_places=2, coerce_to_string=True, **kwargs)


class StatementSerializer(serializers.Serializer):
    period_end = serializers.DateField()
    balance = MoneyField()
    amount_paid = MoneyField()
    dpd = serializers.IntegerField()


class FactorSerializer(serializers.Serializer):
    feature = serializers.CharField()
    label = serializers.CharField()
    value = serializers.FloatField()
    contribution = serializers.FloatField()


class AccountRiskSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    account_no = serializers.CharField()
    risk_score = serializers.FloatField(allow_null=True, help_text="Chance of 30+ DPD at the next statement, 0-1.")
    risk_factors = FactorSerializer(many=True)
    model_version = serializers.IntegerField(allow_null=True)
    scored_period_end = serializers.DateField(allow_null=True)
    statements = StatementSerializer(many=True, help_text="The last 12 statements, oldest first.")


class AccountRiskAPIView(APIView):
    authentication_classes = [SessionAuthentication, TokenAuthentication]
    permission_classes = [IsAuthenticated]

    @extend_schema(
        responses={200: AccountRiskSerializer, 403: OpenApiResponse(description="collectors"), 404: None},
        operation_id="risk_account_retrieve",
    )
    def get(self, request, pk: int):
        if not selectors.may_see_warnings(request.user):
            raise PermissionDenied
        account = DelinquentAccount.objects.visible_to(request.user).filter(pk=pk).values("id", "account_no").first()
        if account is None:
            raise NotFound
        risk, chart = selectors.account_panel(account["id"])
        data = {
            **account,
            "risk_score": risk.score if risk else None,
            "risk_factors": [{**f, "label": str(f["label"])} for f in selectors.with_labels(risk.factors)]
            if risk
            else [],
            "model_version": risk.model.version if risk else None,
            "scored_period_end": risk.period_end if risk else None,
            "statements": chart["rows"],
        }
        return Response(AccountRiskSerializer(data).data)
