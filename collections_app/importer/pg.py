# ruff: noqa: S608
# Every SQL string here interpolates only constants and model metadata (table and column names);
# values always travel as parameters (``# nosec B608`` marks the same for bandit).
"""The PostgreSQL fast path of one chunk: ``COPY`` the validated rows into a temporary staging table,
then decide and write everything set-based — a few statements per chunk, whatever its size.

The decisions are the ones ``upsert`` makes row by row on other databases (and its tests pin both):

- branch: the row's code, else the account's current branch; a supervisor only their branches;
- borrower: an existing one with the same national-ID hash (newest first); else the account's own
  (which gets the ID it lacked); else a new one — rows of one chunk sharing a new ID share it;
- phones and addresses not yet on file are added, the newest as primary; a known address whose
  position changed is moved;
- accounts: one ``INSERT … ON CONFLICT (account_no) DO UPDATE`` of the new and the changed rows
  only, so a re-import writes nothing; changed accounts with an open case get an
  ``account_updated`` event and, when they became current, the cured-candidate flag;
- counts: created, updated (account or contacts changed) and unchanged come from the staging table.
"""

import io

from django.db import connection
from django.utils import timezone

from collections_app import priority
from collections_app.aging import local_today
from collections_app.importer import rows as R
from collections_app.models import (
    Borrower,
    BorrowerAddress,
    BorrowerPhone,
    Case,
    CaseEvent,
    DelinquentAccount,
    Product,
    Stage,
)

STAGE = "doorstep_import_stage"
ACCOUNT_ALIAS = DelinquentAccount._meta.db_table  # the screening key's SQL names the account table's columns
# Fields an import compares; a change to any of them updates the account (and is the event's payload).
COMPARED = (
    "borrower_id",
    "branch_id",
    "product",
    "principal",
    "outstanding_balance",
    "overdue_amount",
    "overdue_since",
    "last_payment_date",
    "currency",
)
STAGE_COPY_COLUMNS = (
    "row_no",
    "account_no",
    "borrower_name",
    "nid_hash",
    "nid_enc",
    "phone",
    "address",
    "branch_id",
    "product",
    "principal",
    "outstanding_balance",
    "overdue_amount",
    "overdue_since",
    "last_payment_date",
    "currency",
    "lat",
    "lng",
)
CREATE_STAGE = f"""
CREATE TEMPORARY TABLE IF NOT EXISTS {STAGE} (
    row_no integer NOT NULL,
    account_no varchar(40) NOT NULL,
    borrower_name varchar(200) NOT NULL,
    nid_hash varchar(64) NOT NULL,
    nid_enc text NOT NULL,
    phone varchar(32) NOT NULL,
    address varchar(300) NOT NULL,
    branch_id bigint,
    product varchar(30),
    principal numeric(16, 2),
    outstanding_balance numeric(16, 2) NOT NULL,
    overdue_amount numeric(16, 2) NOT NULL,
    overdue_since date,
    last_payment_date date,
    currency varchar(3),
    lat numeric(9, 6),
    lng numeric(9, 6),
    account_id bigint,
    cur_branch_id bigint,
    cur_borrower_id bigint,
    cur_borrower_hash varchar(64),
    borrower_id bigint,
    new_borrower boolean NOT NULL DEFAULT false,
    attach_id boolean NOT NULL DEFAULT false,
    changed boolean NOT NULL DEFAULT false,
    contact_changed boolean NOT NULL DEFAULT false,
    cured boolean NOT NULL DEFAULT false,
    changes jsonb
)
"""
_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})
NULL = "\\N"


def is_postgresql() -> bool:
    return connection.vendor == "postgresql"


def _q(name: str) -> str:
    return connection.ops.quote_name(name)


def _text(value: str) -> str:
    return value.translate(_ESCAPES)


def _opt(value) -> str:
    return NULL if value is None else str(value)


