from crispy_forms.helper import FormHelper
from crispy_forms.layout import Submit
from django import forms
from django.utils.translation import gettext_lazy as _

from quality.models import Playbook, PlaybookSection, RubricItem, Verdict
from visits.models import Visit


class ReviewForm(forms.Form):
    """One verdict and note per rubric item, a coaching note, an optional playbook link."""

    comment = forms.CharField(label=_("Coaching note"), required=False, widget=forms.Textarea(attrs={"rows": 3}))
    playbook = forms.ModelChoiceField(
        label=_("Playbook section to study"), queryset=Playbook.objects.none(), required=False
    )
    playbook_section = forms.ChoiceField(
        label=_("Section"), choices=[("", _("The whole playbook")), *PlaybookSection.choices], required=False
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


class PlaybookForm(forms.ModelForm):
    overdue_reason = forms.ChoiceField(
        label=_("Overdue reason"), choices=[("", _("Any")), *list(Visit.OverdueReason.choices)], required=False
    )
    attitude = forms.ChoiceField(
        label=_("Attitude"), choices=[("", _("Any")), *list(Visit.Attitude.choices)], required=False
    )
    next_steps = forms.MultipleChoiceField(
        label=_("Next steps after a refusal"),
        choices=Playbook.NextStep.choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )

    class Meta:
        model = Playbook
        fields = [
            "title_en",
            "title_zh",
            "overdue_reason",
            "attitude",
            "points_en",
            "points_zh",
            "dos_en",
            "dos_zh",
            "donts_en",
            "donts_zh",
            "next_steps",
            "active",
        ]
        widgets = {
            name: forms.Textarea(attrs={"rows": 4})
            for name in ("points_en", "points_zh", "dos_en", "dos_zh", "donts_en", "donts_zh")
        }
        help_texts = {"points_en": _("One point per line."), "points_zh": _("One point per line.")}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.add_input(Submit("save", _("Save playbook")))
