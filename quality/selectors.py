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
