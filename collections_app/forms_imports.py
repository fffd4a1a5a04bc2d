"""The account import upload form."""

from pathlib import Path

from crispy_forms.helper import FormHelper
from crispy_forms.layout import Submit
from django import forms
from django.utils.translation import gettext_lazy as _

from collections_app.importer.services import may_create_branches
from collections_app.widgets import DateInput

ALLOWED_SUFFIXES = {".csv", ".xlsx"}
MAX_UPLOAD_BYTES = 500 * 1024 * 1024


def table_file_field() -> forms.FileField:
    """The upload of a table as the importers read it (accounts here, statements in ``risk``)."""
    return forms.FileField(
        label=_("File"),
        help_text=_("CSV (UTF-8 or GBK) or XLSX with a header row; see the column list below."),
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,.xlsx"}),
    )


class ImportUploadForm(forms.Form):
    file = table_file_field()
    as_of = forms.DateField(
        label=_("As of"),
        required=False,
        help_text=_("The date of the export, for days_past_due; empty means today."),
        widget=DateInput(),
    )
    create_branches = forms.BooleanField(label=_("Create branches the file names"), required=False)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        if not may_create_branches(user):
            del self.fields["create_branches"]
        self.helper = FormHelper()
        self.helper.form_tag = True
        self.helper.attrs = {"enctype": "multipart/form-data"}
        self.helper.add_input(Submit("upload", _("Import"), css_class="btn-primary"))

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if Path(upload.name).suffix.lower() not in ALLOWED_SUFFIXES:
            raise forms.ValidationError(_("Upload a .csv or .xlsx file."))
        if upload.size > MAX_UPLOAD_BYTES:
            raise forms.ValidationError(_("The file is larger than 500 MB; use the import_accounts command."))
        return upload
