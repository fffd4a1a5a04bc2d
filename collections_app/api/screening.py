"""The screening list behind JSON: overdue accounts without an open case, best first, with the parts
of each score; the page's selector and its keyset (``screening_key``, id) cursors. Supervisors and
managers only, as the page."""

import django_filters
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.pagination import BasePagination
from rest_framework.permissions import BasePermission
from rest_framework.response import Response
from rest_framework.utils.urls import remove_query_param, replace_query_param

from collections_app import aging
from collections_app.aging import AgingBucket, LoanClass
from collections_app.api.exceptions import InputRefused, UnknownReference
from collections_app.api.filters import IntegerFilter, MoneyFilter, StrictFilterSet, TextFilter
from collections_app.api.pagination import strict_page_size
from collections_app.api.serializers import RiskFactorSerializer
from collections_app.api.views import DoorstepViewSet
from collections_app.db_routing import replica_reads
from collections_app.models import DelinquentAccount, Product, Role
from collections_app.selectors import screening as selectors

MAX_PAGE_SIZE = 200


class ScreeningReaders(BasePermission):
    """The screening page's rule: supervisors and administrators, and managers (read only)."""

    message = gettext_lazy("The screening list is for supervisors and managers.")

    def has_permission(self, request, view) -> bool:
        user = request.user
        return user.is_supervisor or user.role == Role.ADMIN or user.is_superuser or user.sees_everything


class ScoreSerializer(serializers.Serializer):
    dpd = serializers.DecimalField(max_digits=14, decimal_places=2)
    amount = serializers.DecimalField(max_digits=14, decimal_places=2)
    broken_promises = serializers.DecimalField(max_digits=14, decimal_places=2)
    no_contact = serializers.DecimalField(max_digits=14, decimal_places=2)


class ScreeningRowSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    account_no = serializers.CharField()
    borrower_name = serializers.CharField(source="borrower.name")
    branch = serializers.CharField(source="branch.code")
    product = serializers.ChoiceField(choices=Product.choices)
    outstanding_balance = serializers.DecimalField(max_digits=16, decimal_places=2)
    overdue_amount = serializers.DecimalField(max_digits=16, decimal_places=2)
    overdue_since = serializers.DateField(allow_null=True)
    dpd = serializers.IntegerField(source="dpd_today")
    aging_bucket = serializers.ChoiceField(choices=AgingBucket.choices, source="bucket_today")
    loan_class = serializers.SerializerMethodField()
    broken_promises = serializers.IntegerField()
    score = serializers.DecimalField(max_digits=14, decimal_places=2)
    score_parts = ScoreSerializer(source="parts", help_text=gettext_lazy("The score is the sum of these parts."))
    risk_score = serializers.FloatField(
        allow_null=True,
        min_value=0,
        max_value=1,
        help_text=gettext_lazy("Chance of 30+ days past due at the next statement (0-1); null without a score."),
    )
    risk_factors = RiskFactorSerializer(many=True)
    payment_probability = serializers.DecimalField(
        max_digits=5,
        decimal_places=4,
        allow_null=True,
        help_text=gettext_lazy("Probability of payment: 1 - risk score; null without a score."),
    )
    expected_recovery = serializers.DecimalField(
        max_digits=16,
        decimal_places=2,
        allow_null=True,
        help_text=gettext_lazy("Probability of payment times the overdue amount; null without a score."),
    )

    def get_loan_class(self, account) -> str:
        return aging.class_for(account.dpd_today)


