"""What a dashboard user may see, narrowed by the filters, and small number helpers."""

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.utils import timezone

from collections_app.dashboard.forms import Filters
from collections_app.models import AccountBucketSnapshot, Case, DelinquentAccount, User

CENT = Decimal("0.01")


def cents(value) -> Decimal:
    """A money sum from the database as a 2-place Decimal (SQLite sums lose the scale)."""
    return Decimal(value or 0).quantize(CENT)


def rate(numerator, denominator) -> float:
    """A ratio rounded to 4 places, 0.0 when there is nothing to divide by."""
    if not denominator:
        return 0.0
    return round(float(Decimal(numerator) / Decimal(denominator)), 4)


def day_start(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


@dataclass(frozen=True)
class Scope:
    """What one user may see, narrowed by the filters. A filter never widens the visible set."""

    user: User
    filters: Filters
    today: dt.date

    @property
    def starts(self) -> dt.datetime:
        return day_start(self.filters.date_from)

    @property
    def ends(self) -> dt.datetime:
        """Exclusive: the first moment after the period."""
        return day_start(self.filters.date_to + dt.timedelta(days=1))

    def accounts(self):
        visible = DelinquentAccount.objects.visible_to(self.user)
        # visible_to joins teams (with DISTINCT) for supervisors; grouping over that join would count an
        # account once per team of the branch, so group over a plain queryset narrowed by a semi-join.
        qs = visible if self.user.sees_everything else DelinquentAccount.objects.filter(pk__in=visible.values("pk"))
        # Accounts belong to branches, not teams: a team filter narrows to the team's branch.
        if self.filters.branch is not None:
            qs = qs.filter(branch_id=self.filters.branch.pk)
        if self.filters.team is not None:
            qs = qs.filter(branch_id=self.filters.team.branch_id)
        return qs

    def cases(self):
        qs = Case.objects.visible_to(self.user)
        if self.filters.branch is not None:
            qs = qs.filter(team__branch_id=self.filters.branch.pk)
        if self.filters.team is not None:
            qs = qs.filter(team_id=self.filters.team.pk)
        return qs

    def snapshots(self):
        """Bucket snapshots of the branches whose accounts the user may see (snapshots carry the branch)."""
        qs = AccountBucketSnapshot.objects.all()
        if not self.user.sees_everything:
            qs = qs.filter(branch_id__in=DelinquentAccount.objects.visible_to(self.user).values("branch_id"))
        if self.filters.branch is not None:
            qs = qs.filter(branch_id=self.filters.branch.pk)
        if self.filters.team is not None:
            qs = qs.filter(branch_id=self.filters.team.branch_id)
        return qs
