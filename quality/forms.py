from django import forms
from django.utils.translation import gettext_lazy as _

from quality.models import Playbook, RubricItem, Verdict


class ReviewForm(forms.Form):
    """One verdict and note per rubric item, a coaching note, an optional playbook link."""

    comment = forms.CharField(label=_("Coaching note"), required=False, widget=forms.Textarea(attrs={"rows": 3}))
    playbook = forms.ModelChoiceField(
        label=_("Playbook section to study"), queryset=Playbook.objects.none(), required=False
    )
    unsafe_address = forms.BooleanField(label=_("Address unsafe: two collectors from now on"), required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["playbook"].queryset = Playbook.objects.filter(active=True)
        for item, label in RubricItem.choices:
            self.fields[f"{item}_verdict"] = forms.ChoiceField(
                label=label, choices=Verdict.choices, widget=forms.RadioSelect, initial=Verdict.PASS
            )
            self.fields[f"{item}_note"] = forms.CharField(label=_("Note"), required=False, max_length=500)

    def rubric_rows(self):
        return [(self[f"{item}_verdict"], self[f"{item}_note"]) for item in RubricItem.values]

    def items(self) -> dict:
        data = self.cleaned_data
        return {item: {"verdict": data[f"{item}_verdict"], "note": data[f"{item}_note"]} for item in RubricItem.values}


class ReplyForm(forms.Form):
    reply = forms.CharField(label=_("Your reply"), max_length=2000, widget=forms.Textarea(attrs={"rows": 3}))
