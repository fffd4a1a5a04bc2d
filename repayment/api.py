"""Promises, plans (with maker-checker approval) and payments behind JSON: the repayment services,
scoped like the pages through ``Case.objects.visible_to``."""

from decimal import Decimal

import django_filters
from django.db.models import Prefetch
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, serializers
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.response import Response

from collections_app.api.common import (
    CaseIdField,
    case_for_write,
    created_status,
    idempotency_key,
    money_field,
    validated,
)
from collections_app.api.filters import IdFilter, StrictFilterSet
from collections_app.api.serializers import UserSummarySerializer
from collections_app.api.views import DoorstepViewSet
from collections_app.models import Case
from collections_app.workflow import SUPERVISOR, actor_role
from repayment import selectors, services
from repayment.models import Instalment, Payment, PaymentAllocation, PromiseToPay, RepaymentPlan
from repayment.schedule import MAX_INSTALMENTS


def _visible(model, user):
    return model.objects.filter(case__in=Case.objects.visible_to(user))


IDEMPOTENCY_HELP = _("Optional, made once per form by the client: sending it again returns the first record (200).")


def _create_responses(serializer):
    return {201: serializer, 200: OpenApiResponse(serializer, description="Already recorded with this idempotency key")}


# --- promises ------------------------------------------------------------------------------------


class PromiseSerializer(serializers.ModelSerializer):
    created_by = UserSummarySerializer(read_only=True)
    remaining = serializers.DecimalField(max_digits=16, decimal_places=2, read_only=True)
    note = serializers.CharField(allow_blank=True, read_only=True)

    class Meta:
        model = PromiseToPay
        fields = [
            "id",
            "case",
            "amount",
            "due_date",
            "grace_days",
            "paid_amount",
            "remaining",
            "status",
            "note",
            "created_by",
            "created_at",
            "resolved_at",
        ]
        read_only_fields = fields


class PromiseCreateSerializer(serializers.Serializer):
    case = CaseIdField()
    amount = money_field(min_value="0.01")
    due_date = serializers.DateField()
    grace_days = serializers.IntegerField(
        min_value=0, max_value=30, required=False, help_text=_("Absent: the default.")
    )
    note = serializers.CharField(max_length=500, allow_blank=True, default="")
    idempotency_key = serializers.CharField(max_length=64, required=False, allow_blank=True, help_text=IDEMPOTENCY_HELP)


class PromiseFilter(StrictFilterSet):
    case = IdFilter(field_name="case_id")
    status = django_filters.MultipleChoiceFilter(choices=PromiseToPay.Status.choices)
    due_from = django_filters.DateFilter(field_name="due_date", lookup_expr="gte")
    due_to = django_filters.DateFilter(field_name="due_date", lookup_expr="lte")

    class Meta:
        model = PromiseToPay
        fields = ["case", "status"]


@extend_schema_view(
    create=extend_schema(
        summary="Record a promise to pay",
        request=PromiseCreateSerializer,
        responses=_create_responses(PromiseSerializer),
        filters=False,
    )
)
class PromiseViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, DoorstepViewSet):
    """Promises to pay on the cases the user may see; the collector or supervisor of a case records them."""

    serializer_class = PromiseSerializer
    filterset_class = PromiseFilter

    def get_queryset(self):
        return _visible(PromiseToPay, self.request.user).select_related("created_by")

    def create(self, request, *args, **kwargs):
        data = dict(validated(PromiseCreateSerializer, request.data))
        case = case_for_write(request.user, data.pop("case"))
        key = idempotency_key(request, data)
        promise, created = services.promise_create_once(case=case, actor=request.user, idempotency_key=key, **data)
        body = self.get_serializer(self.get_queryset().get(pk=promise.pk)).data
        return Response(body, status=created_status(created))


# --- plans ---------------------------------------------------------------------------------------


