"""Recompute every account's stored screening key (after imports or a change of weights)."""

from django.core.management.base import BaseCommand

from collections_app.models import DelinquentAccount
from collections_app.services.screening import accounts_refresh_screening_keys


class Command(BaseCommand):
    help = "Recompute the screening priority key of every delinquent account (one set-based UPDATE)."

    def add_arguments(self, parser):
        parser.add_argument("--branch", help="only the accounts of this branch code")

    def handle(self, *args, branch: str | None = None, **options):
        queryset = DelinquentAccount.objects.all()
        if branch:
            queryset = queryset.filter(branch__code=branch)
        updated = accounts_refresh_screening_keys(queryset)
        self.stdout.write(self.style.SUCCESS(f"Screening keys refreshed: {updated} changed."))