def _copy_lines(rows: list, branch_ids: list) -> io.StringIO:
    """Rows as COPY text: one tab-separated line each, ``\\N`` for NULL."""
    out = io.StringIO()
    write = out.write
    for row, branch_id in zip(rows, branch_ids, strict=True):
        if row.national_id:
            borrower = Borrower()
            borrower.set_national_id(row.national_id)
            nid_hash, nid_enc = borrower.national_id_hash, borrower.national_id_encrypted
        else:
            nid_hash = nid_enc = ""
        write(
            "\t".join(
                (
                    str(row.row),
                    _text(row.account_no),
                    _text(row.borrower_name),
                    nid_hash,
                    nid_enc,
                    _text(row.phone),
                    _text(row.address),
                    _opt(branch_id),
                    _opt(row.product),
                    _opt(row.principal),
                    str(row.outstanding_balance),
                    str(row.overdue_amount),
                    _opt(row.overdue_since),
                    _opt(row.last_payment_date),
                    _opt(row.currency),
                    _opt(row.lat),
                    _opt(row.lng),
                )
            )
        )
        write("\n")
    out.seek(0)
    return out


def _other_columns(model, given: set[str], params: dict) -> tuple[list[str], list[str]]:
    """Every concrete column not in ``given``, valued with the model's default (as a parameter), so a
    column another change adds with a default keeps the raw INSERT working."""
    names, values = [], []
    for field in model._meta.concrete_fields:
        if field.primary_key or field.column in given:
            continue
        key = f"d_{model._meta.model_name}_{field.column}"
        params[key] = field.get_db_prep_save(field.get_default(), connection)
        names.append(_q(field.column))
        values.append(f"%({key})s")
    return names, values


def _insert_select(model, given: dict[str, str], source: str, params: dict, *, returning: str = "") -> str:
    """``INSERT INTO model (given…, defaults…) SELECT … FROM source``."""
    names, values = _other_columns(model, set(given), params)
    columns = ", ".join([*(_q(c) for c in given), *names])
    select = ", ".join([*given.values(), *values])
    sql = f"INSERT INTO {_q(model._meta.db_table)} ({columns}) SELECT {select} FROM {source}"  # nosec B608
    return f"{sql} RETURNING {returning}" if returning else sql


def _sequence(cursor, model) -> str:
    cursor.execute("SELECT pg_get_serial_sequence(%s, %s)", [model._meta.db_table, model._meta.pk.column])
    return cursor.fetchone()[0]


def _screening_key_sql(params: dict) -> str:
    """The stored screening key of a new account (no broken promises, never reached), as SQL over the
    staged row: the same expression the screening refresh writes, so the refresh finds nothing to do."""
    query = DelinquentAccount.objects.all().query
    expression = priority.screening_key_expression(today=local_today()).resolve_expression(query)
    sql, expression_params = query.get_compiler(connection=connection).compile(expression)
    for number, value in enumerate(expression_params):
        params[f"k{number}"] = value
    return sql % tuple(f"%(k{number})s" for number in range(len(expression_params)))


