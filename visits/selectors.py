"""Reads for the field work, always scoped through ``Case.objects.visible_to``."""

from django.conf import settings
from django.db.models import Count, Prefetch, QuerySet
from django.utils import timezone

from collections_app.models import Case, User
from collections_app.rules import active_pack, borrower_timezone
from visits.models import ContactAttempt, Visit, VisitPhoto, VisitPlan
from visits.rules import unanswered_attempts

FINANCIAL_FIELDS = ("monthly_income", "monthly_expenses", "other_debt_payments")


def latest_financials(case: Case) -> dict | None:
    """The borrower's financial situation from the latest visit that recorded any of it.

    Keys: ``monthly_income``, ``monthly_expenses``, ``other_debt_payments`` (Decimal or None),
    ``visit_id``, ``visited_at``. None when no visit recorded any figure. Read from the visits the
    case page loaded with the case (``loaded_visits``) when there are.
    """
    visits = loaded_visits(case)
    if visits is not None:
        visit = next((v for v in visits if any(getattr(v, f) is not None for f in FINANCIAL_FIELDS)), None)
        row = (
            None
            if visit is None
            else {"id": visit.pk, "checked_in_at": visit.checked_in_at}
            | {field: getattr(visit, field) for field in FINANCIAL_FIELDS}
        )
    else:
        row = (
            Visit.objects.filter(case=case)
            .exclude(monthly_income__isnull=True, monthly_expenses__isnull=True, other_debt_payments__isnull=True)
            .order_by("-checked_in_at", "-id")
            .values("id", "checked_in_at", *FINANCIAL_FIELDS)
            .first()
        )
    if row is None:
        return None
    return {
        **{field: row[field] for field in FINANCIAL_FIELDS},
        "visit_id": row["id"],
        "visited_at": row["checked_in_at"],
    }


def _page_visits() -> QuerySet[Visit]:
    # Each with its collector and its number of photos: the case page shows the count, not the photos.
    return (
        Visit.objects.select_related("collector")
        .annotate(photo_count=Count("photos"))
        .order_by("-checked_in_at", "-id")
    )


def page_visits() -> Prefetch:
    """The case's visits, newest first, as the case page loads them with the case."""
    return Prefetch("visits", queryset=_page_visits())


def loaded_visits(case: Case) -> list[Visit] | None:
    """The visits loaded with the case by ``page_visits`` (newest first), None when they were not."""
    if "visits" not in getattr(case, "_prefetched_objects_cache", {}):
        return None
    return list(case.visits.all())


def case_visits(case: Case) -> QuerySet[Visit]:
    return _page_visits().filter(case=case)


def case_contact_attempts(case: Case, limit: int = 50) -> QuerySet[ContactAttempt]:
    return ContactAttempt.objects.filter(case=case).select_related("actor").order_by("-attempted_at", "-id")[:limit]


def case_visit_plan(case: Case) -> VisitPlan | None:
    return VisitPlan.objects.filter(case=case).select_related("address").first()


def rule_hints(case: Case, *, consent: bool = False) -> dict:
    """What the forms' live checks (``static/js/app.js``) need to warn before a submit the rules would refuse:
    the pack's quiet hours in the borrower's time zone, the time zone the form's times are typed in, whether
    the borrower consented to a visit in the quiet hours, and the longest plausible visit."""
    pack = active_pack()
    return {
        "quiet_start": pack.quiet_start.strftime("%H:%M"),
        "quiet_end": pack.quiet_end.strftime("%H:%M"),
        "borrower_tz": borrower_timezone(case).key,
        "input_tz": timezone.get_current_timezone_name(),
        "consent": consent,
        "max_minutes": getattr(settings, "DOORSTEP_VISIT_MAX_MINUTES", 240),
    }


def attempt_cap_hints(case: Case) -> dict:
    """For the contact form's live check: unanswered calls already counted against each of the borrower's
    numbers now (per number, or the debt's total when the pack counts per debt) and the pack's limit."""
    pack = active_pack()
    now = timezone.now()
    phones = list(case.account.borrower.phones.all())
    if pack.attempts_per_number:
        used = {str(p.pk): unanswered_attempts(case=case, phone_number=p.number, when=now) for p in phones}
    else:
        total = unanswered_attempts(case=case, phone_number="", when=now)
        used = {str(p.pk): total for p in phones}
    return {"attempts_max": pack.max_unanswered_attempts, "attempts_used": used}


def visit_for_user(user: User, pk: int) -> Visit:
    """A visit whose case the user may see (``Visit.DoesNotExist`` otherwise)."""
    return (
        Visit.objects.filter(case__in=Case.objects.visible_to(user))
        .select_related("case__account__borrower", "case__team", "collector")
        .prefetch_related("photos")
        .get(pk=pk)
    )


def photo_for_user(user: User, pk: int) -> VisitPhoto:
    return VisitPhoto.objects.filter(visit__case__in=Case.objects.visible_to(user)).select_related("visit").get(pk=pk)
