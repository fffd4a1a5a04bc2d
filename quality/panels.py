"""What quality review adds to the case page (registered at start-up by ``QualityConfig.ready``)."""

from collections_app.panels import CasePanel, HomePanel, register_case_panel, register_home_panel
from quality import playbooks, reviews, safety, selectors
from quality.forms_safety import CheckInForm
from visits.models import Visit


def review_context(*, user, case, can_act: bool) -> dict:
    # Supervisors pick and open reviews here; a collector reads theirs under "My reviews".
    if not (user.is_supervisor or (user.sees_everything and not user.is_manager)):
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


def safety_context(*, user, case, can_act: bool) -> dict:
    is_collector = user.is_collector and case.assigned_collector_id == user.pk and case.is_open
    if not is_collector:
        return {"safety_panel": False}
    checkin = selectors.open_checkin(user)
    return {
        "safety_panel": True,
        "safety_two_collectors": safety.needs_two_collectors(case, plan_loaded=True),
        "safety_checkin": checkin,
        "safety_form": CheckInForm(case=case) if checkin is None else None,
    }


def playbook_context(*, user, case, can_act: bool) -> dict:
    if user.is_manager:
        return {"case_playbook": None}
    return {
        "case_playbook": playbooks.case_playbook(case),
        "playbook_can_mark": user.is_collector and case.assigned_collector_id == user.pk,
    }


def home_alerts(*, user, request=None) -> dict:
    return selectors.safety_alerts(user)


def register() -> None:
    register_case_panel(
        CasePanel(name="quality.safety", template="quality/_case_safety.html", order=5, context=safety_context)
    )
    register_case_panel(
        CasePanel(name="quality.playbook", template="quality/_case_playbook.html", order=25, context=playbook_context)
    )
    register_home_panel(
        HomePanel(name="quality.safety", template="quality/_home_safety.html", order=0, context=home_alerts)
    )
    register_case_panel(
        CasePanel(name="quality.reviews", template="quality/_case_reviews.html", order=35, context=review_context)
    )
