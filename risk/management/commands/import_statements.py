"""``python manage.py import_statements FILE [--as-of DATE]``: exits 1 when any row failed."""

import datetime as dt
import time
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from collections_app.exceptions import DoorstepError
from collections_app.services.audit import audit_log


def _date(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError as exc:
        raise CommandError(f"--as-of must be a date like 2026-01-31, not {value!r}.") from exc


class Command(BaseCommand):
    help = "Load monthly statements (CSV in UTF-8 or GBK, or XLSX); see README, 'Risk and early warning'."

    def add_arguments(self, parser):
        parser.add_argument("file")
        parser.add_argument("--as-of", type=_date, help="Statements after this date are refused; default today.")

    def handle(self, *args, file, as_of, **options):
        from risk.statements import statements_load

        path = Path(file)
        if not path.is_file():
            raise CommandError(f"No such file: {path}")
        started = time.monotonic()
        try:
            result = statements_load(path=path, as_of=as_of)
        except DoorstepError as exc:
            raise CommandError(str(exc.message)) from exc
        seconds = time.monotonic() - started
        audit_log(
            actor=None,
            action="statements.import",
            object_type="statements",
            changes={
                "file": path.name,
                "created": result.created,
                "unchanged": result.unchanged,
                "errors": result.error_count,
            },
        )
        self.stdout.write(
            f"{result.total} rows: {result.created} created, {result.unchanged} unchanged, "
            f"{result.error_count} failed ({seconds:.1f} s)."
        )
        for error in result.errors[:50]:
            self.stdout.write(f"row {error['row']}: {error['message']}")
        if result.error_count:
            raise CommandError(f"{result.error_count} rows failed.")
