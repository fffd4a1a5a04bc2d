"""Form widgets shared by every app's forms."""

from django import forms


class DateInput(forms.DateInput):
    """The phone's native date picker. Its value is always ISO (2026-12-11), the only format
    ``<input type="date">`` reads: a date rendered in the language's format (2026/12/11 in Chinese)
    would open the field empty."""

    input_type = "date"

    def __init__(self, attrs=None):
        super().__init__(attrs, format="%Y-%m-%d")
