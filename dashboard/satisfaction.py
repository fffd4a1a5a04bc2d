"""Satisfaction next to recovery on the balanced scorecard: CSAT (the share of 4-5 ratings the borrowers gave
through their link) with its response count, and complaints per 100 visits, per collector, per team and in
all, for the period. See README, "Dashboard".

The period's ratings and complaints ride in the period's facts statement (``tallies.period_facts``) as two more
grouped parts, read live (``visit_rating_time_idx``, few rows): the page keeps its query budget. In that
statement's shape a row is (metric, key, collector, week, n, amount): the key carries the team ("id|label"),
the amount the ratings of 4 or 5."""

from django.db.models import CharField, Count, DateField, DecimalField, F, Q, Value
from django.db.models.functions import Cast, Concat

from dashboard.models import DayTally
from dashboard.scope import Scope, rate
from voice.models import Complaint, VisitRating

RATING, COMPLAINT = "rating", "complaint"
METRICS = (RATING, COMPLAINT)
MONEY = DecimalField(max_digits=18, decimal_places=2)


def _team_key(team: str) -> Concat:
    return Concat(
        Cast(f"{team}_id", CharField()),
        Value("|"),
        F(f"{team}__branch__code"),
        Value(" / "),
        F(f"{team}__name"),
        output_field=CharField(),
    )


def period_parts(scope: Scope) -> list:
    """The period's ratings and complaints on the scoped cases, grouped by team and collector, in the period
    facts' row shape."""
    period = Q(created_at__gte=scope.starts, created_at__lt=scope.ends)
    no_week = Cast(Value(None), DateField())
    ratings = (
        VisitRating.objects.filter(period, scope.in_cases())
        .annotate(u_metric=Value(RATING), u_key=_team_key("team"), u_collector=F("collector_id"), u_week=no_week)
        .values_list("u_metric", "u_key", "u_collector", "u_week")
        .annotate(u_n=Count("id"), u_amount=Cast(Count("id", filter=Q(rating__gte=VisitRating.SATISFIED)), MONEY))
        .order_by()
    )
    complaints = (
        Complaint.objects.filter(period, scope.in_cases())
        .annotate(
            u_metric=Value(COMPLAINT),
            u_key=_team_key("case__team"),
            u_collector=F("collector_named_id"),
            u_week=no_week,
        )
        .values_list("u_metric", "u_key", "u_collector", "u_week")
        .annotate(u_n=Count("id"), u_amount=Cast(Value(0), MONEY))
        .order_by()
    )
    return [ratings, complaints]


def _per_100(complaints: int, visits: int) -> float | None:
    """Complaints per 100 visits, 2 places; None when there were no visits (nothing to divide by)."""
    if not visits:
        return None
    return round(100 * complaints / visits, 2)


def _scores(responses: int, satisfied, complaints: int, visits: int) -> dict:
    satisfied = int(satisfied)
    return {
        "responses": responses,
        "satisfied": satisfied,
        "csat": rate(satisfied, responses) if responses else None,
        "complaints": complaints,
        "complaints_per_100_visits": _per_100(complaints, visits),
    }


def satisfaction_block(*, facts: dict, collectors: list[dict]) -> dict:
    """Adds the scores to each collector row (ratings of their visits, complaints naming them) and returns the
    teams' and the scope's. A team's ratings and complaints are those of its cases; its visits, those of its
    collectors listed. CSAT is None with no rating."""
    ratings, complaints = facts[RATING], facts[COMPLAINT]
    team_visits: dict[str, int] = {}
    for row in collectors:
        n, happy = ratings["collector"].get(row["pk"], (0, 0))
        named = complaints["collector"].get(row["pk"], (0, 0))[0]
        row.update(_scores(n, happy, named, row["visits"]))
        team_visits[str(row["team_id"])] = team_visits.get(str(row["team_id"]), 0) + row["visits"]
    labels = {key.split("|", 1)[0]: key.split("|", 1)[1] for key in (*ratings["key"], *complaints["key"])}
    teams = []
    for team_id, label in sorted(labels.items(), key=lambda item: item[1]):
        key = f"{team_id}|{label}"
        n, happy = ratings["key"].get(key, (0, 0))
        filed = complaints["key"].get(key, (0, 0))[0]
        teams.append({"team": label, **_scores(n, happy, filed, team_visits.get(team_id, 0))})
    visits = facts[DayTally.Metric.VISIT]["total"][0]
    return {**_scores(*ratings["total"], complaints["total"][0], visits), "teams": teams}
