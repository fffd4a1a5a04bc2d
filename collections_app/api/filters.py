"""Filters of the list endpoints. Strict: a filter given with a value it cannot take (``is_open=null``,
``met=``, ``case=1.5``) is a 400 with the field's error, never silently ignored; and each filter's schema
is generated from the same rule (``set_override``), so the OpenAPI document states what is accepted."""

import datetime as dt
import re

import django_filters
from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from django_filters.fields import IsoDateTimeField
from drf_spectacular.drainage import set_override

from collections_app.api.common import MAX_ID, MONEY_PATTERN
from collections_app.models import Case, DelinquentAccount, Product, Stage

BOOLEAN_VALUES = {"true": True, "false": False}


class StrictFilterSet(django_filters.FilterSet):
    """A given filter must have a value its filter accepts: blank is refused except for text filters,
    and a yes/no filter takes exactly ``true`` or ``false``."""

    def is_valid(self) -> bool:
        valid = super().is_valid()
        for name, filter_ in self.filters.items():
            if name not in self.data:
                continue
            values = self.data.getlist(name) if hasattr(self.data, "getlist") else [self.data[name]]
            if isinstance(filter_, django_filters.BooleanFilter):
                if any(value not in BOOLEAN_VALUES for value in values):
                    self.form.add_error(name, _("Enter true or false."))
            elif not isinstance(filter_, django_filters.CharFilter) and any(value == "" for value in values):
                self.form.add_error(name, _("This value may not be blank."))
        return valid and not self.form.errors


def _schema(filter_, schema: dict) -> None:
    set_override(filter_, "field", schema)


class IdFilter(django_filters.NumberFilter):
    field_class = forms.IntegerField

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", MAX_ID)
        super().__init__(*args, **kwargs)
        _schema(self, {"type": "integer", "minimum": kwargs["min_value"], "maximum": kwargs["max_value"]})


class IntegerFilter(IdFilter):
    """A whole number within bounds (e.g. DPD)."""


class TextFilter(django_filters.CharFilter):
    def __init__(self, *args, max_length: int, **kwargs):
        super().__init__(*args, max_length=max_length, **kwargs)
        _schema(self, {"type": "string", "maxLength": max_length})


class MoneyField(forms.DecimalField):
    default_error_messages = {"format": _("Enter a number such as 1234.56 (no sign, no spaces).")}

    def to_python(self, value):
        if value not in self.empty_values and not re.fullmatch(MONEY_PATTERN, str(value)):
            raise ValidationError(self.error_messages["format"], code="format")
        return super().to_python(value)


class MoneyFilter(django_filters.NumberFilter):
    """An amount: the API's money string (``MONEY_PATTERN``), compared as a Decimal."""

    field_class = MoneyField

    def __init__(self, *args, **kwargs):
        super().__init__(*args, max_digits=16, decimal_places=2, **kwargs)
        _schema(self, {"type": "string", "format": "decimal", "pattern": MONEY_PATTERN})


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


class AccountFilter(StrictFilterSet):
    account_no = TextFilter(max_length=40)
    branch = TextFilter(field_name="branch__code", max_length=20, label=_("Branch code"))
    product = django_filters.ChoiceFilter(choices=Product.choices)
    has_open_case = django_filters.BooleanFilter()
    min_overdue = MoneyFilter(field_name="overdue_amount", lookup_expr="gte")

    class Meta:
        model = DelinquentAccount
        fields = ["account_no", "branch", "product", "has_open_case", "min_overdue"]


class CaseFilter(StrictFilterSet):
    stage = django_filters.MultipleChoiceFilter(choices=Stage.choices)
    is_open = django_filters.BooleanFilter(method="filter_open", label=_("Open (not closed)"))
    assigned_collector = IdFilter(field_name="assigned_collector_id")
    unassigned = django_filters.BooleanFilter(field_name="assigned_collector", lookup_expr="isnull")
    team = IdFilter(field_name="team_id")
    branch = TextFilter(field_name="account__branch__code", max_length=20, label=_("Branch code"))
    account_no = TextFilter(field_name="account__account_no", max_length=40)
    cured_candidate = django_filters.BooleanFilter()
    due_before = UTCDateTimeFilter(field_name="next_action_due", lookup_expr="lt")

    class Meta:
        model = Case
        fields = ["stage", "assigned_collector", "team", "branch", "account_no", "cured_candidate"]

    def filter_open(self, queryset, name, value):
        if value is None:
            return queryset
        return queryset.open() if value else queryset.filter(stage=Stage.CLOSED)
