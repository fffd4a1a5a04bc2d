"""Loading monthly statements from core banking: parse, check, append (README, "Risk and early warning").

Statements are append-only: a row whose ``(account_no, period_end)`` is already stored is counted as
unchanged and left alone, so re-importing a file is a no-op and a later file may add months.
"""

import contextlib
import datetime as dt
import io
import queue
import re
import threading
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path

from django.core.files import File
from django.db import connection, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from collections_app.aging import local_today
from collections_app.exceptions import DoorstepError, NotPermitted
from collections_app.feed import FeedResult
from collections_app.importer.reader import FileFormatError, TableFile
from collections_app.importer.rows import cell_text
from collections_app.models import DelinquentAccount, Role, User
from collections_app.services.audit import audit_log
from collections_app.services.uploads import local_copy
from risk.models import Statement, StatementImport

COLUMNS = ("account_no", "period_end", "balance", "amount_due", "amount_paid", "dpd")
REQUIRED = ("account_no", "period_end", "balance", "amount_paid", "dpd")
CHUNK_SIZE = 5000
ERRORS_KEPT = 200
MONEY_LIMIT = Decimal(10) ** 14
_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")
# The shape core banking writes almost every cell in: read without the general checks (same result).
_PLAIN_MONEY = re.compile(r"\d{1,14}(\.\d{1,2})?")
_PLAIN_DAYS = re.compile(r"\d{1,5}")
DPD_LIMIT = 36500  # days past due beyond a hundred years is a broken cell, not a fact
# PostgreSQL: new rows are streamed with COPY into a session table, then appended in one statement.
STAGE_TABLE = "risk_statement_stage"
COPY_CHUNK_SIZE = 20_000
DAYS_SPAN = dt.date.max.toordinal() + 1


class RowProblem(Exception):
    pass


class MissingColumns(DoorstepError):
    default_message = gettext_lazy("Required columns are missing.")


@dataclass
class ImportResult:
    total: int = 0
    processed: int = 0
    created: int = 0
    unchanged: int = 0
    errors: list = field(default_factory=list)
    error_count: int = 0

    def error(self, row: int, message: str) -> None:
        self.error_count += 1
        if len(self.errors) < ERRORS_KEPT:
            self.errors.append({"row": row, "message": message})


def may_import_statements(user) -> bool:
    return user.is_authenticated and (user.is_supervisor or user.role == Role.ADMIN or user.is_superuser)


def _money(column: str, value, *, required: bool = True) -> Decimal | None:
    if type(value) is str and _PLAIN_MONEY.fullmatch(value):
        return Decimal(value)
    text = repr(value) if isinstance(value, int | float) and not isinstance(value, bool) else cell_text(value)
    text = text.replace(",", "")
    if not text:
        if required:
            raise RowProblem(_("%(column)s: required value missing") % {"column": column})
        return None
    try:
        number = Decimal(text)
    except InvalidOperation:
        raise RowProblem(_("%(column)s: not a number (%(value)s)") % {"column": column, "value": text}) from None
    if not number.is_finite() or number.quantize(Decimal("0.01")) != number:
        raise RowProblem(_("%(column)s: not a number (%(value)s)") % {"column": column, "value": text})
    if number < 0 or number >= MONEY_LIMIT:
        raise RowProblem(_("%(column)s: out of range (%(value)s)") % {"column": column, "value": text})
    return number


def _period_end(value, as_of: dt.date) -> dt.date:
    if isinstance(value, dt.datetime):
        value = value.date()
    if not isinstance(value, dt.date):
        text = cell_text(value)
        match = _DATE.match(text)
        try:
            if not match:
                raise ValueError
            value = dt.date(*map(int, match.groups()))
        except ValueError:
            raise RowProblem(_("period_end: not a date (YYYY-MM-DD): %(value)s") % {"value": text}) from None
    if value > as_of:
        raise RowProblem(_("period_end: after the as-of date %(date)s") % {"date": as_of.isoformat()})
    return value


def _dpd(value) -> int:
    if type(value) is str and _PLAIN_DAYS.fullmatch(value) and int(value) <= DPD_LIMIT:
        return int(value)
    number = _money("dpd", value)
    if number != number.to_integral_value() or number > DPD_LIMIT:
        raise RowProblem(_("dpd: not a whole number of days (%(value)s)") % {"value": cell_text(value)})
    return int(number)


