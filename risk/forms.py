"""Forms of the risk app: statement upload, care case record, strategy definition."""

from pathlib import Path

from crispy_forms.helper import FormHelper
from crispy_forms.layout import Submit
from django import forms
from django.utils.translation import gettext_lazy as _

from collections_app.forms_imports import table_file_field
from collections_app.widgets import DateInput
from risk.models import CareCase, Strategy

MAX_UPLOAD_BYTES = 500 * 1024 * 1024


def _helper(label) -> FormHelper:
    helper = FormHelper()
    helper.form_tag = True
    helper.add_input(Submit("submit", label, css_class="btn-primary"))
    return helper


class StatementUploadForm(forms.Form):
    file = table_file_field()
    as_of = forms.DateField(
        label=_("As of"),
        required=False,
        help_text=_("Statements after this date are refused; empty means today."),
        widget=DateInput(),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = _helper(_("Import"))
        self.helper.attrs = {"enctype": "multipart/form-data"}

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if Path(upload.name).suffix.lower() not in {".csv", ".xlsx"}:
            raise forms.ValidationError(_("Upload a .csv or .xlsx file."))
        if upload.size > MAX_UPLOAD_BYTES:
            raise forms.ValidationError(_("The file is larger than 500 MB; use the import_statements command."))
        return upload


class CareRecordForm(forms.Form):
    channel = forms.ChoiceField(label=_("Channel"), choices=CareCase.Channel.choices)
    outcome = forms.ChoiceField(label=_("Outcome"), choices=CareCase.Outcome.choices)
    note = forms.CharField(label=_("Notes"), required=False, max_length=1000, widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = _helper(_("Record"))


class StrategyForm(forms.ModelForm):
    class Meta:
        model = Strategy
        fields = ["name", "description", "first_step", "first_due_days", "weight", "is_holdout"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["first_due_days"].min_value = 0
        self.fields["weight"].min_value = 1
        self.helper = _helper(_("Add strategy"))

    def clean_weight(self):
        weight = self.cleaned_data["weight"]
        if weight < 1:
            raise forms.ValidationError(_("The share must be at least 1."))
        return weight
