"""The nightly bucket snapshot behind roll and cure rates."""

import datetime as dt

from django.db import connection, transaction
from django.db.models import Case, CharField, DateField, Func, IntegerField, Q, Value, When
from django.db.models.functions import Greatest

from collections_app.aging import AgingBucket, local_today
from collections_app.models import AccountBucketSnapshot, DelinquentAccount
from dashboard import roll
from dashboard.live import bucket_expression


class DaysBetween(Func):
    """Whole days from ``overdue_since`` to a date, in SQL (PostgreSQL date arithmetic, SQLite julianday)."""

    output_field = IntegerField()

    def as_sql(self, compiler, connection, **extra_context):
        later, earlier = (compiler.compile(expr) for expr in self.get_source_expressions())
        return f"({later[0]} - {earlier[0]})", [*later[1], *earlier[1]]

    def as_postgresql(self, compiler, connection, **extra_context):
        later, earlier = (compiler.compile(expr) for expr in self.get_source_expressions())
        return f"(({later[0]})::date - ({earlier[0]})::date)", [*later[1], *earlier[1]]

    def as_sqlite(self, compiler, connection, **extra_context):
        later, earlier = (compiler.compile(expr) for expr in self.get_source_expressions())
        return f"CAST(julianday({later[0]}) - julianday({earlier[0]}) AS INTEGER)", [*later[1], *earlier[1]]


_NOTHING_OVERDUE = Q(overdue_amount__lte=0) | Q(overdue_since__isnull=True)


def _dpd_expression(as_of: dt.date) -> Case:
    """DPD as of a day, as SQL: 0 with nothing overdue, no date, or a date after ``as_of``."""
    days = DaysBetween(Value(as_of, output_field=DateField()), "overdue_since")
    return Case(
        When(_NOTHING_OVERDUE, then=Value(0)),
        default=Greatest(days, Value(0)),
        output_field=IntegerField(),
    )


def _bucket_expression(as_of: dt.date) -> Case:
    return Case(
        When(_NOTHING_OVERDUE, then=Value(str(AgingBucket.CURRENT))),
        default=bucket_expression(as_of),
        output_field=CharField(),
    )


@transaction.atomic
def bucket_snapshot_take(*, as_of: dt.date) -> int:
    """Record every account's DPD, bucket and overdue amount for ``as_of``; returns the rows added.

    One set-based ``INSERT … SELECT … ON CONFLICT DO NOTHING``: running it again on the same day adds
    nothing (the unique constraint on account and day), so a retried or doubled beat run is harmless.
    A past ``as_of`` uses the accounts' current state (there is no older history to read).
    """
    rows = (
        DelinquentAccount.objects.order_by()
        .annotate(snap_dpd=_dpd_expression(as_of), snap_bucket=_bucket_expression(as_of))
        .values_list("pk", "branch_id", "overdue_amount", "snap_dpd", "snap_bucket")
    )
    sql, params = rows.query.sql_with_params()
    table = connection.ops.quote_name(AccountBucketSnapshot._meta.db_table)
    columns = ", ".join(
        connection.ops.quote_name(column)
        for column in ("as_of", "account_id", "branch_id", "overdue_amount", "dpd", "bucket")
    )
    insert = (
        f"INSERT INTO {table} ({columns}) "  # noqa: S608  # nosec B608 -- names from model metadata
        f"SELECT %s, src.* FROM ({sql}) AS src WHERE 1 = 1 "
        "ON CONFLICT (account_id, as_of) DO NOTHING"
    )
    with connection.cursor() as cursor:
        cursor.execute(insert, [connection.ops.adapt_datefield_value(as_of), *params])
        added = cursor.rowcount
    if added and as_of < local_today():
        # Rows added to a past day change history the cached roll matrices were computed from.
        transaction.on_commit(roll.forget_matrices)
    return added