def _plain_row(cells: dict, dates: dict) -> tuple | None:
    """``parse_row``'s result for a row in the shape core banking writes almost every row in (text cells,
    a period end already read, plain amounts and days), read without the general checks; None otherwise."""
    account_no, period, balance, due, paid, dpd = (cells.get(column) for column in COLUMNS)
    if type(account_no) is not str or type(period) is not str or type(dpd) is not str:
        return None
    account_no, period_end = account_no.strip(), dates.get(period)
    if not account_no or period_end is None or not _PLAIN_DAYS.fullmatch(dpd) or int(dpd) > DPD_LIMIT:
        return None
    if type(balance) is not str or type(paid) is not str:
        return None
    if not (_PLAIN_MONEY.fullmatch(balance) and _PLAIN_MONEY.fullmatch(paid)):
        return None
    if due is None or due == "":
        return (account_no, period_end, Decimal(balance), None, Decimal(paid), int(dpd))
    if type(due) is str and _PLAIN_MONEY.fullmatch(due):
        return (account_no, period_end, Decimal(balance), Decimal(due), Decimal(paid), int(dpd))
    return None


def parse_row(cells: dict, as_of: dt.date, dates: dict | None = None) -> tuple:
    """(account_no, period_end, balance, amount_due, amount_paid, dpd) or RowProblem with every reason.

    ``dates`` caches the period ends already read (a file holds a handful of months in millions of rows)."""
    if dates is not None and (plain := _plain_row(cells, dates)) is not None:
        return plain
    problems, values = [], []
    account_no = cell_text(cells.get("account_no"))
    if not account_no:
        problems.append(_("account_no: required value missing"))
    period = cells.get("period_end")
    cached = dates.get(period) if dates is not None and type(period) is str else None
    checks = (
        (lambda v: _period_end(v, as_of)) if cached is None else (lambda _v: cached),
        lambda v: _money("balance", v),
        lambda v: _money("amount_due", v, required=False),
        lambda v: _money("amount_paid", v),
        _dpd,
    )
    for column, parse in zip(COLUMNS[1:], checks, strict=True):
        try:
            values.append(parse(cells.get(column)))
        except RowProblem as exc:
            problems.append(str(exc))
    if problems:
        raise RowProblem("; ".join(problems))
    if cached is None and dates is not None and type(period) is str:
        dates[period] = values[0]
    return (account_no, *values)


def _account_ids(numbers: set[str]) -> dict[str, int]:
    if connection.vendor != "postgresql":
        return dict(DelinquentAccount.objects.filter(account_no__in=numbers).values_list("account_no", "id"))
    # The same lookup with the numbers as one array: the ORM prepares each value of an IN list in Python,
    # which cost more than the query at a couple of thousand numbers a chunk.
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT account_no, id FROM {DelinquentAccount._meta.db_table} WHERE account_no = ANY(%s)",  # noqa: S608  # nosec B608 — fixed table name
            [list(numbers)],
        )
        return dict(cursor.fetchall())


def _stored_keys(chunk: list, accounts: dict[str, int]) -> set[tuple[int, dt.date]]:
    """Which of the chunk's (account id, period end) keys are stored already.

    On PostgreSQL none are looked up: the append's ON CONFLICT DO NOTHING tells a stored month from a new
    one in the statement that appends (``_CopyAppender.finish`` counts it unchanged). A lookup by the
    chunk's accounts and months apart also read every stored statement of those months there."""
    if connection.vendor == "postgresql":
        return set()
    keys = {(accounts[values[0]], values[1]) for _number, values in chunk if values[0] in accounts}
    if not keys:
        return set()
    ids, periods = {key[0] for key in keys}, {key[1] for key in keys}
    stored = Statement.objects.filter(account_id__in=ids, period_end__in=periods)
    return set(stored.values_list("account_id", "period_end")) & keys


def _decide(chunk: list, result: ImportResult, seen: dict) -> list[tuple]:
    """The one decision for every parsed row, on either database: an unknown account or a key repeated in
    the file is a row error, a stored month is unchanged, the rest are new. Returns the new rows as
    ``(account_id, period_end, balance, amount_due, amount_paid, dpd)``."""
    numbers = {row[1][0] for row in chunk}
    accounts = _account_ids(numbers) if numbers else {}
    stored = _stored_keys(chunk, accounts)
    new = []
    for number, (account_no, period_end, balance, due, paid, dpd) in chunk:
        account_id = accounts.get(account_no)
        if account_id is None:
            result.error(number, _("account_no: unknown account %(no)s") % {"no": account_no})
            continue
        # One int per (account, month) rather than a tuple holding a date: half the memory over millions of rows.
        key = account_id * DAYS_SPAN + period_end.toordinal()
        first = seen.get(key)
        if first is not None:
            result.error(
                number,
                _("duplicate account_no and period_end in the file (first in row %(row)s)") % {"row": first},
            )
            continue
        seen[key] = number
        if (account_id, period_end) in stored:
            result.unchanged += 1
            continue
        new.append((account_id, period_end, balance, due, paid, dpd))
    return new


