import datetime as dt

from django.core.management.base import BaseCommand, CommandError

from collections_app.aging import local_today
from dashboard.services import bucket_snapshot_take


def _date(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError as exc:
        raise CommandError(f"--date must be a date like 2026-01-31, not {value!r}.") from exc


class Command(BaseCommand):
    help = "Record each account's aging bucket for a day (the nightly snapshot behind roll and cure rates)."

    def add_arguments(self, parser):
        parser.add_argument("--date", help="the day to snapshot, YYYY-MM-DD (default: today)")

    def handle(self, *args, **options):
        day = _date(options["date"]) if options["date"] else local_today()
        if day > local_today():
            raise CommandError("--date cannot be in the future.")
        added = bucket_snapshot_take(as_of=day)
        self.stdout.write(f"{day.isoformat()}: {added} snapshot rows added.")
