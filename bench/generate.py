"""``python -m bench.generate --scale 10k|100k|1m --seed N``: a fresh PostgreSQL bench database.

Drops and creates ``doorstep_bench_<scale>`` on the server ``$DATABASE_URL`` names (default the local
PostgreSQL; SQLite is refused), migrates it, loads the synthetic data with COPY from in-memory CSV
chunks (foreign-key triggers off during the load: the generator writes consistent ids), takes the
dashboard's bucket snapshots and ANALYZEs. Same seed and day, same data.

``generate(...)`` is the same load into whatever database Django is connected to (the tests use it
on the test database, with INSERTs instead of COPY on SQLite).
"""

import argparse
import datetime as dt
import json
import random
import sys
import time
from zoneinfo import ZoneInfo

from bench.common import OUT_DIR, SCALES, Sizes, database_url, db_name, require_postgres, server_url


def generate(sizes: Sizes, *, seed: int, today: dt.date | None = None, prefix: str = "bench", log=None) -> dict:
    """Load the synthetic data; returns the row counts and seconds per step."""
    from django.conf import settings
    from django.core.management.color import no_style
    from django.db import connection, transaction

    from bench import builders, builders_cases, builders_repayment
    from bench.writer import Copier, TableWriter
    from collections_app.aging import local_today
    from collections_app.models import Borrower, BorrowerAddress, BorrowerPhone, Case, CaseEvent, DelinquentAccount
    from repayment.models import FollowUpCheck, Instalment, Payment, PaymentAllocation, PromiseToPay, RepaymentPlan
    from visits.models import Visit, VisitPlan

    log = log or (lambda message: None)
    use_copy = connection.vendor == "postgresql"
    models = [
        Borrower, BorrowerPhone, BorrowerAddress, DelinquentAccount, Case, CaseEvent, VisitPlan, Visit,
        RepaymentPlan, Instalment, PromiseToPay, Payment, PaymentAllocation, FollowUpCheck,
    ]  # fmt: skip
    ctx = builders.Ctx(
        rng=random.Random(seed),
        sizes=sizes,
        today=today or local_today(),
        tz=ZoneInfo(settings.TIME_ZONE),
        writers={},
    )
    timings = {}

    def step(name, fn, *args):
        started = time.perf_counter()
        result = fn(*args)
        timings[name] = round(time.perf_counter() - started, 1)
        log(f"  {name}: {timings[name]} s")
        return result

    with transaction.atomic():
        copier = None
        if use_copy:
            with connection.cursor() as cursor:
                # Consistent ids by construction; per-row FK triggers would double the load time.
                cursor.execute("SET LOCAL session_replication_role = replica")
                cursor.execute("SET LOCAL maintenance_work_mem = '512MB'")
        step("org", builders.build_org, ctx, prefix)
        ctx.writers = {model: TableWriter(model) for model in models}
        indexes = step("drop indexes", _drop_indexes, models) if use_copy else []
        if use_copy:
            copier = Copier()
            copier.start()
            for writer in ctx.writers.values():
                writer.copier = copier
        try:
            stages = step("choose cases", builders.choose_cases, ctx)
            case_accounts = step("accounts", builders.build_accounts, ctx, stages)
            cases = step("cases", builders_cases.build_cases, ctx, stages, case_accounts)
            step("repayment", builders_repayment.build_repayment, ctx, cases)
            step("flush", lambda: [writer.flush() for writer in ctx.writers.values()])
        finally:
            if copier is not None:
                step("copy", copier.finish)
        step("create indexes", _create_indexes, indexes)
        with connection.cursor() as cursor:
            for sql in connection.ops.sequence_reset_sql(no_style(), models):
                cursor.execute(sql)
    step("refresh keys", _refresh_keys, ctx)
    step("snapshots", _snapshots, ctx)
    step("last paid", _last_paid_on)
    step("tallies", _tallies, ctx)
    return {"counts": ctx.counts, "timings": timings, "today": ctx.today.isoformat(), "seed": seed}