class _OrmAppender:
    """SQLite (and any database without COPY): each chunk's new rows in one ``bulk_create``."""

    chunk_size = CHUNK_SIZE

    def add(self, rows: list[tuple], result: ImportResult) -> None:
        statements = [
            Statement(account_id=a, period_end=p, balance=b, amount_due=d, amount_paid=pd, dpd=n)
            for a, p, b, d, pd, n in rows
        ]
        # ignore_conflicts: a concurrent import of the same month loses quietly instead of failing the chunk.
        Statement.objects.bulk_create(statements, batch_size=CHUNK_SIZE, ignore_conflicts=True)
        result.created += len(statements)

    def finish(self, result: ImportResult) -> None:
        pass

    def close(self) -> None:
        pass


def _copy_text(value) -> str:
    return "\\N" if value is None else str(value)


class _CopyAppender:
    """PostgreSQL: every chunk's new rows are streamed with COPY into a session table; at the end one
    INSERT … SELECT … ON CONFLICT DO NOTHING appends them all, so statements stay append-only, a file that
    fails half-way leaves nothing behind, and a row stored already (by an earlier file or a concurrent
    import) counts as unchanged, not as an error."""

    chunk_size = COPY_CHUNK_SIZE

    def __init__(self):
        self.staged = 0
        with connection.cursor() as cursor:
            cursor.execute(f"DROP TABLE IF EXISTS {STAGE_TABLE}")
            cursor.execute(
                f"CREATE TEMPORARY TABLE {STAGE_TABLE} (account_id bigint, period_end date, balance numeric(16, 2), "
                "amount_due numeric(16, 2), amount_paid numeric(16, 2), dpd integer)"
            )

    def add(self, rows: list[tuple], result: ImportResult) -> None:
        if not rows:
            return
        days = {p: p.isoformat() for p in {row[1] for row in rows}}  # a handful of months a file
        text = "".join(f"{a}\t{days[p]}\t{b}\t{_copy_text(d)}\t{pd}\t{n}\n" for a, p, b, d, pd, n in rows)
        with connection.cursor() as cursor:
            cursor.cursor.copy_expert(f"COPY {STAGE_TABLE} FROM STDIN", io.StringIO(text))
        self.staged += len(rows)

    def finish(self, result: ImportResult) -> None:
        table = Statement._meta.db_table
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {table} (account_id, period_end, balance, amount_due, amount_paid, dpd, created_at) "  # noqa: S608  # nosec B608 — fixed table names
                f"SELECT account_id, period_end, balance, amount_due, amount_paid, dpd, %s FROM {STAGE_TABLE} "
                "ON CONFLICT (account_id, period_end) DO NOTHING",
                [timezone.now()],
            )
            created = cursor.rowcount
        result.created += created
        result.unchanged += self.staged - created

    def close(self) -> None:
        with connection.cursor() as cursor:
            cursor.execute(f"DROP TABLE IF EXISTS {STAGE_TABLE}")


def _appender():
    return _CopyAppender() if connection.vendor == "postgresql" else _OrmAppender()


def _parsed_chunks(table: TableFile, as_of: dt.date, size: int):
    """The file's rows parsed, in chunks: ``(parsed, problems, count)`` with ``parsed`` as
    ``[(row number, values)]``, ``problems`` as ``[(row number, message)]`` and ``count`` rows read."""
    dates: dict = {}
    parsed, problems, count = [], [], 0
    for number, cells in table.rows():
        count += 1
        try:
            parsed.append((number, parse_row(cells, as_of, dates)))
        except RowProblem as exc:
            problems.append((number, str(exc)))
        if len(parsed) >= size:
            yield parsed, problems, count
            parsed, problems, count = [], [], 0
    yield parsed, problems, count


def _read_ahead(chunks, depth: int = 2):
    """``chunks`` produced by a thread of its own, at most ``depth`` ahead: reading and parsing (Python) go
    on while this thread waits for the database, which releases the interpreter lock while it works."""
    done = object()
    handoff: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()
    language = translation.get_language()

    def produce():
        try:
            with translation.override(language):
                for chunk in chunks:
                    if stop.is_set():
                        return
                    handoff.put(chunk)
            handoff.put(done)
        except BaseException as exc:  # noqa: BLE001 — handed to the consumer, which raises it
            handoff.put(exc)

    worker = threading.Thread(target=produce, name="statements-reader", daemon=True)
    worker.start()
    try:
        while (item := handoff.get()) is not done:
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        while worker.is_alive():  # let a producer blocked on a full queue see the stop
            with contextlib.suppress(queue.Empty):
                handoff.get(timeout=0.1)
        worker.join()