class ScreeningFilter(StrictFilterSet):
    branch = TextFilter(max_length=20, method="filter_nothing", label="Branch code (one of your branches)")
    product = django_filters.ChoiceFilter(choices=Product.choices)
    bucket = django_filters.ChoiceFilter(choices=[c for c in AgingBucket.choices if c[0] != AgingBucket.CURRENT])
    loan_class = django_filters.ChoiceFilter(choices=LoanClass.choices)
    dpd_min = IntegerFilter(min_value=0, max_value=100_000, label="DPD from")
    dpd_max = IntegerFilter(min_value=0, max_value=100_000, label="DPD to")
    amount_min = MoneyFilter(label="Overdue from")
    amount_max = MoneyFilter(label="Overdue to")
    q = TextFilter(max_length=100, label="Name or account number (prefix)")
    sort = django_filters.ChoiceFilter(
        choices=selectors.Sort.choices,
        method="filter_nothing",
        label="Order: priority (the seed's rule, the default) or expected_recovery (unscored accounts last)",
    )

    class Meta:
        model = DelinquentAccount
        fields = ["branch", "product", "bucket", "loan_class"]

    def filter_nothing(self, queryset, name, value):
        return queryset  # the selector applies it

    def selector_filters(self) -> dict:
        """The valid filters as the selector takes them: a 400 with field errors for a malformed value,
        a 404 for a branch that is not one of yours, a 409 for a range whose bounds are the wrong way round."""
        if not self.is_valid():
            raise ValidationError(self.errors)
        data = {name: value for name, value in self.form.cleaned_data.items() if value not in (None, "")}
        if "branch" in data:
            branch = selectors.visible_branches(self.request.user).filter(code=data["branch"]).first()
            if branch is None:
                raise UnknownReference({"branch": [_("No such branch, or not one of yours.")]})
            data["branch"] = branch
        errors = {}
        for low, high in (("dpd_min", "dpd_max"), ("amount_min", "amount_max")):
            if low in data and high in data and data[low] > data[high]:
                errors[high] = [_("Must not be below the lower bound.")]
        if errors:
            raise InputRefused(errors)
        return data


class ScreeningKeysetPagination(BasePagination):
    """``after``/``before`` keyset cursors in the list's order: page 1000 costs what page 1 costs; no total."""

    page_size = selectors.PAGE_SIZE

    def page_size_for(self, request) -> int:
        return strict_page_size(request, default=self.page_size, maximum=MAX_PAGE_SIZE)

    def page(self, request, filters: dict) -> selectors.ScreeningPage:
        after, before = request.query_params.get("after"), request.query_params.get("before")
        for value in (after, before):
            if value is not None and selectors.decode_cursor(value, filters.get("sort")) is None:
                raise NotFound(_("Invalid cursor"))
        return selectors.screening_page(
            request.user, filters, after=after, before=before, size=self.page_size_for(request)
        )

    def links(self, request, page: selectors.ScreeningPage) -> dict:
        url = remove_query_param(remove_query_param(request.build_absolute_uri(), "after"), "before")
        return {
            "next": replace_query_param(url, "after", page.next_cursor) if page.next_cursor else None,
            "previous": replace_query_param(url, "before", page.prev_cursor) if page.prev_cursor else None,
        }

    def get_schema_operation_parameters(self, view):
        cursor = {"type": "string", "pattern": selectors.CURSOR_PATTERN}
        return [
            {
                "name": "after",
                "in": "query",
                "required": False,
                "schema": cursor,
                "description": "Cursor: the next page.",
            },
            {
                "name": "before",
                "in": "query",
                "required": False,
                "schema": cursor,
                "description": "Cursor: the previous page.",
            },
            {
                "name": "page_size",
                "in": "query",
                "required": False,
                "schema": {"type": "integer", "minimum": 1, "maximum": MAX_PAGE_SIZE},
            },
        ]

    def get_paginated_response_schema(self, schema):
        link = {"type": "string", "format": "uri", "nullable": True}
        return {
            "type": "object",
            "required": ["next", "previous", "today", "results"],
            "properties": {
                "next": link,
                "previous": link,
                "today": {"type": "string", "format": "date", "description": "The day DPD and scores are for."},
                "results": schema,
            },
        }


@extend_schema(
    summary="The screening list",
    description=(
        "Overdue accounts without an open case that you may see, highest priority first (or, with "
        "`sort=expected_recovery`, highest expected recovery first, unscored accounts last), with each score's "
        "parts (the screening page). Open cases on them with `POST /api/v1/cases/`."
    ),
)
class ScreeningViewSet(mixins.ListModelMixin, DoorstepViewSet):
    serializer_class = ScreeningRowSerializer
    filterset_class = ScreeningFilter
    pagination_class = ScreeningKeysetPagination
    permission_classes = [*DoorstepViewSet.permission_classes, ScreeningReaders]
    queryset = DelinquentAccount.objects.none()  # the schema's model; rows come from the selector
    refuses_on_read = True

    @replica_reads
    def list(self, request, *args, **kwargs):
        filters = ScreeningFilter(request.query_params, queryset=self.queryset, request=request).selector_filters()
        paginator = self.paginator
        page = paginator.page(request, filters)
        return Response(
            {
                **paginator.links(request, page),
                "today": page.today.isoformat(),
                "results": self.get_serializer(page.rows, many=True).data,
            }
        )
