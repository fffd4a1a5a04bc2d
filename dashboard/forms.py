"""The dashboard's filters: branch, team and period, shared by the page, its exports and the JSON API."""

import datetime as dt
from dataclasses import dataclass, replace

from crispy_forms.helper import FormHelper
from crispy_forms.layout import Column, Layout, Row, Submit
from django import forms
from django.utils.translation import gettext_lazy as _

from collections_app.aging import local_today
from collections_app.models import Branch, Team, User
from collections_app.widgets import DateInput

MAX_PERIOD_DAYS = 366


PERIOD_CHOICES = [
    ("month", _("This month")),
    ("30d", _("Last 30 days")),
    ("90d", _("Last 90 days")),
    ("custom", _("Custom")),
]


@dataclass(frozen=True)
class Filters:
    """What the dashboard is computed over: an optional branch and team, and an inclusive period."""

    branch: Branch | None
    team: Team | None
    date_from: dt.date
    date_to: dt.date
    period: str = "month"

    @classmethod
    def default(cls, today: dt.date | None = None) -> "Filters":
        today = today or local_today()
        return cls(branch=None, team=None, date_from=today.replace(day=1), date_to=today, period="month")

    def previous(self) -> "Filters":
        """The period the headline figures are compared with: for "this month so far" the same days of
        the month before (cut at its last day); otherwise as many days, right before this period."""
        if self.period == "month" and self.date_from.day == 1:
            month_end = self.date_from - dt.timedelta(days=1)
            start = month_end.replace(day=1)
            return replace(self, date_from=start, date_to=min(start + (self.date_to - self.date_from), month_end))
        end = self.date_from - dt.timedelta(days=1)
        return replace(self, date_from=end - (self.date_to - self.date_from), date_to=end)


def period_dates(period: str, today: dt.date) -> tuple[dt.date, dt.date]:
    """The inclusive dates of a named period ending today ("last 30 days" is today and the 29 before)."""
    if period == "30d":
        return today - dt.timedelta(days=29), today
    if period == "90d":
        return today - dt.timedelta(days=89), today
    return today.replace(day=1), today


class DashboardFilterForm(forms.Form):
    """Bound to GET parameters. Any existing branch or team is accepted: the selectors intersect it
    with what the user may see, so asking for someone else's branch gives an empty dashboard, never
    its numbers. The drop-downs list only the user's own branches and teams."""

    branch = forms.ModelChoiceField(queryset=Branch.objects.all(), required=False, label=_("Branch"))
    team = forms.ModelChoiceField(queryset=Team.objects.all(), required=False, label=_("Team"))
    period = forms.ChoiceField(choices=PERIOD_CHOICES, required=False, initial="month", label=_("Period"))
    date_from = forms.DateField(required=False, label=_("From"), widget=DateInput())
    date_to = forms.DateField(required=False, label=_("To"), widget=DateInput())

    def __init__(self, *args, user: User, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        branches = Branch.objects.visible_to(user)
        teams = Team.objects.select_related("branch")
        if not user.sees_everything:
            teams = teams.filter(supervisor=user)
        self.fields["branch"].widget.choices = [("", _("All branches")), *((b.pk, str(b)) for b in branches)]
        self.fields["team"].widget.choices = [("", _("All teams")), *((t.pk, str(t)) for t in teams)]
        self.helper = FormHelper()
        self.helper.form_method = "get"
        self.helper.form_class = "mb-3"
        self.helper.layout = Layout(
            Row(
                Column("branch", css_class="col-12 col-md-3"),
                Column("team", css_class="col-12 col-md-3"),
                Column("period", css_class="col-12 col-md-2"),
                Column("date_from", css_class="col-6 col-md-2"),
                Column("date_to", css_class="col-6 col-md-2"),
            ),
            Submit("apply", _("Apply"), css_class="btn-primary"),
        )
        self.helper.disable_csrf = True

    def clean(self):
        cleaned = super().clean()
        period = cleaned.get("period") or "month"
        cleaned["period"] = period
        today = local_today()
        if period == "custom":
            date_from, date_to = cleaned.get("date_from"), cleaned.get("date_to")
            if not date_from or not date_to:
                raise forms.ValidationError(_("A custom period needs both a start and an end date."))
            if date_from > date_to:
                raise forms.ValidationError(_("The period's start date is after its end date."))
            if date_to > today:
                raise forms.ValidationError(_("The period cannot end after today."))
            if (date_to - date_from).days >= MAX_PERIOD_DAYS:
                raise forms.ValidationError(
                    _("A custom period is at most %(days)s days long.") % {"days": MAX_PERIOD_DAYS}
                )
        else:
            date_from, date_to = period_dates(period, today)
        cleaned["date_from"], cleaned["date_to"] = date_from, date_to
        return cleaned

    def filters(self) -> Filters:
        """The validated filters, or the defaults when the input was invalid (the form shows why)."""
        if not self.is_valid():
            return Filters.default()
        data = self.cleaned_data
        return Filters(
            branch=data.get("branch"),
            team=data.get("team"),
            date_from=data["date_from"],
            date_to=data["date_to"],
            period=data["period"],
        )
