"""Reads for reviews, safety and playbooks, each scoped to what the user may see."""

import datetime as dt
from decimal import Decimal

from django.db.models import Avg, Count, DecimalField, OuterRef, QuerySet, Subquery
from django.db.models.functions import TruncMonth
from django.shortcuts import get_object_or_404
from django.utils import timezone

from collections_app.models import Case, User
from quality.models import VisitReview


def reviews_visible_to(user: User) -> QuerySet[VisitReview]:
    """Supervisors: their teams' visits; managers: all; a collector: reviews of their own visits."""
    if not user.is_authenticated:
        return VisitReview.objects.none()
    if user.is_collector:
        return VisitReview.objects.filter(collector=user)
    return VisitReview.objects.filter(visit__case__in=Case.objects.visible_to(user))


def review_queue(user: User) -> list[VisitReview]:
    if user.is_collector:
        return []
    return list(
        reviews_visible_to(user)
        .filter(status=VisitReview.Status.PENDING)
        .select_related("visit__case__account__borrower", "collector")
        .order_by("selected_at", "id")[:200]
    )


def recent_reviews(user: User, limit: int = 50) -> list[VisitReview]:
    return list(
        reviews_visible_to(user)
        .filter(status=VisitReview.Status.DONE)
        .select_related("visit__case", "collector", "reviewer")
        .order_by("-reviewed_at", "-id")[:limit]
    )


def quality_by_collector(user: User, *, days: int = 90) -> list[dict]:
    """Average review score per collector over the last ``days``, for the collectors in the user's scope."""
    import datetime as dt

    from django.utils import timezone

    return list(
        reviews_visible_to(user)
        .filter(
            status=VisitReview.Status.DONE,
            score__isnull=False,
            reviewed_at__gte=timezone.now() - dt.timedelta(days=days),
        )
        .values("collector_id", "collector__username")
        .annotate(score=Avg("score"), reviews=Count("id"))
        .order_by("score", "collector__username")
    )


def review_for_user(user: User, pk: int) -> VisitReview:
    reviews = reviews_visible_to(user).select_related(
        "visit__case__account__borrower", "visit__case__team", "visit__collector", "collector", "reviewer", "playbook"
    )
    return get_object_or_404(reviews, pk=pk)


def quality_by_month(collector: User) -> list[dict]:
    """The collector's average review score per month, oldest first."""
    return list(
        VisitReview.objects.filter(collector=collector, status=VisitReview.Status.DONE, score__isnull=False)
        .annotate(month=TruncMonth("reviewed_at"))
        .values("month")
        .annotate(score=Avg("score"), reviews=Count("id"))
        .order_by("month")
    )


SCORE_PLACES = Decimal("0.1")
TREND_MONTHS = 6


def month_starts(last_day: dt.date, months: int = TREND_MONTHS) -> list[dt.date]:
    """The first days of the ``months`` calendar months ending with ``last_day``'s, oldest first."""
    year, month = last_day.year, last_day.month
    starts = []
    for _step in range(months):
        starts.append(dt.date(year, month, 1))
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return starts[::-1]