class InstalmentSerializer(serializers.ModelSerializer):
    remaining = serializers.DecimalField(max_digits=16, decimal_places=2, read_only=True)

    class Meta:
        model = Instalment
        fields = ["id", "seq", "due_date", "amount", "paid_amount", "remaining", "status", "resolved_at"]
        read_only_fields = fields


class PlanSerializer(serializers.ModelSerializer):
    created_by = UserSummarySerializer(read_only=True)
    decided_by = UserSummarySerializer(read_only=True, allow_null=True)
    instalments = InstalmentSerializer(many=True, read_only=True)
    approval_reasons = serializers.ListField(child=serializers.CharField(), read_only=True)
    waiver_percent = serializers.DecimalField(max_digits=7, decimal_places=2, read_only=True)
    note = serializers.CharField(allow_blank=True, read_only=True)
    decision_note = serializers.CharField(allow_blank=True, read_only=True)
    can_decide = serializers.SerializerMethodField(
        help_text=_("Whether you may approve or reject it (its team's supervisor, not its proposer).")
    )

    class Meta:
        model = RepaymentPlan
        fields = [
            "id",
            "case",
            "kind",
            "status",
            "base_amount",
            "waiver_amount",
            "waiver_percent",
            "amount",
            "instalment_count",
            "deferral_months",
            "first_due_date",
            "grace_days",
            "requires_approval",
            "approval_reasons",
            "note",
            "created_by",
            "created_at",
            "decided_by",
            "decided_at",
            "decision_note",
            "activated_at",
            "closed_at",
            "instalments",
            "can_decide",
        ]
        read_only_fields = fields

    def get_can_decide(self, plan) -> bool:
        request = self.context.get("request")
        return bool(request) and selectors.can_decide(plan, request.user)


class PlanCreateSerializer(serializers.Serializer):
    case = CaseIdField()
    kind = serializers.ChoiceField(choices=RepaymentPlan.Kind.choices)
    base_amount = money_field(min_value="0.01", help_text=_("The debt the plan covers."))
    waiver_amount = money_field(default=Decimal("0.00"), help_text=_("Settlement only."))
    instalment_count = serializers.IntegerField(min_value=1, max_value=MAX_INSTALMENTS, default=1)
    deferral_months = serializers.IntegerField(min_value=0, max_value=24, default=0, help_text=_("Deferral only."))
    first_due_date = serializers.DateField()
    note = serializers.CharField(max_length=500, allow_blank=True, default="")
    idempotency_key = serializers.CharField(max_length=64, required=False, allow_blank=True, help_text=IDEMPOTENCY_HELP)


class PlanDecisionSerializer(serializers.Serializer):
    note = serializers.CharField(
        max_length=500, allow_blank=True, default="", help_text=_("Required to reject: say why.")
    )


class PlanFilter(StrictFilterSet):
    case = IdFilter(field_name="case_id")
    status = django_filters.MultipleChoiceFilter(choices=RepaymentPlan.Status.choices)
    kind = django_filters.ChoiceFilter(choices=RepaymentPlan.Kind.choices)
    requires_approval = django_filters.BooleanFilter()

    class Meta:
        model = RepaymentPlan
        fields = ["case", "status", "kind", "requires_approval"]


