"""Bench data for the risk model: N current/delinquent accounts and a CSV of their monthly statements.

    python -m bench.risk_data --accounts 100000 --months 12 --out var/bench-statements.csv
    python manage.py import_statements var/bench-statements.csv
    python manage.py risk_train && python manage.py risk_score

Accounts are created in one branch with a planted payment behaviour (tests/risk/synthetic.py), so the
figures measure the code, not a lucky dataset.
"""

import argparse
import csv
import os
import sys
import time
from decimal import Decimal
from pathlib import Path


def main(argv=None) -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--accounts", type=int, default=100_000)
    parser.add_argument("--months", type=int, default=12)
    parser.add_argument("--out", default="var/bench-statements.csv")
    args = parser.parse_args(argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    import django

    django.setup()
    from collections_app.models import Borrower, Branch, DelinquentAccount
    from risk.features import day_to_date
    from tests.risk.synthetic import planted_history

    started = time.monotonic()
    branch, _ = Branch.objects.get_or_create(code="RB01", defaults={"name": "Risk bench"})
    borrower = Borrower.objects.create(name="Bench borrower")
    prefix = f"RB{int(time.time())}-"
    accounts = DelinquentAccount.objects.bulk_create(
        (
            DelinquentAccount(
                account_no=f"{prefix}{i:07d}",
                borrower=borrower,
                branch=branch,
                product="personal_consumer",
                principal=Decimal("25000.00"),
                outstanding_balance=Decimal("20000.00"),
                overdue_amount=Decimal("0.00"),
            )
            for i in range(args.accounts)
        ),
        batch_size=5000,
    )
    history, _facts = planted_history(args.accounts, args.months, seed=7)
    numbers = [a.account_no for a in accounts]
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["account_no", "period_end", "balance", "amount_due", "amount_paid", "dpd"])
        for i in range(len(history)):
            writer.writerow(
                [
                    numbers[history.account[i] - 1],
                    day_to_date(history.day[i]).isoformat(),
                    f"{history.balance[i]:.2f}",
                    f"{history.due[i]:.2f}",
                    f"{history.paid[i]:.2f}",
                    int(history.dpd[i]),
                ]
            )
    print(f"{args.accounts} accounts, {len(history)} statement rows in {out} ({time.monotonic() - started:.1f} s)")


if __name__ == "__main__":
    main()
