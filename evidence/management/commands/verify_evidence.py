"""``python manage.py verify_evidence CASE_ID [CASE_ID …] [--audit]``: recompute the hash chains.

Exits with an error when a chain is broken or a photo no longer matches, naming the first row that fails.
"""

from django.core.management.base import BaseCommand, CommandError

from collections_app import chain
from collections_app.models import Case
from evidence.verify import verify_case_evidence


def describe_chain(report: chain.ChainReport) -> str:
    if report.ok:
        return f"OK: {report.links} links, head {report.head_hash or '-'}, {report.unsealed} not yet sealed"
    where = f"row {report.broken_row_id} (link {report.broken_seq})" if report.broken_row_id else "the tail"
    return f"BROKEN at {where}: {report.reason}"


class Command(BaseCommand):
    help = "Recompute the hash chain of cases (and of the audit trail) and report the first row that fails."

    def add_arguments(self, parser):
        parser.add_argument("case_ids", nargs="*", type=int, metavar="CASE_ID")
        parser.add_argument("--audit", action="store_true", help="Also verify the audit trail's chain.")
        parser.add_argument("--seal", action="store_true", help="Seal rows still waiting for the sweep first.")

    def handle(self, *args, case_ids: list[int], audit: bool, seal: bool, **options):
        if not case_ids and not audit:
            raise CommandError("Name at least one CASE_ID, or --audit.")
        unknown = set(case_ids) - set(Case.objects.filter(pk__in=case_ids).values_list("pk", flat=True))
        if unknown:
            raise CommandError(f"No case {', '.join(map(str, sorted(unknown)))}.")
        if seal:
            chain.seal_cases(case_ids)
            chain.seal_audit()
        failed = False
        for case_id in case_ids:
            result = verify_case_evidence(case_id)
            self.stdout.write(f"case {case_id}: {describe_chain(result.chain)}; {result.photos_checked} photo(s)")
            for problem in result.photo_problems:
                self.stdout.write(f"  photo {problem.photo_id} (visit {problem.visit_id}): {problem.reason}")
            failed |= not result.ok
        if audit:
            report = chain.verify_audit()
            self.stdout.write(f"audit trail: {describe_chain(report)}")
            failed |= not report.ok
        if failed:
            raise CommandError("Evidence does not verify.")