def stage_chunk(ctx, rows: list) -> None:
    """Load the chunk's rows into the staging table and drop (reporting them) the rows whose branch is
    missing or not the importing supervisor's."""
    branch_ids = []
    staged = []
    for row in rows:
        branch_id = None
        if row.branch_code:
            branch_id = ctx.branches.get(row.branch_code)
            if branch_id is None:
                ctx.fail(row.row, [R.RowError("branch_code", row.branch_code, R.UNKNOWN_BRANCH)])
                continue
        staged.append(row)
        branch_ids.append(branch_id)
    with connection.cursor() as cursor:
        # Each statement is small and run once per chunk: compiling it (JIT) costs more than it saves.
        cursor.execute("SET LOCAL jit = off")
        cursor.execute(CREATE_STAGE)
        cursor.execute(f"TRUNCATE {STAGE}")
        columns = ", ".join(STAGE_COPY_COLUMNS)
        cursor.copy_expert(f"COPY {STAGE} ({columns}) FROM STDIN", _copy_lines(staged, branch_ids))
        account, borrower = _q(DelinquentAccount._meta.db_table), _q(Borrower._meta.db_table)
        cursor.execute(f"""
            UPDATE {STAGE} s SET account_id = a.id, cur_branch_id = a.branch_id, cur_borrower_id = a.borrower_id,
                cur_borrower_hash = b.national_id_hash, branch_id = COALESCE(s.branch_id, a.branch_id),
                product = COALESCE(s.product, a.product), principal = COALESCE(s.principal, a.principal),
                last_payment_date = COALESCE(s.last_payment_date, a.last_payment_date),
                currency = COALESCE(s.currency, a.currency)
            FROM {account} a JOIN {borrower} b ON b.id = a.borrower_id
            WHERE a.account_no = s.account_no
        """)  # nosec B608
        codes = {row.row: row.branch_code for row in staged}
        refused = []
        cursor.execute(f"SELECT row_no FROM {STAGE} WHERE branch_id IS NULL ORDER BY row_no")  # nosec B608
        for (number,) in cursor.fetchall():
            ctx.fail(number, [R.RowError("branch_code", "", R.BRANCH_REQUIRED)])
            refused.append(number)
        if ctx.allowed_branch_ids is not None:
            allowed = list(ctx.allowed_branch_ids)
            cursor.execute(
                f"""SELECT row_no FROM {STAGE} WHERE branch_id IS NOT NULL
                    AND (NOT branch_id = ANY(%s) OR (cur_branch_id IS NOT NULL AND NOT cur_branch_id = ANY(%s)))
                    ORDER BY row_no""",  # nosec B608
                [allowed, allowed],
            )
            for (number,) in cursor.fetchall():
                ctx.fail(number, [R.RowError("branch_code", codes[number], R.BRANCH_NOT_YOURS)])
                refused.append(number)
        if refused:
            cursor.execute(f"DELETE FROM {STAGE} WHERE row_no = ANY(%s)", [refused])  # nosec B608
        _analyze(cursor)


def _analyze(cursor) -> None:
    """Row counts and the spread of what the joins filter on: a temporary table has no statistics, and
    without them the planner nests loops over thousands of staged rows."""
    cursor.execute(f"ANALYZE {STAGE} (row_no, account_id, borrower_id, new_borrower, nid_hash)")


def _resolve_borrowers(cursor) -> None:
    borrower = _q(Borrower._meta.db_table)
    sequence = _sequence(cursor, Borrower)
    # An existing borrower with the same national ID (the newest, as the row-by-row path); one index
    # probe per staged row, never a scan of the borrower table.
    cursor.execute(f"""
        UPDATE {STAGE} s SET borrower_id = (
            SELECT b.id FROM {borrower} b WHERE b.national_id_hash = s.nid_hash ORDER BY b.id DESC LIMIT 1
        )
        WHERE s.nid_hash <> ''
    """)  # nosec B608
    # A national ID not on file: the first row carrying it decides — its account's borrower when that
    # one has no ID yet (it gets this one), else a new borrower; later rows with the ID share it.
    cursor.execute(
        f"""
        WITH first AS (
            SELECT DISTINCT ON (nid_hash) nid_hash,
                CASE WHEN account_id IS NOT NULL AND cur_borrower_hash = '' THEN cur_borrower_id END AS own
            FROM {STAGE} WHERE borrower_id IS NULL AND nid_hash <> '' ORDER BY nid_hash, row_no
        ), chosen AS (
            SELECT nid_hash, own IS NULL AS is_new,
                CASE WHEN own IS NULL THEN nextval(%s) ELSE own END AS id
            FROM first
        )
        UPDATE {STAGE} s SET borrower_id = c.id, new_borrower = c.is_new, attach_id = NOT c.is_new
        FROM chosen c WHERE s.borrower_id IS NULL AND s.nid_hash = c.nid_hash
        """,  # nosec B608
        [sequence],
    )
    cursor.execute(
        f"UPDATE {STAGE} SET borrower_id = cur_borrower_id WHERE borrower_id IS NULL AND account_id IS NOT NULL"  # nosec B608
    )
    new_ids = f"UPDATE {STAGE} SET borrower_id = nextval(%s), new_borrower = true WHERE borrower_id IS NULL"  # nosec B608
    cursor.execute(new_ids, [sequence])


