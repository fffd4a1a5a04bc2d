"""What a dashboard user may see, narrowed by the filters, and small number helpers."""

import datetime as dt
from dataclasses import dataclass, replace
from decimal import Decimal

from django.db.models import Q
from django.utils import timezone

from collections_app.models import Branch, Case, DelinquentAccount, Team, User
from dashboard.forms import Filters

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

    def previous(self) -> "Scope":
        """The same user and narrowing over the previous period (``Filters.previous``)."""
        return replace(self, filters=self.filters.previous())

    def accounts(self):
        visible = DelinquentAccount.objects.visible_to(self.user)
        # Grouping over a joined, DISTINCT visible set would count an account once per joined row, so such
        # a set is applied as a semi-join. A plain filter (a supervisor's branches subquery) is used as
        # is: wrapped, PostgreSQL would hash every account of the table (1 s at 1M) to keep one branch.
        qs = DelinquentAccount.objects.filter(pk__in=visible.values("pk")) if visible.query.distinct else visible
        # Accounts belong to branches, not teams: a team filter narrows to the team's branch.
        if self.filters.branch is not None:
            qs = qs.filter(branch_id=self.filters.branch.pk)
        if self.filters.team is not None:
            qs = qs.filter(branch_id=self.filters.team.branch_id)
        return qs

    @property
    def narrowed(self) -> bool:
        """False when the scope is every case and every account (a manager with no branch or team)."""
        return not self.user.sees_everything or self.filters.branch is not None or self.filters.team is not None

    def in_cases(self, field: str = "case") -> Q:
        """Rows hanging off the scoped cases. Unnarrowed, no filter at all: every row's case exists, and
        ``case_id IN (SELECT id FROM case)`` would make PostgreSQL join the whole case table."""
        if not self.narrowed:
            return Q()
        return Q(**{f"{field}__in": self.cases().values("pk")})

    def cases(self):
        qs = Case.objects.visible_to(self.user)
        if self.filters.branch is not None:
            qs = qs.filter(team__branch_id=self.filters.branch.pk)
        if self.filters.team is not None:
            qs = qs.filter(team_id=self.filters.team.pk)
        return qs

    def branch_ids(self) -> frozenset[int] | None:
        """The branches whose bucket snapshots the user may see (snapshots carry the branch), narrowed
        by the filters; None for every branch. Part of the roll matrix's cache key."""
        ids = None
        if not self.user.sees_everything:
            visible = DelinquentAccount.objects.visible_to(self.user).values("branch_id")
            ids = frozenset(Branch.objects.filter(pk__in=visible).values_list("pk", flat=True))
        # Accounts belong to branches, not teams: a team filter narrows to the team's branch.
        for pk in (getattr(self.filters.branch, "pk", None), getattr(self.filters.team, "branch_id", None)):
            if pk is not None:
                ids = frozenset({pk}) if ids is None else ids & {pk}
        return ids

    @property
    def reads_tallies(self) -> bool:
        """Tallies are cut by team and branch: they serve managers and supervisors (the dashboard's
        users), in the project's time zone; anyone else gets live numbers."""
        from dashboard.tallies import tallies_apply

        return (self.user.sees_everything or self.user.is_supervisor) and tallies_apply()

    def teams(self):
        """The teams whose cases the scope covers (a supervisor's own teams, narrowed by the filters), as
        a queryset to use as a subquery; None for every team. Cuts the tallies as ``cases()`` cuts cases."""
        if not self.narrowed:
            return None
        teams = Team.objects.all()
        if not self.user.sees_everything:
            teams = teams.filter(supervisor=self.user)
        if self.filters.branch is not None:
            teams = teams.filter(branch_id=self.filters.branch.pk)
        if self.filters.team is not None:
            teams = teams.filter(pk=self.filters.team.pk)
        return teams

    def branches(self):
        """The branches whose accounts the scope covers, as a queryset to use as a subquery; None for
        every branch. Cuts the portfolio tally as ``accounts()`` cuts accounts."""
        if not self.narrowed:
            return None
        branches = Branch.objects.visible_to(self.user)
        for pk in (getattr(self.filters.branch, "pk", None), getattr(self.filters.team, "branch_id", None)):
            if pk is not None:
                branches = branches.filter(pk=pk)
        return branches
