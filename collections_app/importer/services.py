"""Import jobs: create (upload), run (Celery task or command), enqueue. Every run leaves one audit row.

A run holds its job by the attempt number its claim gave it: every write of the run (the progress after
each chunk, the final status) is a compare-and-set on (running, that attempt) and also stamps the
heartbeat ``progress_at``. A job whose worker died is taken back by the sweep in ``stalled``; a run that
is still alive then loses the compare-and-set, rolls its chunk back and stops (``ClaimLost``).
"""

import contextlib
import datetime as dt
import logging
from pathlib import Path

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F, Value
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _

from collections_app.aging import local_today
from collections_app.exceptions import NotPermitted
from collections_app.importer import rows as R
from collections_app.importer.reader import FileFormatError, TableFile
from collections_app.importer.report import ReportWriter
from collections_app.importer.upsert import ImportContext, upsert_chunk
from collections_app.models import Branch, DelinquentAccount, ImportJob, Role, User
from collections_app.services.audit import audit_log
from collections_app.services.uploads import local_copy

logger = logging.getLogger(__name__)
CHUNK_SIZE = 5000
# PostgreSQL writes a chunk in a fixed number of set-based statements: larger chunks amortise them.
PG_CHUNK_SIZE = 20_000
# Uploads up to this size import during the request; larger ones go to the Celery worker.
INLINE_MAX_BYTES = 512 * 1024


class ClaimLost(Exception):
    """The job was taken back from this run (its heartbeat had gone stale): stop, write nothing more."""


def may_import(user) -> bool:
    return user.is_authenticated and (user.is_supervisor or user.role == Role.ADMIN or user.is_superuser)


def may_create_branches(user) -> bool:
    return user is None or user.role == Role.ADMIN or user.is_superuser


def inline_max_bytes() -> int:
    return getattr(settings, "DOORSTEP_IMPORT_INLINE_MAX_BYTES", INLINE_MAX_BYTES)


@transaction.atomic
def import_job_create(*, actor: User, upload, as_of: dt.date | None = None, create_branches: bool = False) -> ImportJob:
    """Store an uploaded file as a queued import job (run it with ``import_job_run`` or the task)."""
    if not may_import(actor):
        raise NotPermitted(_("Only supervisors and administrators can import accounts."))
    if create_branches and not may_create_branches(actor):
        raise NotPermitted(_("Only administrators can create branches during an import."))
    job = ImportJob(
        created_by=actor, filename=Path(upload.name).name[:255], as_of=as_of, create_branches=create_branches
    )
    job.file.save(f"{timezone.now():%Y%m%d%H%M%S}-{job.filename}", upload, save=False)
    job.save()
    audit_log(actor=actor, action="import.upload", obj=job, changes={"filename": job.filename, "size": upload.size})
    return job


# What a claim resets: the progress bar and the counts are those of the run in progress.
_RUN_COUNTERS = {
    "total_rows": 0,
    "processed_rows": 0,
    "created_count": 0,
    "updated_count": 0,
    "unchanged_count": 0,
    "error_count": 0,
    "message": "",
    "finished_at": None,
}


@transaction.atomic
def import_job_claim(job_id: int) -> int | None:
    """Compare-and-set queued → running, so of two deliveries of the same job only one runs it.

    Returns the run's attempt number (counted in the same statement), or None when not queued.
    ``started_at`` keeps the first attempt's start: the screening refresh after the run covers the
    accounts earlier attempts wrote too.
    """
    now = timezone.now()
    claimed = ImportJob.objects.filter(pk=job_id, status=ImportJob.Status.QUEUED).update(
        status=ImportJob.Status.RUNNING,
        attempts=F("attempts") + 1,
        progress_at=now,
        started_at=Coalesce(F("started_at"), Value(now)),
        **_RUN_COUNTERS,
    )
    if not claimed:
        return None
    return ImportJob.objects.filter(pk=job_id).values_list("attempts", flat=True).get()


def _beat(job: ImportJob, **fields) -> None:
    """Write the run's progress and heartbeat, or raise ``ClaimLost`` when the job is no longer this run's."""
    held = ImportJob.objects.filter(pk=job.pk, status=ImportJob.Status.RUNNING, attempts=job.attempts)
    if not held.update(progress_at=timezone.now(), **fields):
        raise ClaimLost


def import_job_run(*, job_id: int, path: str | Path | None = None) -> ImportJob | None:
    """Run a queued job to the end; None when another run claimed it or took it back from this one."""
    attempt = import_job_claim(job_id)
    if attempt is None:
        return None
    job = ImportJob.objects.select_related("created_by").get(pk=job_id)
    job.attempts = attempt
    report = ReportWriter()
    try:
        try:
            with contextlib.nullcontext(Path(path)) if path else local_copy(job.file) as source:
                _run(job, source, report)
        except FileFormatError as exc:
            job.status, job.message = ImportJob.Status.FAILED, str(exc.message)
        except ClaimLost:
            logger.warning("import job %s was taken back from attempt %s; it stops here", job.pk, attempt)
            return None
        except Exception:
            logger.exception("import job %s failed", job.pk)
            job.status, job.message = ImportJob.Status.FAILED, _("The import stopped on an unexpected error.")
        else:
            job.status = ImportJob.Status.DONE
        # A BaseException (the worker being killed) skips this: the job stays running and the sweep
        # takes it back once its heartbeat is stale.
        if not _finish(job, report):
            return None
    finally:
        report.close()
    audit_log(
        actor=job.created_by,
        action="import.run",
        obj=job,
        changes={
            "status": job.status,
            "attempt": job.attempts,
            "rows": job.total_rows,
            "created": job.created_count,
            "updated": job.updated_count,
            "unchanged": job.unchanged_count,
            "errors": job.error_count,
        },
    )
    return job


