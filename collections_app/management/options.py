"""Option parsing shared by the management commands."""

import datetime as dt

from django.core.management.base import CommandError


def iso_date(option: str, value: str) -> dt.date:
    """A command's date option, or an error that says how to write it."""
    try:
        return dt.date.fromisoformat(value)
    except ValueError as exc:
        raise CommandError(f"{option} must be a date like 2026-01-31, not {value!r}.") from exc
