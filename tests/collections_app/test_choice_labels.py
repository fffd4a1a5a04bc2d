"""``ChoiceLabels``: the same labels as Django's own ``get_FOO_display``, in the request's language."""

import pytest
from django.apps import apps
from django.db import models
from django.utils import translation

from collections_app.choice_labels import ChoiceLabels
from visits.models import Visit


def _labelled_fields():
    for model in apps.get_models():
        if issubclass(model, ChoiceLabels):
            for field in model._meta.concrete_fields:
                if field.choices:
                    yield model, field


LABELLED = list(_labelled_fields())


def test_the_case_pages_listed_models_take_the_cached_labels():
    names = {model.__name__ for model, _field in LABELLED}
    assert {"Case", "Visit", "ContactAttempt", "BorrowerPhone", "RepaymentPlan", "Payment", "Complaint"} <= names


@pytest.mark.parametrize("language", ["en", "zh-hans"])
@pytest.mark.parametrize(("model", "field"), LABELLED, ids=[f"{m.__name__}.{f.name}" for m, f in LABELLED])
def test_every_choice_reads_as_djangos_own_lookup_in_each_language(model, field, language):
    with translation.override(language):
        for value, _label in field.flatchoices:
            instance = model(**{field.attname: value})
            display = getattr(instance, f"get_{field.name}_display")()
            assert display == models.Model._get_FIELD_display(instance, field)


def test_labels_follow_the_active_language_after_the_first_lookup():
    visit = Visit(outcome="refused")
    with translation.override("en"):
        english = visit.get_outcome_display()
    with translation.override("zh-hans"):
        chinese = visit.get_outcome_display()
    assert (english, chinese) == ("Refused", "拒绝")


def test_a_value_outside_the_choices_reads_as_itself():
    assert Visit(outcome="no-such-outcome").get_outcome_display() == "no-such-outcome"
