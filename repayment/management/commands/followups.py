from django.core.management.base import BaseCommand, CommandError

from repayment.services.followups import followups_sweep_all


class Command(BaseCommand):
    help = "Follow-up engine: evaluate the due promise, instalment, reminder and care-revisit checks."

    def add_arguments(self, parser):
        parser.add_argument(
            "--run-once", action="store_true", help="run one sweep now (every due check, batch by batch) and exit"
        )
        parser.add_argument("--limit", type=int, default=None, help="evaluate at most this many checks")

    def handle(self, *args, run_once: bool, limit: int | None, **options):
        if not run_once:
            raise CommandError("Use --run-once (the Celery beat runs the sweep every minute).")
        outcomes = followups_sweep_all(limit=limit)
        total = sum(outcomes.values())
        detail = ", ".join(f"{name}: {count}" for name, count in sorted(outcomes.items())) or "nothing due"
        self.stdout.write(self.style.SUCCESS(f"Follow-up sweep: {total} checks ({detail})."))
