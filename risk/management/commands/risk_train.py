"""``python manage.py risk_train [--seed N]``: train, judge on the latest month, promote if not worse."""

import time

from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = "Train the risk model on the statement history; promote it if it is not worse than the one in use."

    def add_arguments(self, parser):
        parser.add_argument("--seed", type=int, default=0)

    def handle(self, *args, seed, **options):
        from risk.training import NotEnoughData, risk_train

        started = time.monotonic()
        try:
            record = risk_train(seed=seed)
        except NotEnoughData as exc:
            raise CommandError(str(exc.message)) from exc
        m, b = record.metrics["model"], record.metrics["baseline"]
        self.stdout.write(
            f"Model v{record.version} ({record.get_status_display()}): test {record.test_period}, "
            f"{record.metrics['train']['n']} training and {m['n']} test examples ({m['positives']} 30+ DPD); "
            f"AUC {m['auc']} (baseline {b['auc']}), Brier {m['brier']} (baseline {b['brier']}); "
            f"{time.monotonic() - started:.1f} s."
        )
        self.stdout.write(str(record.decision))
