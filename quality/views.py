"""Quality pages: the review queue, a review, the collector's reviews; picking a visit for review."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from collections_app.exceptions import DoorstepError
from collections_app.models import Case
from quality import reviews, selectors
from quality.forms import ReplyForm, ReviewForm
from quality.models import RubricItem, Verdict, VisitReview
from visits.models import Visit


@require_GET
def review_queue(request):
    if request.user.is_collector:
        return redirect("my-reviews")
    context = {
        "queue": selectors.review_queue(request.user),
        "recent": selectors.recent_reviews(request.user),
        "by_collector": selectors.quality_by_collector(request.user),
    }
    return render(request, "quality/review_queue.html", context)


@require_GET
def my_reviews(request):
    if not request.user.is_collector:
        raise PermissionDenied(_("This page lists a collector's own reviews."))
    context = {
        "reviews": selectors.recent_reviews(request.user, limit=100),
        "by_month": selectors.quality_by_month(request.user),
    }
    return render(request, "quality/my_reviews.html", context)


@require_GET
def collector_quality(request, pk: int):
    """A collector's quality score over time: the collector's own, their supervisor's, a manager's view."""
    return render(request, "quality/collector_quality.html", selectors.collector_quality(request.user, pk))


def _rubric(review: VisitReview) -> list[dict]:
    return [
        {
            "label": label,
            "verdict": Verdict((review.items.get(item) or {}).get("verdict", Verdict.NOT_APPLICABLE)),
            "note": (review.items.get(item) or {}).get("note", ""),
        }
        for item, label in RubricItem.choices
    ]


@require_http_methods(["GET", "POST"])
def review_detail(request, pk: int):
    review = selectors.review_for_user(request.user, pk)
    can_review = review.status == VisitReview.Status.PENDING and reviews._supervises(request.user, review.visit)
    form = ReviewForm(request.POST or None) if can_review else None
    if request.method == "POST":
        if form is None:
            raise PermissionDenied(_("You may not review this visit."))
        if form.is_valid():
            try:
                reviews.review_submit(
                    review=review,
                    actor=request.user,
                    items=form.items(),
                    comment=form.cleaned_data["comment"],
                    playbook=form.cleaned_data["playbook"],
                    playbook_section=form.cleaned_data["playbook_section"],
                    unsafe_address=form.cleaned_data["unsafe_address"],
                )
            except DoorstepError as exc:
                form.add_error(None, exc.message)
            else:
                messages.success(request, _("Review saved; the collector has been told."))
                return redirect("review-queue")
    can_reply = (
        review.collector_id == request.user.pk and review.status == VisitReview.Status.DONE and not review.replied_at
    )
    context = {
        "review": review,
        "visit": review.visit,
        "form": form,
        "rubric": _rubric(review) if review.status == VisitReview.Status.DONE else [],
        "reply_form": ReplyForm() if can_reply else None,
    }
    return render(request, "quality/review_detail.html", context)


@require_POST
def review_reply(request, pk: int):
    review = selectors.review_for_user(request.user, pk)
    form = ReplyForm(request.POST)
    if form.is_valid():
        try:
            reviews.review_reply(review=review, actor=request.user, reply=form.cleaned_data["reply"])
        except DoorstepError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, _("Reply sent."))
    else:
        messages.error(request, _("Write a reply."))
    return redirect(review)


@require_POST
def review_pick(request, pk: int):
    visit = get_object_or_404(
        Visit.objects.filter(case__in=Case.objects.visible_to(request.user)).select_related("case__team"), pk=pk
    )
    try:
        review = reviews.review_pick(visit=visit, actor=request.user)
    except DoorstepError as exc:
        raise PermissionDenied(exc.message) from exc
    messages.success(request, _("The visit is in the review queue."))
    return redirect(review)
