from crispy_forms.helper import FormHelper
from crispy_forms.layout import Submit
from django import forms
from django.utils.translation import gettext_lazy as _

from evidence.models import EvidencePack


class LegalEscalationForm(forms.Form):
    summary = forms.CharField(
        label=_("Summary for legal"),
        widget=forms.Textarea(attrs={"rows": 5}),
        max_length=5000,
        help_text=_("Why the case goes to legal: what was tried, what the borrower said, what is owed."),
    )
    language = forms.ChoiceField(
        label=_("Language of the pack"),
        choices=EvidencePack.Language.choices,
        initial=EvidencePack.Language.ZH_HANS,
        help_text=_("The borrower's language."),
    )

    def __init__(self, *args, submit_label=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.add_input(Submit("submit", submit_label or _("Escalate to legal"), css_class="btn-danger"))