@extend_schema_view(
    create=extend_schema(
        summary="Propose a repayment plan",
        description=(
            "Creates the plan with its schedule and submits it: it becomes active at once, or waits for the "
            "team supervisor's approval when its waiver or term is beyond the thresholds."
        ),
        request=PlanCreateSerializer,
        responses=_create_responses(PlanSerializer),
        filters=False,
    ),
    approve=extend_schema(summary="Approve a plan (supervisor, not its proposer)", request=PlanDecisionSerializer),
    reject=extend_schema(summary="Reject a plan (supervisor, not its proposer)", request=PlanDecisionSerializer),
)
class PlanViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, DoorstepViewSet):
    """Repayment plans on the cases the user may see, with their instalments."""

    serializer_class = PlanSerializer
    filterset_class = PlanFilter

    def get_queryset(self):
        return (
            _visible(RepaymentPlan, self.request.user)
            .select_related("created_by", "decided_by", "case__team")
            .prefetch_related(Prefetch("instalments", queryset=Instalment.objects.order_by("seq")))
        )

    def create(self, request, *args, **kwargs):
        data = dict(validated(PlanCreateSerializer, request.data))
        case = case_for_write(request.user, data.pop("case"))
        key = idempotency_key(request, data)
        plan, created = services.plan_propose_once(case=case, actor=request.user, idempotency_key=key, **data)
        return Response(self.get_serializer(self.get_queryset().get(pk=plan.pk)).data, status=created_status(created))

    def _decide(self, decide):
        plan = self.get_object()
        if actor_role(plan.case, self.request.user) != SUPERVISOR:
            raise PermissionDenied(_("Only the supervisor of the case's team can decide on a plan."))
        data = validated(PlanDecisionSerializer, self.request.data)
        decide(plan=plan, actor=self.request.user, note=data["note"])
        return Response(self.get_serializer(self.get_object()).data)

    @action(detail=True, methods=["post"])
    def approve(self, request, pk=None):
        return self._decide(services.plan_approve)

    @action(detail=True, methods=["post"])
    def reject(self, request, pk=None):
        return self._decide(services.plan_reject)


# --- payments ------------------------------------------------------------------------------------


class AllocationSerializer(serializers.ModelSerializer):
    class Meta:
        model = PaymentAllocation
        fields = ["promise", "instalment", "amount"]
        read_only_fields = fields


class PaymentSerializer(serializers.ModelSerializer):
    recorded_by = UserSummarySerializer(read_only=True)
    allocations = AllocationSerializer(many=True, read_only=True)
    reference = serializers.CharField(allow_blank=True, read_only=True)

    class Meta:
        model = Payment
        fields = [
            "id",
            "case",
            "amount",
            "paid_on",
            "channel",
            "reference",
            "receipt_no",
            "held_amount",
            "allocations",
            "recorded_by",
            "recorded_at",
        ]
        read_only_fields = fields


class PaymentCreateSerializer(serializers.Serializer):
    case = CaseIdField()
    amount = money_field(min_value="0.01")
    paid_on = serializers.DateField()
    channel = serializers.ChoiceField(choices=Payment.Channel.choices)
    reference = serializers.CharField(max_length=100, allow_blank=True, default="")
    idempotency_key = serializers.CharField(max_length=64, required=False, allow_blank=True, help_text=IDEMPOTENCY_HELP)


class PaymentFilter(StrictFilterSet):
    case = IdFilter(field_name="case_id")
    channel = django_filters.ChoiceFilter(choices=Payment.Channel.choices)
    paid_from = django_filters.DateFilter(field_name="paid_on", lookup_expr="gte")
    paid_to = django_filters.DateFilter(field_name="paid_on", lookup_expr="lte")

    class Meta:
        model = Payment
        fields = ["case", "channel"]


@extend_schema_view(
    create=extend_schema(
        summary="Record a payment",
        description="Allocated oldest-due first; any excess is held as credit. The answer carries the receipt number.",
        request=PaymentCreateSerializer,
        responses=_create_responses(PaymentSerializer),
        filters=False,
    )
)
class PaymentViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, DoorstepViewSet):
    """Payments on the cases the user may see, with how each was allocated."""

    serializer_class = PaymentSerializer
    filterset_class = PaymentFilter

    def get_queryset(self):
        return (
            _visible(Payment, self.request.user)
            .select_related("recorded_by")
            .prefetch_related(Prefetch("allocations", queryset=PaymentAllocation.objects.order_by("id")))
        )

    def create(self, request, *args, **kwargs):
        data = dict(validated(PaymentCreateSerializer, request.data))
        case = case_for_write(request.user, data.pop("case"))
        key = idempotency_key(request, data)
        payment, created = services.payment_record_once(case=case, actor=request.user, idempotency_key=key, **data)
        body = self.get_serializer(self.get_queryset().get(pk=payment.pk)).data
        return Response(body, status=created_status(created))
