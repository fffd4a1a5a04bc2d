from django import forms
from django.utils.translation import gettext_lazy as _

from collections_app.models import Role, User

POSITION = {"max_digits": 9, "decimal_places": 6, "required": False, "widget": forms.HiddenInput}


class CheckInForm(forms.Form):
    expected_minutes = forms.IntegerField(
        label=_("Expected duration (minutes)"), min_value=5, max_value=480, initial=45
    )
    companion = forms.ModelChoiceField(label=_("Second collector"), queryset=User.objects.none(), required=False)
    lat = forms.DecimalField(min_value=-90, max_value=90, **POSITION)
    lng = forms.DecimalField(min_value=-180, max_value=180, **POSITION)

    def __init__(self, *args, case=None, **kwargs):
        super().__init__(*args, **kwargs)
        if case is not None:
            self.fields["companion"].queryset = User.objects.filter(
                team_id=case.team_id, role=Role.COLLECTOR, is_active=True
            ).exclude(pk=case.assigned_collector_id)


class HelpForm(forms.Form):
    client_id = forms.UUIDField()
    pressed_at = forms.DateTimeField()
    case = forms.IntegerField(required=False, min_value=1, max_value=2**31 - 1)
    lat = forms.DecimalField(min_value=-90, max_value=90, max_digits=9, decimal_places=6, required=False)
    lng = forms.DecimalField(min_value=-180, max_value=180, max_digits=9, decimal_places=6, required=False)
