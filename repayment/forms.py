"""Input shape for the negotiation, payment and decision forms (crispy bootstrap5)."""

import uuid
from decimal import Decimal

from crispy_forms.helper import FormHelper
from django import forms
from django.utils.translation import gettext_lazy as _

from collections_app.widgets import DateInput
from repayment.models import DeclaredFigure, FinanceEvidence, FinancialDeclaration, Payment, RepaymentPlan
from repayment.schedule import MAX_INSTALMENTS
from visits import photos as photo_rules
from visits.models import Visit


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


# --- declared vs verified finances ----------------------------------------------------------------

FIGURE_ROWS = 6


class DeclarationForm(_IdempotentForm):
    source = forms.ChoiceField(label=_("Where"), choices=FinancialDeclaration.Source.choices)
    visit = forms.ModelChoiceField(label=_("Visit"), queryset=None, required=False, empty_label=_("— none —"))
    assets_seen = forms.MultipleChoiceField(
        label=_("Assets seen at the visit"),
        choices=FinancialDeclaration.Asset.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    note = forms.CharField(label=_("Note"), max_length=500, required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, case, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["visit"].queryset = Visit.objects.filter(case=case).order_by("-checked_in_at", "-id")
        self.fields["visit"].label_from_instance = lambda visit: f"{visit.checked_in_at:%Y-%m-%d %H:%M}"


class FigureForm(forms.Form):
    kind = forms.ChoiceField(label=_("Kind"), choices=[("", "—"), *DeclaredFigure.Kind.choices], required=False)
    amount = _money_field(_("A month"), required=False, min_value="0")
    employer = forms.CharField(label=_("Employer (salary)"), max_length=200, required=False)

    def clean(self):
        data = super().clean()
        kind, amount = data.get("kind"), data.get("amount")
        if kind and amount is None and not self.has_error("amount"):
            self.add_error("amount", _("Enter the monthly amount."))
        if amount is not None and not kind:
            self.add_error("kind", _("Say what the amount is."))
        if data.get("employer", "").strip() and kind and kind != DeclaredFigure.Kind.SALARY:
            self.add_error("employer", _("An employer is named for a salary only."))
        return data


class _BaseFigureFormSet(forms.BaseFormSet):
    def clean(self):
        if any(self.errors):
            return
        if not self.figures():
            raise forms.ValidationError(_("Declare at least one monthly figure (income, an expense or a debt)."))

    def figures(self) -> list[dict]:
        return [
            {"kind": f.cleaned_data["kind"], "amount": f.cleaned_data["amount"], "employer": f.cleaned_data["employer"]}
            for f in self.forms
            if f.cleaned_data.get("kind")
        ]


FigureFormSet = forms.formset_factory(
    FigureForm, formset=_BaseFigureFormSet, extra=FIGURE_ROWS, max_num=FIGURE_ROWS * 5, validate_max=True
)


class EvidenceForm(forms.Form):
    kind = forms.ChoiceField(label=_("Document"), choices=FinanceEvidence.Kind.choices)
    photo = forms.FileField(label=_("Photo of the document"))

    def clean_photo(self):
        upload = self.cleaned_data["photo"]
        photo_rules.inspect_photo(upload)
        return upload


class VerifyForm(forms.Form):
    action = forms.ChoiceField(choices=[("verify", "verify"), ("unverify", "unverify")], widget=forms.HiddenInput)
    evidence = forms.ModelChoiceField(label=_("Verified with"), queryset=None, required=False)
    verified_amount = _money_field(_("The document shows a month"), required=False, min_value="0")
    note = forms.CharField(label=_("Note"), max_length=500, required=False)

    def __init__(self, *args, figure, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["evidence"].queryset = FinanceEvidence.objects.filter(figure=figure)
        self.fields["evidence"].label_from_instance = lambda item: f"{item.get_kind_display()} · {item.sha256[:12]}"

    def clean(self):
        data = super().clean()
        if data.get("action") == "verify" and not data.get("evidence") and not self.has_error("evidence"):
            self.add_error("evidence", _("Choose the evidence that verifies the figure."))
        if data.get("action") == "unverify" and not (data.get("note") or "").strip():
            self.add_error("note", _("Say why the figure is unverified."))
        return data
