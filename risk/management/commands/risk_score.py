"""``python manage.py risk_score``: score every account with statements using the model in use."""

import time

from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = "Score every account's latest statement with the risk model in use."

    def handle(self, *args, **options):
        from risk.models import RiskModel
        from risk.scoring import risk_score_all

        if not RiskModel.objects.filter(status=RiskModel.Status.ACTIVE).exists():
            raise CommandError("No risk model is in use; run risk_train first.")
        started = time.monotonic()
        count = risk_score_all()
        self.stdout.write(f"Scored {count} accounts in {time.monotonic() - started:.1f} s.")
