"""Imports whose worker stopped mid-file (OOM kill, deploy, power cut) are taken back, never left running.

A running job's heartbeat (``progress_at``) is stamped by its claim and after every chunk it commits. The
beat sweep takes back each running job whose heartbeat is older than ``IMPORT_STALL_MINUTES``, with a
compare-and-set on (running, its attempt, the stale heartbeat it saw), so of two sweeps only one takes it
and a run that beat meanwhile keeps it: back to queued and enqueued again while it has had fewer than
``MAX_ATTEMPTS`` runs (the next run reads the file from the start; rows already written come out
unchanged), else failed with a message. A job the command ran has no stored file to run again: it fails
at once.
"""

import datetime as dt
import logging

from celery import shared_task
from django.conf import settings
from django.db import transaction
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from collections_app.importer.services import refresh_screening_since
from collections_app.importer.tasks import import_job_enqueue
from collections_app.models import ImportJob
from collections_app.services.audit import audit_log

logger = logging.getLogger(__name__)
MAX_ATTEMPTS = 3
SWEEP_BATCH = 100


def stall_limit() -> dt.timedelta:
    return dt.timedelta(minutes=settings.IMPORT_STALL_MINUTES)


def import_jobs_take_back_stalled(*, now: dt.datetime | None = None) -> int:
    """Beat sweep: take back the running jobs whose heartbeat is older than the stall limit; how many."""
    now = now or timezone.now()
    stalled = (
        ImportJob.objects.filter(status=ImportJob.Status.RUNNING)
        # Rows from before the heartbeat existed have none: their start (or upload) stands in.
        .alias(heartbeat=Coalesce("progress_at", "started_at", "created_at"))
        .filter(heartbeat__lt=now - stall_limit())
        .order_by("id")
        .values_list("id", "attempts", "progress_at")[:SWEEP_BATCH]
    )
    taken = 0
    for job_id, attempts, seen in stalled:
        taken += import_job_take_back(job_id=job_id, attempts=attempts, seen_progress_at=seen) is not None
    return taken


def _failure_message(job: ImportJob, attempts: int) -> str:
    if not job.file:
        return _(
            "The import stopped before the end of the file (its process ended). Part of the file may "
            "already be imported; run the command again to finish it."
        )
    return ngettext(
        "The worker stopped during this import %(count)d time, so it was given up. Part of the file may "
        "already be imported; upload the file again to finish it (rows already imported stay unchanged).",
        "The worker stopped during this import %(count)d times, so it was given up. Part of the file may "
        "already be imported; upload the file again to finish it (rows already imported stay unchanged).",
        attempts,
    ) % {"count": attempts}


@transaction.atomic
def import_job_take_back(*, job_id: int, attempts: int, seen_progress_at: dt.datetime | None) -> str | None:
    """Take a stalled job back from its run: the status it now has, or None when the compare-and-set
    found nothing (the run beat meanwhile, or another sweep took the job first)."""
    job = ImportJob.objects.filter(pk=job_id).first()
    if job is None:
        return None
    now = timezone.now()
    if job.file and attempts < MAX_ATTEMPTS:
        status, message, finished_at = ImportJob.Status.QUEUED, "", None
    else:
        status, message, finished_at = ImportJob.Status.FAILED, _failure_message(job, attempts), now
    seen = {"progress_at": seen_progress_at} if seen_progress_at else {"progress_at__isnull": True}
    taken = ImportJob.objects.filter(pk=job_id, status=ImportJob.Status.RUNNING, attempts=attempts, **seen)
    if not taken.update(status=status, message=message, finished_at=finished_at):
        return None
    logger.warning("import job %s stalled on attempt %s of %s: now %s", job_id, attempts, MAX_ATTEMPTS, status)
    audit_log(
        actor=None,
        action="import.take_back",
        obj=job,
        changes={
            "status": [ImportJob.Status.RUNNING, status],
            "attempts": attempts,
            "max_attempts": MAX_ATTEMPTS,
            "last_progress": seen_progress_at,
            "processed": job.processed_rows,
        },
    )
    if status == ImportJob.Status.QUEUED:
        job.status = status
        import_job_enqueue(job)  # after commit; with the broker down the queued-jobs sweep enqueues it later
    elif job.started_at:
        # The stopped attempts' accounts get their screening key: no later run of this job will.
        refresh_screening_since(job.started_at)
    return status


@shared_task
def take_back_stalled_imports() -> int:
    """Beat sweep: running jobs with a stale heartbeat are queued again, or failed after the last attempt."""
    return import_jobs_take_back_stalled()
