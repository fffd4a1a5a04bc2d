"""Bulk writers: rows as dicts of column values in, COPY (PostgreSQL) or executemany (any database) out.

Columns come from the model, so a new column with a default needs no change here; a new required
column without a default stops the generator with its name. On PostgreSQL the CSV chunks are
COPYed by a background thread while the main thread builds the next rows (two cores: Python and
the server work at once).
"""

import csv
import io
import json
import queue
import threading

from django.db import connection

CHUNK_ROWS = 50_000
NULL = r"\N"  # COPY's NULL marker; an unquoted empty field stays an empty string


class Copier(threading.Thread):
    """Runs the queued COPY statements, in order, on the (otherwise idle) Django connection."""

    def __init__(self):
        super().__init__(daemon=True)
        self.jobs: queue.Queue = queue.Queue(maxsize=4)
        self.error: BaseException | None = None
        connection.ensure_connection()
        self.raw = connection.connection

    def run(self) -> None:
        while (job := self.jobs.get()) is not None:
            if self.error is None:
                try:
                    with self.raw.cursor() as cursor:
                        cursor.copy_expert(job[0], io.StringIO(job[1]))
                except Exception as exc:  # noqa: BLE001 -- re-raised in the main thread by finish()
                    self.error = exc

    def submit(self, sql: str, text: str) -> None:
        if self.error is not None:
            raise self.error
        self.jobs.put((sql, text))

    def finish(self) -> None:
        self.jobs.put(None)
        self.join()
        if self.error is not None:
            raise self.error


class TableWriter:
    """Collects one model's rows and writes them in chunks; ``new_id`` hands out primary keys."""

    def __init__(self, model, *, copier: Copier | None = None):
        self.model = model
        self.copier = copier
        self.table = model._meta.db_table
        # Generated columns are the database's to compute: COPY and INSERT must not name them.
        fields = self.fields = [f for f in model._meta.concrete_fields if not f.generated]
        self.columns = [f.column for f in fields]
        self.pairs, self.required = [], set()
        for field in fields:
            if field.primary_key:
                default = None
            elif field.has_default():
                default = field.get_default()
            elif field.null:
                default = None
            elif field.blank and field.get_internal_type() in ("CharField", "TextField"):
                default = ""
            else:
                default = None
                self.required.add(field.attname)
            self.pairs.append((field.attname, default))
        self.json_idx = [i for i, f in enumerate(fields) if f.get_internal_type() == "JSONField"]
        self.null_idx = [i for i, f in enumerate(fields) if f.null or f.primary_key]
        self.rows: list = []
        self.count = 0
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT MAX(id) FROM {connection.ops.quote_name(self.table)}")
            self.next_id = (cursor.fetchone()[0] or 0) + 1

    def new_id(self) -> int:
        value = self.next_id
        self.next_id += 1
        return value

    def add(self, row: dict) -> None:
        if self.count == 0 and self.required - row.keys():
            raise RuntimeError(f"{self.table}: the generator gives no value for {sorted(self.required - row.keys())}")
        get = row.get
        values = [get(name, default) for name, default in self.pairs]
        for i in self.json_idx:
            values[i] = json.dumps(values[i], ensure_ascii=False)
        if self.copier is not None:
            for i in self.null_idx:
                if values[i] is None:
                    values[i] = NULL
        self.rows.append(values)
        self.count += 1
        if len(self.rows) >= CHUNK_ROWS:
            self.flush()

    def flush(self) -> None:
        if not self.rows:
            return
        quoted = ", ".join(connection.ops.quote_name(c) for c in self.columns)
        table = connection.ops.quote_name(self.table)
        if self.copier is not None:
            buffer = io.StringIO()
            csv.writer(buffer, lineterminator="\n").writerows(self.rows)
            self.copier.submit(f"COPY {table} ({quoted}) FROM STDIN WITH (FORMAT csv, NULL '\\N')", buffer.getvalue())
        else:
            marks = ", ".join(["%s"] * len(self.columns))
            prep = [
                (lambda v: v) if i in self.json_idx else (lambda v, f=f: f.get_db_prep_value(v, connection))
                for i, f in enumerate(self.fields)
            ]
            rows = [[p(v) for p, v in zip(prep, row, strict=True)] for row in self.rows]
            with connection.cursor() as cursor:
                cursor.executemany(f"INSERT INTO {table} ({quoted}) VALUES ({marks})", rows)
        self.rows = []
