import datetime as dt

import django_filters
from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from django_filters.fields import IsoDateTimeField

from collections_app.models import Case, DelinquentAccount, Product, Stage

MAX_ID = 2**63 - 1


class IdFilter(django_filters.NumberFilter):
    field_class = forms.IntegerField

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", MAX_ID)
        super().__init__(*args, **kwargs)


class UTCDateTimeField(IsoDateTimeField):
    """An ISO 8601 time normalised to UTC: PostgreSQL refuses offsets beyond ±15:59, Python allows ±23:59."""

    def to_python(self, value):
        value = super().to_python(value)
        if value is None:
            return None
        try:
            return value.astimezone(dt.UTC)
        except OverflowError:
            raise ValidationError(_("Enter a valid date/time."), code="invalid") from None


class UTCDateTimeFilter(django_filters.IsoDateTimeFilter):
    field_class = UTCDateTimeField


class AccountFilter(django_filters.FilterSet):
    account_no = django_filters.CharFilter(max_length=40)
    branch = django_filters.CharFilter(field_name="branch__code", max_length=20, label=_("Branch code"))
    product = django_filters.ChoiceFilter(choices=Product.choices)
    has_open_case = django_filters.BooleanFilter()
    min_overdue = django_filters.NumberFilter(
        field_name="overdue_amount", lookup_expr="gte", max_digits=16, decimal_places=2
    )

    class Meta:
        model = DelinquentAccount
        fields = ["account_no", "branch", "product", "has_open_case", "min_overdue"]


class CaseFilter(django_filters.FilterSet):
    stage = django_filters.MultipleChoiceFilter(choices=Stage.choices)
    is_open = django_filters.BooleanFilter(method="filter_open", label=_("Open (not closed)"))
    assigned_collector = IdFilter(field_name="assigned_collector_id")
    unassigned = django_filters.BooleanFilter(field_name="assigned_collector", lookup_expr="isnull")
    team = IdFilter(field_name="team_id")
    branch = django_filters.CharFilter(field_name="account__branch__code", max_length=20, label=_("Branch code"))
    account_no = django_filters.CharFilter(field_name="account__account_no", max_length=40)
    cured_candidate = django_filters.BooleanFilter()
    due_before = UTCDateTimeFilter(field_name="next_action_due", lookup_expr="lt")

    class Meta:
        model = Case
        fields = ["stage", "assigned_collector", "team", "branch", "account_no", "cured_candidate"]

    def filter_open(self, queryset, name, value):
        if value is None:
            return queryset
        return queryset.open() if value else queryset.filter(stage=Stage.CLOSED)
