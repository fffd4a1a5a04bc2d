"""What the field work adds to the case pages (registered at start-up by ``VisitsConfig.ready``)."""

from django.utils import timezone
from django.utils.translation import gettext as _

from collections_app.models import CaseEvent, User
from collections_app.panels import (
    CasePanel,
    HomePanel,
    payload_label,
    register_case_panel,
    register_event_describer,
    register_home_panel,
)
from collections_app.panels import register_payload_choices as _choices
from visits import selectors
from visits.forms import ContactAttemptForm
from visits.models import ContactAttempt, Party, Visit
from visits.selectors_today import saved_start, today_route


def _contact_form(case) -> ContactAttemptForm:
    """The contact attempt form offering the borrower's phones already loaded with the case.

    A ``ModelChoiceField`` copies its queryset, so rendering it would read the phones again;
    fixed choices built the field's own way (its iterator, its empty label) render the same options.
    Only the page renders this form: the POST goes to ``contact-attempt-create``, which validates
    against the queryset as usual."""
    form = ContactAttemptForm(case=case)
    field = form.fields["phone"]
    options = [field.iterator(field).choice(phone) for phone in case.account.borrower.phones.all()]
    field.choices = ([("", field.empty_label)] if field.empty_label is not None else []) + options
    return form


def _visit_plan(case):
    # Selected with the case by ``case_for_page`` (None when there is none); read here otherwise.
    if type(case).visit_plan.is_cached(case):
        return getattr(case, "visit_plan", None)
    return selectors.case_visit_plan(case)


def preparation_context(*, user, case, can_act: bool) -> dict:
    return {"visit_plan": _visit_plan(case)}


def visits_context(*, user, case, can_act: bool) -> dict:
    visits = selectors.loaded_visits(case)
    return {"visits": visits if visits is not None else list(selectors.case_visits(case))}


def contact_attempts_context(*, user, case, can_act: bool) -> dict:
    return {
        "contact_attempts": list(selectors.case_contact_attempts(case)),
        "contact_form": _contact_form(case) if can_act and case.is_open else None,
    }


def describe_contact_attempt(payload: dict) -> str:
    parts = [payload_label(key, payload.get(key)) for key in ("channel", "party", "result")]
    return " · ".join(filter(None, [*parts, payload.get("phone", "")]))


def describe_visit(payload: dict) -> str:
    return _("%(outcome)s · met: %(met)s · %(photos)s photo(s)") % {
        "outcome": payload_label("outcome", payload.get("outcome")),
        "met": payload_label("met", payload.get("met")) or "—",
        "photos": payload.get("photos", 0),
    }


def home_route_context(*, user, request=None) -> dict:
    """A collector's home opens on today's route, from the start they gave on ``/today/`` if any."""
    if not user.is_collector:
        return {}
    collector = User.objects.select_related("team__branch").get(pk=user.pk)
    start = saved_start(request.session, user) if request is not None else None
    return {"home_route": today_route(viewer=user, collector=collector, start=start, now=timezone.now())}


def register() -> None:
    # Before every other block of the home page: a collector's day starts from the route.
    register_home_panel(
        HomePanel(name="visits.today", template="visits/_home_today.html", order=-10, context=home_route_context)
    )
    register_case_panel(
        CasePanel(
            name="visits.preparation",
            template="visits/_case_preparation.html",
            order=20,
            context=preparation_context,
            select_related=("visit_plan__address",),
        )
    )
    register_case_panel(
        CasePanel(
            name="visits.visits",
            template="visits/_case_visits.html",
            order=30,
            context=visits_context,
            prefetch_related=(selectors.page_visits(),),
        )
    )
    register_case_panel(
        CasePanel(
            name="visits.contact_attempts",
            template="visits/_case_contact_attempts.html",
            order=40,
            context=contact_attempts_context,
        )
    )
    for key, choices in {
        "outcome": Visit.Outcome,
        "met": Party,
        "party": Party,
        "channel": ContactAttempt.Channel,
        "result": ContactAttempt.Result,
    }.items():
        _choices(key, choices)
    register_event_describer(CaseEvent.Kind.CONTACT_ATTEMPT, describe_contact_attempt)
    register_event_describer(CaseEvent.Kind.VISIT, describe_visit)