def _write_borrowers(cursor, now) -> None:
    borrower = _q(Borrower._meta.db_table)
    params = {"now": now}
    given = {
        "id": "borrower_id",
        "name": "borrower_name",
        "national_id_encrypted": "nid_enc",
        "national_id_hash": "nid_hash",
        "created_at": "%(now)s",
        "updated_at": "%(now)s",
    }
    source = f"(SELECT DISTINCT ON (borrower_id) * FROM {STAGE} WHERE new_borrower ORDER BY borrower_id, row_no) s"  # nosec B608
    cursor.execute(_insert_select(Borrower, given, source, params), params)
    # Known borrowers: the name of their last row, and the national ID they lacked.
    cursor.execute(
        f"""
        WITH named AS (
            SELECT DISTINCT ON (borrower_id) borrower_id, borrower_name FROM {STAGE}
            WHERE NOT new_borrower ORDER BY borrower_id, row_no DESC
        ), attached AS (
            SELECT DISTINCT ON (borrower_id) borrower_id, nid_hash, nid_enc FROM {STAGE}
            WHERE attach_id ORDER BY borrower_id, row_no
        ), written AS (
            UPDATE {borrower} b SET name = n.borrower_name,
                national_id_hash = COALESCE(t.nid_hash, b.national_id_hash),
                national_id_encrypted = COALESCE(t.nid_enc, b.national_id_encrypted), updated_at = %(now)s
            FROM named n LEFT JOIN attached t USING (borrower_id)
            WHERE b.id = n.borrower_id
                AND (b.name <> n.borrower_name OR (t.nid_hash IS NOT NULL AND b.national_id_hash <> t.nid_hash))
            RETURNING b.id
        )
        UPDATE {STAGE} SET contact_changed = true
        WHERE account_id IS NOT NULL AND borrower_id IN (SELECT id FROM written)
        """,  # nosec B608
        params,
    )


