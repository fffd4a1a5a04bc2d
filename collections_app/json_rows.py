"""A short related list read inside its parent's query, as one JSON column, instead of a query of its own.

The case page shows many short lists; each read on its own costs the page a round trip. ``json_rows``
is a correlated subquery that gathers the list's rows into one JSON array on the parent row (PostgreSQL
``JSON_AGG``, SQLite ``JSON_GROUP_ARRAY``), and ``decode_rows`` reads it back: numbers with a fraction
as ``Decimal`` (money stays exact), times as aware datetimes. The array has no order: the caller sorts.
"""

import datetime as dt
import json
from decimal import Decimal

from django.db.models import Aggregate, QuerySet, Subquery, TextField
from django.db.models.functions import JSONObject
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime


class _JSONList(Aggregate):
    function = "JSON_AGG"
    output_field = TextField()  # decoded by ``decode_rows``, which keeps money as Decimal

    def as_postgresql(self, compiler, connection, **extra_context):
        sql, params = self.as_sql(compiler, connection, **extra_context)
        return f"({sql})::text", params

    def as_sqlite(self, compiler, connection, **extra_context):
        return self.as_sql(compiler, connection, function="JSON_GROUP_ARRAY", **extra_context)


def json_rows(queryset: QuerySet, *, parent: str, **fields) -> Subquery:
    """``queryset`` (already filtered on ``OuterRef``) as a JSON array of ``{name: field}`` objects;
    ``parent`` is the field it is filtered on, that every row shares. NULL when there is no row."""
    rows = queryset.order_by().values(parent).annotate(_rows=_JSONList(JSONObject(**fields))).values("_rows")
    return Subquery(rows, output_field=TextField())


def decode_rows(value: str | None) -> list[dict]:
    return json.loads(value, parse_float=Decimal) if value else []


def as_datetime(value) -> dt.datetime | None:
    """A time from ``decode_rows`` (PostgreSQL writes ISO 8601 with its offset, SQLite UTC without one)."""
    if not value:
        return None
    moment = parse_datetime(value)
    return timezone.make_aware(moment, dt.UTC) if timezone.is_naive(moment) else moment


def as_date(value) -> dt.date | None:
    return parse_date(value) if value else None


def as_money(value) -> Decimal | None:
    return None if value is None else Decimal(str(value)).quantize(Decimal("0.01"))
