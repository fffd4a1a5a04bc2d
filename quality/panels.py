"""What quality review adds to the case page (registered at start-up by ``QualityConfig.ready``)."""

from decimal import Decimal

from django.db.models import Exists, OuterRef, Subquery

from collections_app.json_rows import decode_rows, json_rows
from collections_app.panels import CasePanel, HomePanel, register_case_panel, register_home_panel
from quality import playbooks, safety, selectors
from quality import reviews as reviews_rules
from quality.forms_safety import CheckInForm
from quality.models import SafetyCheckIn, UnsafeAddress, VisitReview
from visits.selectors import case_visits, loaded_visits


def _reads_reviews(user) -> bool:
    # Supervisors pick and open reviews here; a collector reads theirs under "My reviews".
    return user.is_supervisor or (user.sees_everything and not user.is_manager)


def review_annotations(*, user) -> dict:
    """For a reader of reviews, the case's visit reviews read with the case."""
    if not _reads_reviews(user):
        return {}
    reviews = VisitReview.objects.filter(visit__case=OuterRef("pk"))
    return {
        "visit_reviews": json_rows(
            reviews, parent="visit__case", id="id", visit_id="visit_id", status="status", score="score"
        )
    }


def _reviews_by_visit(case) -> dict:
    if not hasattr(case, "visit_reviews"):  # not read with the case
        return {review.visit_id: review for review in VisitReview.objects.filter(visit__case=case)}
    return {
        row["visit_id"]: VisitReview(
            pk=row["id"],
            visit_id=row["visit_id"],
            status=row["status"],
            score=None if row["score"] is None else Decimal(str(row["score"])).quantize(Decimal("0.1")),
        )
        for row in decode_rows(case.visit_reviews)
    }


def review_context(*, user, case, can_act: bool) -> dict:
    if not _reads_reviews(user):
        return {"review_rows": []}
    visits = loaded_visits(case)
    if visits is None:
        visits = list(case_visits(case))
    reviews = _reviews_by_visit(case)
    rows = []
    for visit in visits:
        review = reviews.get(visit.pk)
        rows.append(
            {
                "visit": visit,
                "review": review,
                "can_pick": review is None and reviews_rules._supervises(user, _with_case(visit, case)),
            }
        )
    return {"review_rows": rows}


def _with_case(visit, case):
    visit.case = case  # the page's case, already loaded with its team
    return visit


_CHECKIN_FIELDS = ("id", "case_id", "checked_in_at", "expected_minutes")


def safety_annotations(*, user) -> dict:
    """For a collector, read with the case: their open check-in (on any case) and whether the planned
    visit address is flagged unsafe."""
    if not user.is_collector:
        return {}
    checkin = SafetyCheckIn.objects.filter(collector=user, status=SafetyCheckIn.Status.ON_SITE).order_by("pk")
    return {
        **{f"safety_checkin_{name}": Subquery(checkin.values(name)[:1]) for name in _CHECKIN_FIELDS},
        "safety_unsafe_address": Exists(UnsafeAddress.objects.filter(address_id=OuterRef("visit_plan__address_id"))),
    }


def _open_checkin(user, case) -> SafetyCheckIn | None:
    if not hasattr(case, "safety_checkin_id"):  # not read with the case
        return selectors.open_checkin(user)
    if case.safety_checkin_id is None:
        return None
    return SafetyCheckIn(
        collector=user,
        status=SafetyCheckIn.Status.ON_SITE,
        **{name: getattr(case, f"safety_checkin_{name}") for name in _CHECKIN_FIELDS},
    )


def safety_context(*, user, case, can_act: bool) -> dict:
    is_collector = user.is_collector and case.assigned_collector_id == user.pk and case.is_open
    if not is_collector:
        return {"safety_panel": False}
    checkin = _open_checkin(user, case)
    two_collectors = getattr(case, "safety_unsafe_address", None)
    if two_collectors is None:
        two_collectors = safety.needs_two_collectors(case, plan_loaded=True)
    return {
        "safety_panel": True,
        "safety_two_collectors": two_collectors,
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
        CasePanel(
            name="quality.safety",
            template="quality/_case_safety.html",
            order=5,
            context=safety_context,
            annotations=safety_annotations,
        )
    )
    register_case_panel(
        CasePanel(name="quality.playbook", template="quality/_case_playbook.html", order=25, context=playbook_context)
    )
    register_home_panel(
        HomePanel(name="quality.safety", template="quality/_home_safety.html", order=0, context=home_alerts)
    )
    register_case_panel(
        CasePanel(
            name="quality.reviews",
            template="quality/_case_reviews.html",
            order=35,
            context=review_context,
            annotations=review_annotations,
        )
    )