def _drop_indexes(models) -> list[str]:
    """Drop the loaded tables' secondary indexes and unique constraints; returns the SQL that recreates
    them. Building an index once after the load is several times faster than maintaining it per row."""
    from django.db import connection

    tables = [model._meta.db_table for model in models]
    drop, create = [], []
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT t.relname, ix.relname, pg_get_indexdef(i.indexrelid), c.conname, pg_get_constraintdef(c.oid)
            FROM pg_index i
            JOIN pg_class t ON t.oid = i.indrelid
            JOIN pg_class ix ON ix.oid = i.indexrelid
            LEFT JOIN pg_constraint c ON c.conindid = i.indexrelid AND c.contype = 'u'
            WHERE t.relname = ANY(%s) AND NOT i.indisprimary
            ORDER BY t.relname, ix.relname
            """,
            [tables],
        )
        for table, index, indexdef, constraint, constraintdef in cursor.fetchall():
            if constraint:
                drop.append(f'ALTER TABLE "{table}" DROP CONSTRAINT "{constraint}"')
                create.append(f'ALTER TABLE "{table}" ADD CONSTRAINT "{constraint}" {constraintdef}')
            else:
                drop.append(f'DROP INDEX "{index}"')
                create.append(indexdef)
        for sql in drop:
            cursor.execute(sql)
    return create


def _create_indexes(statements: list[str]) -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        for sql in statements:
            cursor.execute(sql)


def _refresh_keys(ctx) -> None:
    """The keys were computed in Python; the app's set-based refresh rewrites any that differ."""
    from collections_app.services.screening import accounts_refresh_screening_keys

    ctx.counts["screening_keys_fixed"] = accounts_refresh_screening_keys()


def _snapshots(ctx) -> None:
    """The dashboard's roll and cure rates read the nightly snapshots of the month's start and today."""
    from django.db import connection, transaction

    from dashboard.services import bucket_snapshot_take

    if connection.vendor == "postgresql":
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SET LOCAL session_replication_role = replica")
            return _take_snapshots(ctx, bucket_snapshot_take)
    return _take_snapshots(ctx, bucket_snapshot_take)


def _last_paid_on() -> None:
    """``Case.last_paid_on``, which the app keeps on every payment, for the payments loaded by COPY."""
    from repayment.services.payments import cases_refresh_last_paid_on

    cases_refresh_last_paid_on()


def _tallies(ctx) -> None:
    """What the beat keeps current in a running install: the day tally rolled and the state tally taken."""
    from dashboard.tallies import day_tally_roll, state_tally_refresh

    ctx.counts["tallied_facts"] = sum(day_tally_roll().values())
    ctx.counts["state_tally_rows"] = state_tally_refresh()


def _take_snapshots(ctx, bucket_snapshot_take) -> None:
    start = ctx.today.replace(day=1)
    days = [start, ctx.today] if start != ctx.today else [start - dt.timedelta(days=1), start]
    ctx.counts["snapshots"] = sum(bucket_snapshot_take(as_of=day) for day in days)


def recreate_database(url: str) -> None:
    import psycopg2

    name = db_name(url)
    if not name.startswith("doorstep_bench_"):
        sys.exit(f"Refusing to drop {name!r}: the bench only recreates doorstep_bench_* databases.")
    conn = psycopg2.connect(server_url(url))
    conn.autocommit = True
    with conn.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        cursor.execute(f'CREATE DATABASE "{name}"')
    conn.close()


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", choices=sorted(SCALES), default="10k")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--today", type=dt.date.fromisoformat, default=None, help="the day the data is built for")
    args = parser.parse_args(argv)
    url = database_url(args.scale)
    require_postgres(url)
    started = time.perf_counter()
    print(f"bench: generating {args.scale} (seed {args.seed}) into {db_name(url)}", flush=True)
    recreate_database(url)
    from bench.common import configure

    configure(url)
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", verbosity=0, interactive=False)
    print(f"  migrate: {time.perf_counter() - started:.1f} s", flush=True)
    result = generate(SCALES[args.scale], seed=args.seed, today=args.today, log=lambda m: print(m, flush=True))
    analyze_started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
    result["timings"]["vacuum analyze"] = round(time.perf_counter() - analyze_started, 1)
    result.update(scale=args.scale, database=db_name(url), seconds=round(time.perf_counter() - started, 1))
    OUT_DIR.mkdir(exist_ok=True)
    (OUT_DIR / f"generate-{args.scale}.json").write_text(json.dumps(result, indent=2))
    print(f"bench: {args.scale} generated in {result['seconds']} s: {json.dumps(result['counts'])}", flush=True)


if __name__ == "__main__":
    main()
