"""API shapes. Personal data is masked (ID and phone numbers); nothing here writes."""

from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from collections_app.account_risk import factor_rows
from collections_app.api.common import IdField
from collections_app.models import Case, CloseReason, DelinquentAccount, Stage, User
from collections_app.workflow import transition_targets


class BorrowerSummarySerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    name = serializers.CharField(read_only=True)
    national_id_masked = serializers.CharField(read_only=True)
    phone_masked = serializers.SerializerMethodField()

    @extend_schema_field(OpenApiTypes.STR)
    def get_phone_masked(self, borrower) -> str:
        phones = getattr(borrower, "primary_phones", None)
        if phones is None:
            phones = [p for p in borrower.phones.all() if p.is_primary]
        return phones[0].masked if phones else ""


class RiskFactorSerializer(serializers.Serializer):
    feature = serializers.CharField(read_only=True)
    label = serializers.CharField(read_only=True, help_text=_("The factor in the reader's language."))
    value = serializers.FloatField(read_only=True, help_text=_("The account's value of the factor."))
    contribution = serializers.FloatField(read_only=True, help_text=_("How much it raises the risk (log-odds)."))


class AccountSerializer(serializers.ModelSerializer):
    borrower = BorrowerSummarySerializer(read_only=True)
    risk_score = serializers.FloatField(
        read_only=True,
        allow_null=True,
        min_value=0,
        max_value=1,
        help_text=_("Chance of 30+ days past due at the next statement (0-1); null without a score."),
    )
    risk_factors = serializers.SerializerMethodField()
    branch = serializers.SlugRelatedField(slug_field="code", read_only=True)
    dpd = serializers.SerializerMethodField()
    aging_bucket = serializers.SerializerMethodField()
    loan_class = serializers.SerializerMethodField()

    class Meta:
        model = DelinquentAccount
        fields = [
            "id",
            "account_no",
            "borrower",
            "branch",
            "product",
            "principal",
            "outstanding_balance",
            "overdue_amount",
            "overdue_since",
            "last_payment_date",
            "currency",
            "dpd",
            "aging_bucket",
            "loan_class",
            "has_open_case",
            "broken_promises",
            "risk_score",
            "risk_factors",
            "updated_at",
        ]
        read_only_fields = fields

    def get_dpd(self, account) -> int:
        return account.dpd()

    @extend_schema_field(RiskFactorSerializer(many=True))
    def get_risk_factors(self, account) -> list:
        if getattr(account, "risk_score", None) is None:
            return []
        return RiskFactorSerializer(factor_rows(getattr(account, "risk_factors_raw", None)), many=True).data

    def get_aging_bucket(self, account) -> str:
        return account.aging_bucket()

    def get_loan_class(self, account) -> str:
        return account.loan_class()


class AccountSummarySerializer(serializers.ModelSerializer):
    borrower_name = serializers.CharField(source="borrower.name", read_only=True)
    branch = serializers.SlugRelatedField(slug_field="code", read_only=True)
    dpd = serializers.SerializerMethodField()

    class Meta:
        model = DelinquentAccount
        fields = ["id", "account_no", "borrower_name", "branch", "product", "overdue_amount", "overdue_since", "dpd"]
        read_only_fields = fields

    def get_dpd(self, account) -> int:
        return account.dpd()


class UserSummarySerializer(serializers.ModelSerializer):
    class Meta:
        model = User
        fields = ["id", "username"]
        read_only_fields = fields


class TransitionOptionSerializer(serializers.Serializer):
    target = serializers.ChoiceField(choices=Stage.choices)
    close_reason = serializers.CharField(allow_blank=True)
    label = serializers.CharField()


class CaseSerializer(serializers.ModelSerializer):
    account = AccountSummarySerializer(read_only=True)
    team = serializers.StringRelatedField(read_only=True)
    team_id = serializers.IntegerField(read_only=True)
    assigned_collector = UserSummarySerializer(read_only=True, allow_null=True)
    priority_parts = serializers.DictField(child=serializers.CharField(), read_only=True)
    # Declared: read-only model fields lose allow_blank, and a case that is not closed has no reason.
    close_reason = serializers.ChoiceField(choices=CloseReason.choices, allow_blank=True, read_only=True)
    allowed_transitions = serializers.SerializerMethodField()

    class Meta:
        model = Case
        fields = [
            "id",
            "account",
            "team",
            "team_id",
            "stage",
            "assigned_collector",
            "priority_score",
            "priority_parts",
            "overdue_amount_at_open",
            "opened_at",
            "stage_changed_at",
            "closed_at",
            "close_reason",
            "next_action",
            "next_action_due",
            "cured_candidate",
            "allowed_transitions",
        ]
        read_only_fields = fields

    @extend_schema_field(TransitionOptionSerializer(many=True))
    def get_allowed_transitions(self, case) -> list:
        request = self.context.get("request")
        if request is None:
            return []
        return [{**t, "label": self._label(case.stage, t)} for t in transition_targets(case, request.user)]

    def _label(self, source: str, option: dict) -> str:
        # One language per request: each move's label (e.g. into visit: "Revisit" from follow-up, "Back to
        # visit" from negotiation) is translated once for the whole list, not once per case.
        labels = self.context.setdefault("transition_labels", {})
        key = (source, option["target"], option["close_reason"])
        if key not in labels:
            labels[key] = str(option["label"])
        return labels[key]


class TokenRequestSerializer(serializers.Serializer):
    username = serializers.CharField(min_length=1, max_length=150, write_only=True, trim_whitespace=False)
    password = serializers.CharField(min_length=1, max_length=128, write_only=True, trim_whitespace=False)


class TokenSerializer(serializers.Serializer):
    token = serializers.CharField(read_only=True)


class CaseOpenSerializer(serializers.Serializer):
    account_ids = serializers.ListField(child=IdField(), min_length=1, max_length=500)
    team = IdField(required=False, help_text=_("Team id; default: your team in the branch."))


class CaseAssignSerializer(serializers.Serializer):
    collector = IdField(help_text=_("The collector's user id."))
    reason = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")


class CaseTransitionSerializer(serializers.Serializer):
    target = serializers.ChoiceField(choices=Stage.choices)
    close_reason = serializers.ChoiceField(choices=CloseReason.choices, required=False, allow_blank=True, default="")
    note = serializers.CharField(max_length=1000, required=False, allow_blank=True, default="")
