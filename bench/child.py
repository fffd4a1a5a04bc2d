"""Bench steps that change data, each run by ``bench.run`` in its own process on its own database
(``$BENCH_CHILD_URL``); the last line printed is the result as JSON.

``sweep``: the follow-up sweep as the beat runs it (``followups_sweep`` batch after batch, ``now`` fixed
at the start) over the checks due today, stopped after ``--max-seconds`` and extrapolated if unfinished.
``import``: ``import_file`` (what ``manage.py import_accounts`` runs) on a generated CSV.
"""

import argparse
import csv
import datetime as dt
import json
import os
import random
import time
from collections import Counter

from bench.common import OUT_DIR, configure

IMPORT_COLUMNS = [
    "account_no", "borrower_name", "national_id", "phone", "address", "branch_code", "product", "principal",
    "outstanding_balance", "overdue_amount", "overdue_since", "last_payment_date",
]  # fmt: skip


def sweep(max_seconds: float) -> dict:
    from django.utils import timezone

    from repayment.models import FollowUpCheck
    from repayment.services.followups import followups_sweep

    now = timezone.now()
    due = FollowUpCheck.objects.filter(status=FollowUpCheck.Status.PENDING, due_at__lte=now).count()
    outcomes: Counter = Counter()
    started = time.perf_counter()
    while time.perf_counter() - started < max_seconds:
        batch = followups_sweep(now=now)
        if not sum(batch.values()):
            break
        outcomes.update(batch)
    seconds = time.perf_counter() - started
    processed = sum(outcomes.values())
    rate = processed / seconds if seconds else 0.0
    return {
        "due": due,
        "processed": processed,
        "complete": processed >= due,
        "seconds": round(seconds, 1),
        "per_second": round(rate, 1),
        "projected_100k_s": round(100_000 / rate, 1) if rate else None,
        "outcomes": dict(outcomes),
    }


def write_import_file(rows: int, seed: int, branch_codes: list[str]) -> str:
    """A core-banking export of ``rows`` new accounts (deterministic), reused when present."""
    from bench.builders import CITIES, DISTRICTS, GIVEN, PRODUCTS, ROADS, SURNAMES, _dpd, _national_id
    from collections_app.aging import local_today

    path = OUT_DIR / f"import-{rows}-{seed}.csv"
    if path.exists():
        return str(path)
    rng, today = random.Random(seed), local_today()
    with open(path.with_suffix(".tmp"), "w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(IMPORT_COLUMNS)
        for i in range(rows):
            b = rng.randrange(len(branch_codes))
            amount = 10 ** rng.uniform(2.5, 5.5)
            writer.writerow(
                [
                    f"IM{i:012d}",
                    rng.choice(SURNAMES) + rng.choice(GIVEN) + rng.choice(GIVEN),
                    _national_id(i, b) if rng.random() < 0.1 else "",
                    f"1{rng.randint(3, 9)}{rng.randrange(10**9):09d}",
                    f"{CITIES[b % len(CITIES)][0]}市{rng.choice(DISTRICTS)}{rng.choice(ROADS)}{rng.randint(1, 999)}号",
                    branch_codes[b],
                    rng.choice(PRODUCTS),
                    f"{amount * 6:.2f}",
                    f"{amount * 5:.2f}",
                    f"{amount:.2f}",
                    (today - dt.timedelta(days=_dpd(rng))).isoformat(),
                    "",
                ]
            )
    path.with_suffix(".tmp").rename(path)
    return str(path)


def run_import(rows: int, seed: int) -> dict:
    from django.core.management import call_command

    from bench.builders import CITIES
    from collections_app.importer.services import import_file
    from collections_app.models import Branch

    call_command("migrate", verbosity=0, interactive=False)
    codes = [f"BE{b + 1:02d}" for b in range(20)]
    Branch.objects.bulk_create(
        Branch(code=code, name=f"{CITIES[b][0]}分行", region=CITIES[b][0]) for b, code in enumerate(codes)
    )
    path = write_import_file(rows, seed, codes)
    started = time.perf_counter()
    job = import_file(path=path)
    seconds = time.perf_counter() - started
    return {
        "rows": rows,
        "seconds": round(seconds, 1),
        "rows_per_second": round(rows / seconds, 1),
        "projected_1m_s": round(1_000_000 * seconds / rows, 1),
        "status": job.status,
        "created": job.created_count,
        "failed": job.error_count,
        "target": "an empty migrated database with the 20 bench branches; fresh account numbers",
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="step", required=True)
    sweep_args = sub.add_parser("sweep")
    sweep_args.add_argument("--max-seconds", type=float, default=240)
    import_args = sub.add_parser("import")
    import_args.add_argument("--rows", type=int, required=True)
    import_args.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    configure(os.environ["BENCH_CHILD_URL"])
    result = sweep(args.max_seconds) if args.step == "sweep" else run_import(args.rows, args.seed)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
