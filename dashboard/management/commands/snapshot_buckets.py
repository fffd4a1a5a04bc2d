from django.core.management.base import BaseCommand, CommandError

from collections_app.aging import local_today
from collections_app.management.options import iso_date
from dashboard.services import bucket_snapshot_take


class Command(BaseCommand):
    help = "Record each account's aging bucket for a day (the nightly snapshot behind roll and cure rates)."

    def add_arguments(self, parser):
        parser.add_argument("--date", help="the day to snapshot, YYYY-MM-DD (default: today)")

    def handle(self, *args, **options):
        day = iso_date("--date", options["date"]) if options["date"] else local_today()
        if day > local_today():
            raise CommandError("--date cannot be in the future.")
        added = bucket_snapshot_take(as_of=day)
        self.stdout.write(f"{day.isoformat()}: {added} snapshot rows added.")
