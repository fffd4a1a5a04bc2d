"""``get_FOO_display`` that does not rebuild the field's choices on every call.

Django's ``Model._get_FIELD_display`` hashes every (value, label) pair of the field's choices on each call, and
hashing a lazy label translates it: a list of thirty visits with three labelled fields each translated every
choice of every field ninety times, about a seventh of the case page's CPU time. ``ChoiceLabels`` maps value
to label once per field; the labels stay lazy, so each still renders in the request's language. Fields whose
choices are computed (a callable) keep Django's own lookup.
"""

from functools import cache

from django.utils.encoding import force_str
from django.utils.hashable import make_hashable


@cache
def _labels(field) -> dict:
    return {make_hashable(value): label for value, label in field.flatchoices}


class ChoiceLabels:
    """Mix into a model (before ``models.Model``) whose labels are shown in lists."""

    def _get_FIELD_display(self, field):
        if not isinstance(field.choices, list | tuple):
            return super()._get_FIELD_display(field)
        value = getattr(self, field.attname)
        return force_str(_labels(field).get(make_hashable(value), value), strings_only=True)