def statements_load(*, path: str | Path, as_of: dt.date | None = None, on_progress=None) -> ImportResult:
    """Read a statement file and append its new months; row problems are collected, not raised."""
    as_of = as_of or local_today()
    table = TableFile(path)
    missing = [column for column in REQUIRED if column not in table.header]
    if missing:
        raise MissingColumns(_("Required columns are missing: %(columns)s") % {"columns": ", ".join(missing)})
    result = ImportResult(total=table.total_rows)
    # The first row of each (account, month) key in this file; a key repeated is a row error.
    seen: dict = {}
    appender = _appender()
    try:
        for parsed, problems, count in _read_ahead(_parsed_chunks(table, as_of, appender.chunk_size)):
            for number, message in problems:
                result.error(number, message)
            with transaction.atomic():
                appender.add(_decide(parsed, result, seen), result)
            result.processed += count
            if on_progress:
                on_progress(result)
        appender.finish(result)
    finally:
        appender.close()
    if on_progress:
        on_progress(result)
    result.errors.sort(key=lambda error: error["row"])
    return result


@transaction.atomic
def statement_import_create(*, actor: User, upload, as_of: dt.date | None = None) -> StatementImport:
    if not may_import_statements(actor):
        raise NotPermitted(_("Only supervisors and administrators can import statements."))
    job = StatementImport(created_by=actor, filename=Path(upload.name).name[:255], as_of=as_of)
    job.file.save(f"{timezone.now():%Y%m%d%H%M%S}-{job.filename}", upload, save=False)
    job.save()
    audit_log(actor=actor, action="statements.upload", obj=job, changes={"filename": job.filename})
    return job


def statement_import_run(*, job_id: int) -> StatementImport | None:
    """Run a queued job once (a second delivery finds it claimed and returns None)."""
    if not StatementImport.objects.filter(pk=job_id, status=StatementImport.Status.QUEUED).update(
        status=StatementImport.Status.RUNNING
    ):
        return None
    job = StatementImport.objects.get(pk=job_id)

    def progress(result: ImportResult) -> None:
        StatementImport.objects.filter(pk=job_id).update(
            total_rows=result.total,
            processed_rows=result.processed,
            created_count=result.created,
            unchanged_count=result.unchanged,
            error_count=result.error_count,
        )

    try:
        with local_copy(job.file) as path:
            result = statements_load(path=path, as_of=job.as_of, on_progress=progress)
    except (FileFormatError, MissingColumns, OSError) as exc:
        message = exc.message if isinstance(exc, DoorstepError) else _("The file cannot be read.")
        StatementImport.objects.filter(pk=job_id).update(
            status=StatementImport.Status.FAILED, message=str(message)[:500], finished_at=timezone.now()
        )
        job.refresh_from_db()
        audit_log(actor=job.created_by, action="statements.import_failed", obj=job, changes={"message": job.message})
        return job
    StatementImport.objects.filter(pk=job_id).update(
        status=StatementImport.Status.DONE,
        total_rows=result.total,
        processed_rows=result.processed,
        created_count=result.created,
        unchanged_count=result.unchanged,
        error_count=result.error_count,
        errors=result.errors,
        finished_at=timezone.now(),
    )
    job.refresh_from_db()
    audit_log(
        actor=job.created_by,
        action="statements.import",
        obj=job,
        changes={"created": result.created, "unchanged": result.unchanged, "errors": result.error_count},
    )
    return job


def statement_import_file(path: Path) -> FeedResult:
    """The daily feed's ``statements`` kind: a file claimed from the drop folder, imported as a job with no
    uploader (README, "A daily feed from core banking")."""
    job = StatementImport(filename=path.name[:255])
    with path.open("rb") as handle:
        job.file.save(f"{timezone.now():%Y%m%d%H%M%S}-{job.filename}", File(handle), save=False)
    job.save()
    audit_log(actor=None, action="statements.upload", obj=job, changes={"filename": job.filename, "source": "drop"})
    job = statement_import_run(job_id=job.pk) or StatementImport.objects.get(pk=job.pk)
    done = job.status == StatementImport.Status.DONE
    return FeedResult(ok=done, reference=f"statement import {job.pk}", message=job.message)
