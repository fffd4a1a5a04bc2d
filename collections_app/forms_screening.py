"""Forms of the screening, assignment and workload pages."""

from decimal import Decimal

from crispy_forms.helper import FormHelper
from crispy_forms.layout import Column, Field, Layout, Row, Submit
from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from collections_app.aging import AgingBucket, LoanClass
from collections_app.models import Product
from collections_app.selectors.screening import Sort, assignable_collectors, visible_branches
from collections_app.services.screening import OPEN_BATCH_LIMIT

ANY = [("", _("Any"))]
# The largest BigAutoField id: a bigger number is no id, and the database would fail on it (a 500).
MAX_ID = 2**63 - 1
MONEY_ATTRS = {"inputmode": "decimal", "step": "0.01", "min": "0"}


class IdsField(forms.Field):
    """A list of ids from repeated inputs (checkboxes); anything that is not an id is refused."""

    widget = forms.MultipleHiddenInput

    def __init__(self, *, max_ids: int = OPEN_BATCH_LIMIT, **kwargs):
        self.max_ids = max_ids
        super().__init__(**kwargs)

    def to_python(self, value):
        if not value:
            return []
        values = value if isinstance(value, list | tuple) else [value]
        try:
            ids = sorted({int(v) for v in values})
        except (TypeError, ValueError) as exc:
            raise ValidationError(_("The selection is not valid; reload the page."), code="invalid") from exc
        if any(not 0 < pk <= MAX_ID for pk in ids):
            raise ValidationError(_("The selection is not valid; reload the page."), code="invalid")
        if len(ids) > self.max_ids:
            raise ValidationError(
                _("Select at most %(n)d at a time.") % {"n": self.max_ids},
                code="max_ids",
            )
        return ids


class ScreeningFilterForm(forms.Form):
    branch = forms.ModelChoiceField(queryset=None, required=False, label=_("Branch"), empty_label=_("Any"))
    bucket = forms.ChoiceField(
        choices=ANY + [c for c in AgingBucket.choices if c[0] != AgingBucket.CURRENT],
        required=False,
        label=_("Aging bucket"),
    )
    loan_class = forms.ChoiceField(choices=ANY + LoanClass.choices, required=False, label=_("Classification"))
    product = forms.ChoiceField(choices=ANY + Product.choices, required=False, label=_("Product"))
    dpd_min = forms.IntegerField(min_value=0, max_value=100_000, required=False, label=_("DPD from"))
    dpd_max = forms.IntegerField(min_value=0, max_value=100_000, required=False, label=_("DPD to"))
    amount_min = forms.DecimalField(
        min_value=Decimal(0),
        max_digits=16,
        decimal_places=2,
        required=False,
        label=_("Overdue from"),
        widget=forms.NumberInput(attrs=MONEY_ATTRS),
    )
    amount_max = forms.DecimalField(
        min_value=Decimal(0),
        max_digits=16,
        decimal_places=2,
        required=False,
        label=_("Overdue to"),
        widget=forms.NumberInput(attrs=MONEY_ATTRS),
    )
    q = forms.CharField(max_length=100, required=False, label=_("Name or account number"))
    sort = forms.ChoiceField(choices=Sort.choices, required=False, label=_("Order"))

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["branch"].queryset = visible_branches(user)
        self.helper = FormHelper()
        self.helper.form_method = "get"
        self.helper.form_id = "screening-filter"
        self.helper.disable_csrf = True
        self.helper.layout = Layout(
            Row(
                Column(Field("q", type="search"), css_class="col-12 col-md-4"),
                Column("branch", css_class="col-6 col-md-2"),
                Column("product", css_class="col-6 col-md-2"),
                Column("bucket", css_class="col-6 col-md-2"),
                Column("loan_class", css_class="col-6 col-md-2"),
            ),
            Row(
                Column("dpd_min", css_class="col-6 col-md-2"),
                Column("dpd_max", css_class="col-6 col-md-2"),
                Column("amount_min", css_class="col-6 col-md-2"),
                Column("amount_max", css_class="col-6 col-md-2"),
                Column("sort", css_class="col-12 col-md-2"),
                Column(
                    Submit("apply", _("Filter"), css_class="w-100"), css_class="col-12 col-md-2 align-self-end mb-3"
                ),
            ),
        )

    def clean(self):
        data = super().clean()
        for low, high in (("dpd_min", "dpd_max"), ("amount_min", "amount_max")):
            if data.get(low) is not None and data.get(high) is not None and data[low] > data[high]:
                self.add_error(high, _("Must not be below the lower bound."))
        return data

    def filters(self) -> dict:
        """The valid filters only: a bad field is shown as an error and ignored, never a 500."""
        self.is_valid()
        return {name: value for name, value in self.cleaned_data.items() if value not in (None, "")}


class OpenCasesForm(forms.Form):
    SELECTED = "selected"
    ALL = "all"

    scope = forms.ChoiceField(choices=[(SELECTED, _("Selected accounts")), (ALL, _("All matching the filter"))])
    account = IdsField(required=False)

    def clean(self):
        data = super().clean()
        if data.get("scope") == self.SELECTED and not data.get("account"):
            raise ValidationError(_("Select at least one account, or choose all matching the filter."))
        return data


class AssignForm(forms.Form):
    collector = forms.ModelChoiceField(queryset=None, label=_("Collector"))
    reason = forms.CharField(
        max_length=300,
        required=False,
        label=_("Reason"),
        help_text=_("Required when the case already has a collector."),
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def __init__(self, *args, user, case, **kwargs):
        super().__init__(*args, **kwargs)
        self.case = case
        self.fields["collector"].queryset = assignable_collectors(user, team=case.team)
        self.fields["collector"].label_from_instance = _collector_label
        self.helper = FormHelper()
        self.helper.add_input(Submit("assign", _("Assign"), css_class="btn-primary"))

    def clean(self):
        data = super().clean()
        collector, current = data.get("collector"), self.case.assigned_collector_id
        if collector and current and collector.pk != current and not data.get("reason", "").strip():
            self.add_error("reason", _("Give a reason for the reassignment."))
        return data


class BulkAssignForm(forms.Form):
    case = IdsField(required=True, error_messages={"required": _("Select at least one case.")})
    collector = forms.ModelChoiceField(queryset=None, label=_("Collector"))
    reason = forms.CharField(max_length=300, required=False, label=_("Reason (needed to reassign)"))

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["collector"].queryset = assignable_collectors(user)
        self.fields["collector"].label_from_instance = _collector_label


def _collector_label(user) -> str:
    name = user.get_full_name() or user.get_username()
    return f"{name} ({user.get_username()}) · {user.team.name}" + (f" · {user.region}" if user.region else "")
