"""Plain-row writes for set-based services (the follow-up sweep's batches, ``cases_transition_bulk``): what
``bulk_create`` and a CASE update do, without a model instance or an ORM expression per row (at hundreds of
rows a batch, building those cost more than running the statements). Table and column names come from the
model's metadata; every value is a query parameter."""

from django.db import connection, connections, router
from django.db.models import Model
from django.db.models.constants import OnConflict
from django.db.models.expressions import RawSQL
from django.utils import timezone

# Rows per statement: well under the parameter limits of PostgreSQL (65,535) and SQLite (32,766).
MAX_PARAMS = 30_000


def _preparer(field, conn):
    """The value as the database takes it. Ints, strings and None go as they are (what ``get_db_prep_save``
    gives back for them outside JSON columns, at a fraction of its cost)."""
    if field.get_internal_type() == "JSONField":
        return lambda value: field.get_db_prep_save(value, conn)

    def prepare(value):
        if value is None or type(value) is int:
            return value
        if isinstance(value, str):
            return str(value)  # a TextChoices member as its plain value
        return field.get_db_prep_save(value, conn)

    return prepare


def insert_rows(model: type[Model], rows: list[dict], *, ignore_conflicts: bool = False) -> None:
    """INSERT ``rows`` (``{field name or attname: value}``) in one multi-row statement per ``MAX_PARAMS``.

    A field a row leaves out gets its default, ``auto_now`` / ``auto_now_add`` fields the current time, as
    ``bulk_create`` gives them. With ``ignore_conflicts`` a row that violates a unique constraint (a
    notification's ``dedupe_key``) is skipped. No signals, no ids back: for append-only rows the caller does
    not read again."""
    if not rows:
        return
    conn = connections[router.db_for_write(model)]
    meta, ops = model._meta, conn.ops
    fields = [field for field in meta.concrete_fields if not field.primary_key and not field.generated]
    now = timezone.now()
    columns = []  # (attname, name, preparer, the default as the database takes it)
    for field in fields:
        stamped = getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False)
        prepare = _preparer(field, conn)
        columns.append((field.attname, field.name, prepare, prepare(now if stamped else field.get_default())))
    names = ", ".join(ops.quote_name(field.column) for field in fields)
    on_conflict = OnConflict.IGNORE if ignore_conflicts else None
    head = f"{ops.insert_statement(on_conflict=on_conflict)} {ops.quote_name(meta.db_table)} ({names})"
    tail = ops.on_conflict_suffix_sql(fields, on_conflict, None, None)

    def values(chunk: list[dict]) -> list[list]:
        """Row by row, each column's value as the database takes it."""
        prepared = []
        for row in chunk:
            line = []
            for attname, name, prepare, default in columns:
                if attname in row:
                    line.append(prepare(row[attname]))
                elif name in row:
                    line.append(prepare(row[name]))
                else:
                    line.append(default)
            prepared.append(line)
        return prepared

    with conn.cursor() as cursor:
        if conn.vendor == "postgresql":
            # One array per column (what bulk_create does there): PostgreSQL plans a thousand-row VALUES
            # list far more slowly than an UNNEST of a few arrays.
            arrays = ", ".join(f"(%s)::{field.db_type(conn)}[]" for field in fields)
            sql = f"{head} SELECT * FROM UNNEST({arrays}) {tail}"  # noqa: S608  # nosec B608 -- names from model metadata
            cursor.execute(sql.rstrip(), [list(column) for column in zip(*values(rows), strict=True)])
            return
        placeholder = f"({', '.join(['%s'] * len(fields))})"
        per_statement = max(1, MAX_PARAMS // len(fields))
        for start in range(0, len(rows), per_statement):
            chunk = values(rows[start : start + per_statement])
            sql = f"{head} VALUES {', '.join([placeholder] * len(chunk))} {tail}"
            cursor.execute(sql.rstrip(), [value for line in chunk for value in line])


def update_by_id(model: type[Model], values: dict[int, dict], **common) -> None:
    """``UPDATE … FROM (VALUES (id, …), …)``: each row's own ``values`` (the same field names for every row)
    and the ``common`` ones, in one statement per ``MAX_PARAMS``. PostgreSQL types a VALUES column from its
    values, so a column given only as None would be text: pass NULLs as ``common`` values instead."""
    if not values:
        return
    conn = connections[router.db_for_write(model)]
    meta, quote = model._meta, conn.ops.quote_name
    own = [meta.get_field(name) for name in next(iter(values.values()))]
    shared = [(meta.get_field(name), value) for name, value in common.items()]
    sets = [f"{quote(field.column)} = v.column{n}" for n, field in enumerate(own, start=2)]
    sets += [f"{quote(field.column)} = %s" for field, _value in shared]
    placeholder = f"({', '.join(['%s'] * (len(own) + 1))})"
    per_statement = max(1, MAX_PARAMS // (len(own) + 1))
    items = list(values.items())
    with conn.cursor() as cursor:
        for start in range(0, len(items), per_statement):
            chunk = items[start : start + per_statement]
            params = [field.get_db_prep_save(value, conn) for field, value in shared]
            for pk, row in chunk:
                params += [pk, *(field.get_db_prep_save(row[field.name], conn) for field in own)]
            sql = (
                f"UPDATE {quote(meta.db_table)} SET {', '.join(sets)} "  # noqa: S608  # nosec B608 -- names from model metadata
                f"FROM (VALUES {', '.join([placeholder] * len(chunk))}) AS v WHERE {quote(meta.pk.column)} = v.column1"
            )
            cursor.execute(sql, params)


def id_list(ids):
    """``ids`` for an ``__in`` filter. On PostgreSQL one array parameter (``IN (SELECT unnest(%s))``): the ORM
    prepares a plain list id by id, which costs more than the statement for a batch's hundreds of ids."""
    ids = list(ids)
    if connection.vendor == "postgresql":
        return RawSQL("SELECT unnest(%s::bigint[])", (ids,))
    return ids
