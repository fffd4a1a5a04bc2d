from django import forms
from django.utils.translation import gettext_lazy as _

from collections_app.models import Role, User
from collections_app.widgets import DateInput
from voice.models import Complaint


class ComplaintForm(forms.Form):
    category = forms.ChoiceField(label=_("Category"), choices=Complaint.Category.choices)
    collector_named = forms.ModelChoiceField(label=_("Collector named"), queryset=User.objects.none(), required=False)
    text = forms.CharField(label=_("What the borrower says"), widget=forms.Textarea(attrs={"rows": 3}), max_length=4000)

    def __init__(self, *args, case, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["collector_named"].queryset = User.objects.filter(team=case.team_id, role=Role.COLLECTOR)


class ResolveForm(forms.Form):
    note = forms.CharField(label=_("Resolution"), widget=forms.Textarea(attrs={"rows": 3}), max_length=4000)


class BorrowerRequestForm(forms.Form):
    """A call or a visit, and when: a day and a time range (a visit's goes on the collector's route), or in
    words ("weekday evenings")."""

    kind = forms.ChoiceField(
        label=_("I would like"), choices=[("callback", _("a phone call")), ("visit", _("a visit"))]
    )
    day = forms.DateField(label=_("Day"), required=False, widget=DateInput())
    time_from = forms.TimeField(label=_("From"), required=False, widget=forms.TimeInput(attrs={"type": "time"}))
    time_to = forms.TimeField(label=_("Until"), required=False, widget=forms.TimeInput(attrs={"type": "time"}))
    window = forms.CharField(label=_("Or say when suits me"), max_length=200, required=False)

    def clean(self):
        data = super().clean()
        timed = [data.get(name) for name in ("day", "time_from", "time_to")]
        if any(timed) and not all(timed):
            raise forms.ValidationError(_("Give the day, and the time from and until."))
        if not any(timed) and not (data.get("window") or "").strip():
            raise forms.ValidationError(_("Say when suits you."))
        if all(timed) and data["time_to"] <= data["time_from"]:
            self.add_error("time_to", _("The end of the time must be after its start."))
        return data


class BorrowerRatingForm(forms.Form):
    rating = forms.TypedChoiceField(
        label=_("How was the visit? (1 poor, 5 very good)"), coerce=int, choices=[(n, n) for n in range(1, 6)]
    )
    comment = forms.CharField(
        label=_("Comment"), max_length=1000, required=False, widget=forms.Textarea(attrs={"rows": 2})
    )


class BorrowerComplaintForm(forms.Form):
    category = forms.ChoiceField(label=_("Category"), choices=Complaint.Category.choices)
    text = forms.CharField(label=_("Your complaint"), max_length=4000, widget=forms.Textarea(attrs={"rows": 3}))
