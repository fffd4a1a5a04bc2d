"""What the field work adds to the case pages (registered at start-up by ``VisitsConfig.ready``)."""

from django.utils.translation import gettext as _

from collections_app.models import CaseEvent
from collections_app.panels import CasePanel, payload_label, register_case_panel, register_event_describer
from collections_app.panels import register_payload_choices as _choices
from visits import selectors
from visits.forms import ContactAttemptForm
from visits.models import ContactAttempt, Party, Visit


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


def register() -> None:
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
