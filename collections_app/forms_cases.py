"""Forms of the case pages: the list filter and the stage-change / close form."""

from django import forms
from django.utils.translation import gettext_lazy as _

from collections_app.models import CloseReason, ContactStatus, Stage


class CaseFilterForm(forms.Form):
    stage = forms.ChoiceField(
        label=_("Stage"),
        required=False,
        choices=[("", _("All open stages")), *Stage.choices],
        widget=forms.Select(attrs={"class": "form-select js-autosubmit"}),
    )


class CaseTransitionForm(forms.Form):
    target = forms.ChoiceField(choices=Stage.choices)
    close_reason = forms.ChoiceField(choices=[("", "—"), *CloseReason.choices], required=False)
    note = forms.CharField(label=_("Note"), max_length=500, required=False)

    def clean(self):
        data = super().clean()
        if data.get("target") == Stage.CLOSED and not data.get("close_reason"):
            self.add_error("close_reason", _("Choose a close reason."))
        return data


class ContactPointStatusForm(forms.Form):
    """Change a phone's or an address's verification state from the borrower file."""

    kind = forms.ChoiceField(choices=[("phone", "phone"), ("address", "address")])
    point = forms.IntegerField(min_value=1, max_value=2**63 - 1)
    status = forms.ChoiceField(
        choices=[(v, label) for v, label in ContactStatus.choices if v != ContactStatus.UNVERIFIED]
    )
    note = forms.CharField(label=_("Note"), max_length=300, required=False)
