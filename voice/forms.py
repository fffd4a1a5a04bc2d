from django import forms
from django.utils.translation import gettext_lazy as _

from collections_app.models import Role, User
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
