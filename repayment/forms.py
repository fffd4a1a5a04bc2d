"""Input shape for the negotiation, payment and decision forms (crispy bootstrap5)."""

import uuid
from decimal import Decimal

from crispy_forms.helper import FormHelper
from django import forms
from django.utils.translation import gettext_lazy as _

from collections_app.widgets import DateInput
from repayment.models import Payment, RepaymentPlan
from repayment.schedule import MAX_INSTALMENTS


def _helper() -> FormHelper:
    helper = FormHelper()
    helper.form_tag = False
    helper.disable_csrf = True
    return helper


def _money_field(label, *, required: bool = True, min_value: str = "0.01") -> forms.DecimalField:
    return forms.DecimalField(
        label=label,
        required=required,
        max_digits=16,
        decimal_places=2,
        min_value=Decimal(min_value),
        widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"}),
    )


class _IdempotentForm(forms.Form):
    """A hidden key minted when the form is shown: a double submit records one row, not two."""

    idempotency_key = forms.CharField(widget=forms.HiddenInput, max_length=64, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            self.initial.setdefault("idempotency_key", uuid.uuid4().hex)
        self.helper = _helper()


class PromiseForm(_IdempotentForm):
    amount = _money_field(_("Amount promised"))
    due_date = forms.DateField(label=_("Pay by"), widget=DateInput())
    grace_days = forms.IntegerField(
        label=_("Grace days"), min_value=0, max_value=30, required=False, help_text=_("Empty: the default.")
    )
    note = forms.CharField(label=_("Note"), max_length=500, required=False)


class PlanForm(_IdempotentForm):
    kind = forms.ChoiceField(label=_("Kind of plan"), choices=RepaymentPlan.Kind.choices)
    base_amount = _money_field(_("Debt covered by the plan"))
    waiver_amount = _money_field(_("Waiver (settlement only)"), required=False, min_value="0")
    instalment_count = forms.IntegerField(label=_("Number of instalments"), min_value=1, max_value=MAX_INSTALMENTS)
    deferral_months = forms.IntegerField(
        label=_("Deferral (months)"), min_value=0, max_value=24, required=False, help_text=_("Deferral plans only.")
    )
    first_due_date = forms.DateField(label=_("First due date"), widget=DateInput())
    note = forms.CharField(label=_("Note"), max_length=500, required=False)

    def clean(self):
        data = super().clean()
        data["waiver_amount"] = data.get("waiver_amount") or Decimal("0.00")
        data["deferral_months"] = data.get("deferral_months") or 0
        return data


class PaymentForm(_IdempotentForm):
    amount = _money_field(_("Amount paid"))
    paid_on = forms.DateField(label=_("Payment date"), widget=DateInput())
    channel = forms.ChoiceField(label=_("Channel"), choices=Payment.Channel.choices)
    reference = forms.CharField(
        label=_("Reference"), max_length=100, required=False, help_text=_("Bank or wallet transaction number.")
    )


class DecisionForm(forms.Form):
    note = forms.CharField(label=_("Note"), max_length=500, required=False, widget=forms.Textarea(attrs={"rows": 2}))