def _write_contacts(cursor) -> None:
    """Add the phones and addresses not on file yet (the newest row's as primary) and move known
    addresses whose position changed. Only known borrowers have contacts to compare with."""
    cursor.execute(f"SELECT EXISTS (SELECT 1 FROM {STAGE} WHERE NOT new_borrower)")  # nosec B608
    known = cursor.fetchone()[0]
    if known:
        _move_addresses(cursor)
    for model, value, column, extra in (
        (BorrowerPhone, "phone", "number", {}),
        (BorrowerAddress, "address", "text", {"lat": "lat", "lng": "lng"}),
    ):
        table, new = _q(model._meta.db_table), f"{STAGE}_{value}"
        cursor.execute(f"""
            CREATE TEMPORARY TABLE IF NOT EXISTS {new} (
                borrower_id bigint, {value} varchar(300), lat numeric(9, 6), lng numeric(9, 6),
                is_primary boolean, known boolean, row_no integer
            )
        """)
        cursor.execute(f"TRUNCATE {new}")
        # Known borrowers' rows probe the contact table's borrower index, one row at a time (LATERAL … LIMIT 1
        # keeps the planner from hashing the whole table for a chunk); new borrowers have nothing on file.
        candidates = f"""
            SELECT borrower_id, {value}, lat, lng, new_borrower, row_no FROM {STAGE} s
            WHERE {value} <> '' AND new_borrower
            UNION ALL
            SELECT borrower_id, {value}, lat, lng, new_borrower, row_no FROM {STAGE} s
            LEFT JOIN LATERAL (
                SELECT 1 AS hit FROM {table} t WHERE t.borrower_id = s.borrower_id AND t.{column} = s.{value} LIMIT 1
            ) on_file ON true
            WHERE {value} <> '' AND NOT new_borrower AND on_file.hit IS NULL
        """  # nosec B608
        cursor.execute(f"""
            INSERT INTO {new}
            SELECT borrower_id, {value}, lat, lng, row_no = max(row_no) OVER (PARTITION BY borrower_id),
                NOT new_borrower, row_no
            FROM (
                SELECT DISTINCT ON (borrower_id, {value}) * FROM ({candidates}) u
                ORDER BY borrower_id, {value}, row_no
            ) c
        """)  # nosec B608
        params: dict = {}
        given = {"borrower_id": "borrower_id", column: value, **extra, "is_primary": "is_primary"}
        source = f"(SELECT * FROM {new} ORDER BY borrower_id, row_no) s"  # nosec B608
        cursor.execute(_insert_select(model, given, source, params), params)
        if not known:
            continue
        cursor.execute(f"ANALYZE {new}")
        # The new contact is the primary one now; the ids just inserted are above every demoted one.
        cursor.execute(f"""
            WITH demoted AS (
                SELECT t.id FROM {table} t JOIN {new} n ON n.borrower_id = t.borrower_id AND n.known AND n.is_primary
                WHERE t.is_primary AND t.{column} <> n.{value}
            )
            UPDATE {table} SET is_primary = false WHERE id IN (SELECT id FROM demoted)
        """)  # nosec B608
        cursor.execute(f"""
            UPDATE {STAGE} SET contact_changed = true
            WHERE account_id IS NOT NULL AND borrower_id IN (SELECT borrower_id FROM {new} WHERE known)
        """)  # nosec B608


def _move_addresses(cursor) -> None:
    """Positions of addresses already on file (before new ones are added): the last row's wins."""
    address = _q(BorrowerAddress._meta.db_table)
    cursor.execute(f"""
        WITH moved AS (
            UPDATE {address} a SET lat = s.lat, lng = s.lng
            FROM (
                SELECT DISTINCT ON (borrower_id, address) borrower_id, address, lat, lng FROM {STAGE}
                WHERE NOT new_borrower AND address <> '' AND lat IS NOT NULL AND lng IS NOT NULL
                ORDER BY borrower_id, address, row_no DESC
            ) s
            WHERE a.borrower_id = s.borrower_id AND a.text = s.address
                AND (a.lat IS DISTINCT FROM s.lat OR a.lng IS DISTINCT FROM s.lng)
            RETURNING a.borrower_id
        )
        UPDATE {STAGE} SET contact_changed = true
        WHERE account_id IS NOT NULL AND borrower_id IN (SELECT borrower_id FROM moved)
    """)  # nosec B608


def _compare_accounts(cursor) -> None:
    cursor.execute(f"SELECT EXISTS (SELECT 1 FROM {STAGE} WHERE account_id IS NOT NULL)")  # nosec B608
    if not cursor.fetchone()[0]:
        return  # only new accounts: nothing to compare (and no join with the whole account table)
    account = _q(DelinquentAccount._meta.db_table)
    differs = " OR ".join(f"a.{f} IS DISTINCT FROM s.{f}" for f in COMPARED)
    # As ``audit_changes`` writes them: ids as numbers, amounts and dates as text.
    cast = {f: "" if f.endswith("_id") else "::text" for f in COMPARED}
    parts = ", ".join(
        f"'{f}', CASE WHEN a.{f} IS DISTINCT FROM s.{f} THEN jsonb_build_array(a.{f}{cast[f]}, s.{f}{cast[f]}) END"
        for f in COMPARED
    )
    cursor.execute(f"""
        UPDATE {STAGE} s SET changed = true,
            changes = CASE WHEN a.has_open_case THEN jsonb_strip_nulls(jsonb_build_object({parts})) END,
            cured = a.has_open_case AND a.overdue_amount > 0 AND s.overdue_amount = 0
        FROM {account} a
        WHERE a.id = s.account_id AND ({differs})
    """)  # nosec B608


