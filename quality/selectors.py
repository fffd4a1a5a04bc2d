"""Reads for reviews, safety and playbooks, each scoped to what the user may see."""

from django.db.models import Avg, Count, QuerySet
from django.db.models.functions import TruncMonth
from django.shortcuts import get_object_or_404

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
        .values("collector__username")
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