def _finish(job: ImportJob, report: ReportWriter) -> bool:
    """Store the report and the final status; False (and no report kept) when the job is no longer this run's."""
    job.finished_at = timezone.now()
    report.save_to(job)
    try:
        _beat(
            job,
            status=job.status,
            message=job.message,
            finished_at=job.finished_at,
            report=job.report.name,
            total_rows=job.total_rows,
            processed_rows=job.processed_rows,
            created_count=job.created_count,
            updated_count=job.updated_count,
            unchanged_count=job.unchanged_count,
            error_count=job.error_count,
        )
    except ClaimLost:
        logger.warning("import job %s was taken back before attempt %s finished", job.pk, job.attempts)
        job.report.delete(save=False)
        return False
    return True


def import_file(
    *, path: str | Path, actor: User | None = None, as_of: dt.date | None = None, create_branches: bool = False
) -> ImportJob:
    """The command's path: record a job for a file on disk and run it now."""
    job = ImportJob.objects.create(
        created_by=actor, filename=Path(path).name[:255], as_of=as_of, create_branches=create_branches
    )
    # None: the sweep took the job back from this run (see ``stalled``): return it as the sweep left it.
    return import_job_run(job_id=job.pk, path=path) or ImportJob.objects.get(pk=job.pk)


def _context(job: ImportJob, report: ReportWriter) -> ImportContext:
    actor = job.created_by
    allowed = None
    if actor is not None and not (actor.role == Role.ADMIN or actor.is_superuser):
        allowed = set(Branch.objects.supervised_by(actor).values_list("id", flat=True))
    return ImportContext(
        job_id=job.pk,
        actor=actor,
        create_branches=job.create_branches and may_create_branches(actor),
        report=report,
        branches=dict(Branch.objects.values_list("code", "id")),
        allowed_branch_ids=allowed,
    )


def _check_header(table: TableFile, report: ReportWriter) -> None:
    missing = [c for c in R.REQUIRED_COLUMNS if c not in table.header]
    for column in missing:
        report.add(1, column, "", R.MISSING_COLUMN)
    if missing:
        raise FileFormatError(_("Required columns missing: %(columns)s.") % {"columns": ", ".join(missing)})
    duplicated = sorted({c for c in table.header if c and table.header.count(c) > 1})
    if duplicated:
        raise FileFormatError(_("Columns named twice: %(columns)s.") % {"columns": ", ".join(duplicated)})
    for column in table.header:
        if column not in R.COLUMNS:
            report.add(1, column, "", R.UNKNOWN_COLUMN)


def _run(job: ImportJob, path: Path, report: ReportWriter) -> None:
    table = TableFile(path)
    _check_header(table, report)
    unknown = [c for c in table.header if c and c not in R.COLUMNS]
    if unknown:
        job.message = _("Ignored unknown columns: %(columns)s.") % {"columns": ", ".join(unknown)}
    job.total_rows = table.total_rows
    # ``days_past_due`` counts back from the as-of date: a re-run after midnight keeps the first attempt's.
    job.as_of = job.as_of or local_today()
    _beat(job, total_rows=job.total_rows, message=job.message, as_of=job.as_of)
    ctx = _context(job, report)
    try:
        _process(job, ctx, table, job.as_of)
    finally:
        # One set-based refresh of every account this job wrote (bulk_create stamps updated_at), since its
        # first attempt's start: rows an earlier, stopped attempt wrote are unchanged now, not rewritten.
        refresh_screening_since(job.started_at)


def _chunk_size() -> int:
    return PG_CHUNK_SIZE if connection.vendor == "postgresql" else CHUNK_SIZE


def _process(job: ImportJob, ctx: ImportContext, table: TableFile, as_of: dt.date) -> None:
    first_seen: dict[str, int] = {}
    chunk: list = []
    processed = 0
    chunk_size = _chunk_size()
    # A chunk is flushed every ``chunk_size`` rows of the file, valid or not, so the heartbeat keeps
    # beating through a stretch of bad rows too.
    for number, cells in table.rows():
        processed += 1
        row = R.validate_row(number, cells, as_of=as_of)
        if isinstance(row, list):
            ctx.fail(number, row)
        elif row.account_no in first_seen:
            ctx.fail(
                number, [R.RowError("account_no", row.account_no, R.DUPLICATE % {"row": first_seen[row.account_no]})]
            )
        else:
            first_seen[row.account_no] = number
            chunk.append(row)
        if processed % chunk_size == 0:
            _flush(job, ctx, chunk, processed)
            chunk = []
    _flush(job, ctx, chunk, processed)


def _flush(job: ImportJob, ctx: ImportContext, chunk: list, processed: int) -> None:
    """Write the chunk and the progress in one transaction: a run that lost its job rolls its chunk back."""
    with transaction.atomic():
        if chunk:
            upsert_chunk(ctx, chunk, actor_id=job.created_by_id)
        counts = ctx.counts
        _beat(
            job,
            processed_rows=processed,
            created_count=counts.created,
            updated_count=counts.updated,
            unchanged_count=counts.unchanged,
            error_count=counts.failed,
        )
    job.processed_rows, job.error_count = processed, counts.failed
    job.created_count, job.updated_count, job.unchanged_count = counts.created, counts.updated, counts.unchanged


def refresh_screening_since(since) -> None:
    from collections_app.services.screening import accounts_refresh_screening_keys

    accounts_refresh_screening_keys(DelinquentAccount.objects.filter(updated_at__gte=since))