def _write_accounts(cursor, now) -> None:
    params = {"now": now, "product": Product.PERSONAL_CONSUMER}
    given = {
        "account_no": "account_no",
        "borrower_id": "borrower_id",
        "branch_id": "branch_id",
        "product": "COALESCE(product, %(product)s)",
        "principal": "COALESCE(principal, 0)",
        "outstanding_balance": "outstanding_balance",
        "overdue_amount": "overdue_amount",
        "overdue_since": "overdue_since",
        "last_payment_date": "last_payment_date",
        "currency": "COALESCE(currency, 'CNY')",
        "screening_key": _screening_key_sql(params),
        "created_at": "%(now)s",
        "updated_at": "%(now)s",
    }
    source = (
        f"(SELECT s.*, 0 AS broken_promises, NULL::timestamptz AS last_contact_at FROM {STAGE} s"
        f" WHERE s.account_id IS NULL OR s.changed ORDER BY s.row_no) AS {_q(ACCOUNT_ALIAS)}"  # nosec B608
    )
    updates = ", ".join(f"{f} = EXCLUDED.{f}" for f in (*COMPARED, "updated_at"))
    sql = _insert_select(DelinquentAccount, given, source, params)
    cursor.execute(f"{sql} ON CONFLICT (account_no) DO UPDATE SET {updates}", params)  # nosec B608


def _write_events(cursor, *, job_id: int, actor_id: int | None, now) -> None:
    case = _q(Case._meta.db_table)
    params = {"now": now, "job": job_id, "actor": actor_id, "closed": Stage.CLOSED}
    given = {
        "case_id": "c.id",
        "actor_id": "%(actor)s",
        "kind": f"'{CaseEvent.Kind.ACCOUNT_UPDATED.value}'",
        "from_stage": "''",
        "to_stage": "''",
        "payload": "jsonb_build_object('import_job', %(job)s::integer, 'changes', s.changes)",
        "created_at": "%(now)s",
    }
    source = (
        f"{STAGE} s JOIN {case} c ON c.account_id = s.account_id AND c.stage <> %(closed)s"
        f" WHERE s.changed AND s.changes IS NOT NULL ORDER BY s.row_no"
    )
    cursor.execute(_insert_select(CaseEvent, given, source, params), params)
    cursor.execute(
        f"""UPDATE {case} SET cured_candidate = true
            WHERE stage <> %(closed)s AND NOT cured_candidate
            AND account_id IN (SELECT account_id FROM {STAGE} WHERE cured)""",  # nosec B608
        params,
    )


def upsert_staged(ctx, *, actor_id: int | None) -> None:
    """Write the staged chunk (inside the caller's transaction) and add its counts to ``ctx``."""
    now = timezone.now()
    with connection.cursor() as cursor:
        _resolve_borrowers(cursor)
        _analyze(cursor)
        _write_borrowers(cursor, now)
        _write_contacts(cursor)
        _compare_accounts(cursor)
        _write_accounts(cursor, now)
        _write_events(cursor, job_id=ctx.job_id, actor_id=actor_id, now=now)
        cursor.execute(f"""
            SELECT count(*) FILTER (WHERE account_id IS NULL),
                   count(*) FILTER (WHERE account_id IS NOT NULL AND (changed OR contact_changed)),
                   count(*) FILTER (WHERE account_id IS NOT NULL AND NOT changed AND NOT contact_changed)
            FROM {STAGE}
        """)  # nosec B608
        created, updated, unchanged = cursor.fetchone()
    ctx.counts.created += created
    ctx.counts.updated += updated
    ctx.counts.unchanged += unchanged
