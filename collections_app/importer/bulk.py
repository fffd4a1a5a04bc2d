# ruff: noqa: S608
# Every SQL string here interpolates only model metadata (table and column names); values travel as
# COPY data or parameters (``# nosec B608`` marks the same for bandit).
"""The final bulk write of a chunk, the one place the databases differ.

``insert`` and ``upsert`` take plain rows (dicts of field name → value) of a model. PostgreSQL loads
them with ``COPY`` (the upsert through a staging table shaped by the model's own table, so no column
type is written twice); other databases use ``bulk_create``. Columns a row does not give take the
model's defaults (``auto_now``/``auto_now_add`` fields: now).
"""

import io
import itertools
import json

from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection
from django.utils import timezone

BATCH_SIZE = 2000
_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def _escaped(value) -> str:
    return "\\N" if value is None else value.translate(_ESCAPES)


def _plain(value) -> str:
    return "\\N" if value is None else str(value)


def _boolean(value) -> str:
    return "\\N" if value is None else "t" if value else "f"


def _iso(value) -> str:
    return "\\N" if value is None else value.isoformat()


def _json(value) -> str:
    return "\\N" if value is None else json.dumps(value, cls=DjangoJSONEncoder).translate(_ESCAPES)


CONVERTERS = {
    "CharField": _escaped,
    "TextField": _escaped,
    "BooleanField": _boolean,
    "DateField": _iso,
    "DateTimeField": _iso,
    "JSONField": _json,
}


def _default(field, now):
    if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
        return now
    return field.get_default()


def _copy(cursor, model, table: str, rows: list[dict]) -> list:
    """COPY the rows into ``table`` (the model's or its staging table) column by column: every concrete
    field but the primary key (unless given); a column no row gives takes the default, converted once."""
    now, given = timezone.now(), set(rows[0])
    fields = [f for f in model._meta.concrete_fields if not f.generated and (not f.primary_key or f.attname in given)]
    columns = []
    for field in fields:
        convert = CONVERTERS.get(field.get_internal_type(), _plain)
        if field.attname in given:
            columns.append(map(convert, [row[field.attname] for row in rows]))
        else:
            columns.append(itertools.repeat(convert(_default(field, now)), len(rows)))
    text = io.StringIO("".join(["\t".join(line) + "\n" for line in zip(*columns, strict=True)]))
    names = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    cursor.copy_expert(f"COPY {table} ({names}) FROM STDIN", text)
    return fields


def _new_ids(cursor, model, count: int) -> list[int]:
    cursor.execute("SELECT pg_get_serial_sequence(%s, %s)", [model._meta.db_table, model._meta.pk.column])
    sequence = cursor.fetchone()[0]
    cursor.execute("SELECT nextval(%s) FROM generate_series(1, %s)", [sequence, count])
    return [pk for (pk,) in cursor.fetchall()]


def insert(model, rows: list[dict]) -> list[int]:
    """Insert the rows; returns their new ids in the rows' order."""
    if not rows:
        return []
    if connection.vendor != "postgresql":
        objs = model.objects.bulk_create([model(**row) for row in rows], batch_size=BATCH_SIZE)
        return [obj.pk for obj in objs]
    pk = model._meta.pk.attname
    with connection.cursor() as cursor:
        ids = _new_ids(cursor, model, len(rows))
        rows = [{pk: i, **row} for i, row in zip(ids, rows, strict=True)]
        _copy(cursor, model, connection.ops.quote_name(model._meta.db_table), rows)
    return ids


def _compiled(model, expression) -> tuple[str, list]:
    query = model.objects.all().query
    return query.get_compiler(connection=connection).compile(expression.resolve_expression(query))


def upsert(model, rows: list[dict], *, unique: str, update: list[str], computed: dict | None = None) -> None:
    """Insert the rows, or update ``update`` (and any ``auto_now`` field) where ``unique`` exists.

    ``computed``: expressions over the model's columns for fields of the inserted rows, evaluated in the
    same statement on PostgreSQL; elsewhere the fields keep their default until the caller refreshes them.
    """
    if not rows:
        return
    touched = [f.attname for f in model._meta.concrete_fields if getattr(f, "auto_now", False)]
    if connection.vendor != "postgresql":
        model.objects.bulk_create(
            [model(**row) for row in rows],
            update_conflicts=True,
            unique_fields=[unique],
            update_fields=[*update, *touched],
            batch_size=BATCH_SIZE,
        )
        return
    q = connection.ops.quote_name
    table, stage = q(model._meta.db_table), q(f"import_stage_{model._meta.db_table}")
    computed = {model._meta.get_field(name).column: _compiled(model, e) for name, e in (computed or {}).items()}
    with connection.cursor() as cursor:
        # One statement per chunk: compiling it (JIT) costs more than it saves.
        cursor.execute("SET LOCAL jit = off")
        # The staging table takes its column types from the model's table (no constraints, no rows).
        # Names come from the model's metadata, quoted by the backend; values travel as COPY data.
        cursor.execute(f"CREATE TEMPORARY TABLE IF NOT EXISTS {stage} AS SELECT * FROM {table} WITH NO DATA")  # nosec B608
        cursor.execute(f"TRUNCATE {stage}")
        columns = [f.column for f in _copy(cursor, model, stage, rows)]
        select = ", ".join(computed[c][0] if c in computed else f"{table}.{q(c)}" for c in columns)
        params = [p for c in columns if c in computed for p in computed[c][1]]
        updates = ", ".join(
            f"{q(c)} = EXCLUDED.{q(c)}" for c in (model._meta.get_field(n).column for n in [*update, *touched])
        )
        cursor.execute(
            f"INSERT INTO {table} ({', '.join(map(q, columns))}) SELECT {select} FROM {stage} AS {table}"  # nosec B608
            f" ON CONFLICT ({q(model._meta.get_field(unique).column)}) DO UPDATE SET {updates}",
            params,
        )  # nosec B608
