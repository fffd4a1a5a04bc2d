"""``python manage.py import_accounts FILE [--as-of DATE] [--create-branches]``: exits 1 when any row failed."""

from functools import partial
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from collections_app.importer.services import import_file
from collections_app.management.options import iso_date
from collections_app.models import ImportJob, User


class Command(BaseCommand):
    help = "Import delinquent accounts from a core-banking export (CSV in UTF-8 or GBK, or XLSX)."

    def add_arguments(self, parser):
        parser.add_argument("file", help="CSV or XLSX file with a header row (see README, 'Importing accounts').")
        parser.add_argument(
            "--as-of",
            type=partial(iso_date, "--as-of"),
            help="Date the export was taken (for days_past_due); default today.",
        )
        parser.add_argument("--create-branches", action="store_true", help="Create branches the file names.")
        parser.add_argument("--user", help="Record the import as this user's (default: the system).")
        parser.add_argument("--report", help="Also write the error report (CSV) to this path.")

    def handle(self, *args, file, as_of, create_branches, user, report, **options):
        path = Path(file)
        if not path.is_file():
            raise CommandError(f"No such file: {path}")
        actor = None
        if user:
            actor = User.objects.filter(username=user).first()
            if actor is None:
                raise CommandError(f"No such user: {user}")
        job = import_file(path=path, actor=actor, as_of=as_of, create_branches=create_branches)
        if report and job.report:
            with job.report.open("rb") as src:
                Path(report).write_bytes(src.read())
        self.stdout.write(
            f"Import #{job.pk} {job.get_status_display()}: {job.total_rows} rows, {job.created_count} created, "
            f"{job.updated_count} updated, {job.unchanged_count} unchanged, {job.error_count} failed."
        )
        if job.message:
            self.stdout.write(str(job.message))
        if job.report:
            self.stdout.write(f"Report: {report or job.report.name} (in the media storage)")
        if job.status == ImportJob.Status.FAILED:
            raise CommandError(job.message or "The import failed.")
        if job.error_count:
            raise CommandError(f"{job.error_count} rows failed; see the report.")
