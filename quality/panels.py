"""What quality review adds to the case page (registered at start-up by ``QualityConfig.ready``)."""

from collections_app.panels import CasePanel, register_case_panel
from quality import reviews
from visits.models import Visit


def review_context(*, user, case, can_act: bool) -> dict:
    if user.is_manager or not (user.is_supervisor or user.is_collector or user.sees_everything):
        return {"review_rows": []}
    visits = list(
        Visit.objects.filter(case=case).select_related("review", "collector").order_by("-checked_in_at", "-id")
    )
    rows = []
    for visit in visits:
        review = getattr(visit, "review", None)
        rows.append(
            {
                "visit": visit,
                "review": review,
                "can_pick": review is None and reviews._supervises(user, _with_case(visit, case)),
            }
        )
    return {"review_rows": rows}


def _with_case(visit, case):
    visit.case = case  # the page's case, already loaded with its team
    return visit


def register() -> None:
    register_case_panel(
        CasePanel(name="quality.reviews", template="quality/_case_reviews.html", order=35, context=review_context)
    )