def _aware(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


def _score_between(start: dt.datetime, end: dt.datetime) -> Subquery:
    """The average review score of the outer row's collector (``OuterRef("pk")``) for reviews in [start, end)."""
    reviews = (
        VisitReview.objects.filter(
            collector=OuterRef("pk"),
            status=VisitReview.Status.DONE,
            score__isnull=False,
            reviewed_at__gte=start,
            reviewed_at__lt=end,
        )
        .order_by()
        .values("collector")
        .annotate(avg=Avg("score"))
        .values("avg")
    )
    return Subquery(reviews, output_field=DecimalField(max_digits=7, decimal_places=3))


def collector_score_annotations(*, period: tuple[dt.datetime, dt.datetime], last_day: dt.date) -> dict:
    """Annotations for a query over collectors (``User``): ``quality`` the average score in the period,
    ``quality_m0``… the average of each of the last ``TREND_MONTHS`` months, oldest first. Subqueries on the
    (collector, reviewed_at) index, so a page listing collectors gets their scores in the same query."""
    starts = month_starts(last_day)
    ends = [*starts[1:], _next_month(starts[-1])]
    annotations = {"quality": _score_between(*period)}
    for n, (start, end) in enumerate(zip(starts, ends, strict=True)):
        annotations[f"quality_m{n}"] = _score_between(_aware(start), _aware(end))
    return annotations


def _next_month(day: dt.date) -> dt.date:
    return dt.date(day.year + day.month // 12, day.month % 12 + 1, 1)


def score_trend(row: dict, last_day: dt.date) -> list[dict]:
    """The ``quality_m…`` values of an annotated row as ``[{"month": date, "score": Decimal | None}]``."""
    return [
        {"month": month, "score": rounded_score(row.get(f"quality_m{n}"))}
        for n, month in enumerate(month_starts(last_day))
    ]


def rounded_score(value) -> Decimal | None:
    return None if value is None else Decimal(value).quantize(SCORE_PLACES)


def collectors_visible_to(user: User) -> QuerySet[User]:
    """Whose quality a user may read: a collector their own; a supervisor the collectors of the teams they
    supervise; managers and administrators every collector."""
    collectors = User.objects.filter(role="collector")
    if not user.is_authenticated:
        return collectors.none()
    if user.sees_everything:
        return collectors
    if user.is_supervisor:
        return collectors.filter(team__supervisor=user)
    return collectors.filter(pk=user.pk)


def collector_quality(user: User, pk: int, *, months: int = 12) -> dict:
    """One collector's quality page: the score per month over the last ``months`` (one query, every month
    listed, a month without a review as None) and their latest reviews."""
    collector = get_object_or_404(collectors_visible_to(user).select_related("team"), pk=pk)
    today = timezone.localdate()
    starts = month_starts(today, months)
    scored = {
        timezone.localtime(row["month"]).date() if isinstance(row["month"], dt.datetime) else row["month"]: row
        for row in VisitReview.objects.filter(
            collector=collector,
            status=VisitReview.Status.DONE,
            score__isnull=False,
            reviewed_at__gte=_aware(starts[0]),
        )
        .annotate(month=TruncMonth("reviewed_at"))
        .values("month")
        .annotate(score=Avg("score"), reviews=Count("id"))
        .order_by("month")
    }
    trend = [
        {
            "month": month,
            "score": rounded_score(scored.get(month, {}).get("score")),
            "reviews": scored.get(month, {}).get("reviews", 0),
        }
        for month in starts
    ]
    reviews = list(
        VisitReview.objects.filter(collector=collector, status=VisitReview.Status.DONE)
        .select_related("visit__case", "reviewer")
        .order_by("-reviewed_at", "-id")[:20]
    )
    return {"collector": collector, "trend": trend, "reviews": reviews}


# --- field safety -------------------------------------------------------------------------------------


def open_checkin(user: User):
    from quality.models import SafetyCheckIn

    if not user.is_collector:
        return None
    return SafetyCheckIn.objects.filter(collector=user, status=SafetyCheckIn.Status.ON_SITE).first()


def safety_alerts(user: User) -> dict:
    """For the home page: collectors overdue on a visit and help requests of the last day, in the user's scope.
    Supervisors see their teams' alerts; managers the ones escalated to them and every help request."""
    import datetime as dt

    from django.utils import timezone

    from quality.models import HelpRequest, SafetyCheckIn

    if not (user.is_supervisor or user.sees_everything):
        return {"safety_overdue": [], "safety_help": []}
    overdue = SafetyCheckIn.objects.filter(status=SafetyCheckIn.Status.ON_SITE, alerted_at__isnull=False)
    help_requests = HelpRequest.objects.filter(pressed_at__gte=timezone.now() - dt.timedelta(days=1))
    if user.sees_everything:
        overdue = overdue.filter(escalated_at__isnull=False)
    else:
        overdue = overdue.filter(case__team__supervisor=user)
        help_requests = help_requests.filter(collector__team__supervisor=user)
    return {
        "safety_overdue": list(overdue.select_related("collector", "case").order_by("alerted_at")[:50]),
        "safety_help": list(help_requests.select_related("collector").order_by("-pressed_at")[:50]),
    }
