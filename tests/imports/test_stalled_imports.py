"""An import whose worker stopped mid-file is taken back by the beat sweep, never left running."""

import contextlib
import datetime as dt
import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from collections_app.importer import services
from collections_app.importer.services import import_file, import_job_claim, import_job_create, import_job_run
from collections_app.importer.stalled import (
    MAX_ATTEMPTS,
    import_job_take_back,
    import_jobs_take_back_stalled,
    take_back_stalled_imports,
)
from collections_app.importer.tasks import run_import
from collections_app.models import AuditLog, Borrower, Case, CaseEvent, DelinquentAccount, ImportJob
from tests.imports.conftest import csv_bytes, row

pytestmark = pytest.mark.django_db
STALE = dt.timedelta(minutes=16)  # past the default stall limit of 15 minutes


class WorkerKilled(BaseException):
    """What a killed worker looks like to the code it was running: not an ``Exception``, nothing handles it."""


class _Rollback(Exception):
    pass


def upload_job(actor, rows) -> ImportJob:
    return import_job_create(actor=actor, upload=SimpleUploadedFile("accounts.csv", csv_bytes(rows)))


def age_heartbeat(job: ImportJob, by: dt.timedelta = STALE) -> None:
    ImportJob.objects.filter(pk=job.pk).update(progress_at=timezone.now() - by)


def portfolio() -> tuple:
    """What an import leaves, by natural keys only (ids differ between two runs of the same file)."""
    accounts = []
    for account in DelinquentAccount.objects.select_related("borrower").order_by("account_no"):
        borrower = account.borrower
        accounts.append(
            (
                account.account_no,
                account.branch_id,
                account.product,
                account.principal,
                account.outstanding_balance,
                account.overdue_amount,
                account.overdue_since,
                account.last_payment_date,
                account.currency,
                account.screening_key,
                borrower.name,
                borrower.national_id_hash,
                sorted(borrower.accounts.values_list("account_no", flat=True)),
                sorted(borrower.phones.values_list("number", "is_primary")),
                sorted(borrower.addresses.values_list("text", "lat", "lng", "is_primary")),
            )
        )
    events = sorted(
        (event.case_id, json.dumps(event.payload["changes"], sort_keys=True))
        for event in CaseEvent.objects.filter(kind=CaseEvent.Kind.ACCOUNT_UPDATED)
    )
    cured = sorted(Case.objects.filter(cured_candidate=True).values_list("id", flat=True))
    return accounts, Borrower.objects.count(), events, cured


def mixed_file(case_account_no: str) -> list[dict]:
    """Rows whose effects reach across chunks (of 2): a national ID shared with a later row, a rename,
    a new primary phone, a changed account with an open case that becomes current, a bad row, a duplicate."""
    return [
        row("A1", national_id="320102198001011234", phone="13800000001"),
        row(case_account_no, outstanding_balance="0.00", overdue_amount="0", overdue_since=""),
        row("A2", national_id="320102198001011234", borrower_name="张三丰", phone="13800000002"),
        row("BAD", overdue_amount="x"),
        row("A3", borrower_name="李四", phone="13900000003", address="苏州市吴中区1号"),
        row("A1", outstanding_balance="1.00"),
        row("A4", national_id="320102198202021234", borrower_name="王五", lat="31.4", lng="120.7"),
        row("A5", borrower_name="赵六", overdue_amount="0", overdue_since=""),
    ]


def test_claim_counts_the_attempt_stamps_the_heartbeat_and_resets_the_counts(cast):
    job = upload_job(cast.supervisor_x, [row("A1")])
    before = timezone.now()

    assert import_job_claim(job.pk) == 1
    assert import_job_claim(job.pk) is None  # a second delivery of the task

    job.refresh_from_db()
    assert (job.status, job.attempts) == (ImportJob.Status.RUNNING, 1)
    assert before <= job.progress_at <= timezone.now()
    first_start = job.started_at
    # Taken back after a stopped run that had got somewhere.
    ImportJob.objects.filter(pk=job.pk).update(
        status=ImportJob.Status.QUEUED, processed_rows=7, created_count=5, error_count=2, total_rows=9, message="x"
    )

    assert import_job_claim(job.pk) == 2

    job.refresh_from_db()
    assert (job.attempts, job.processed_rows, job.created_count, job.error_count, job.total_rows) == (2, 0, 0, 0, 0)
    assert job.message == "" and job.progress_percent == 0
    assert job.started_at == first_start  # the refresh after the run covers what attempt 1 wrote


def test_every_committed_chunk_moves_the_heartbeat(cast, monkeypatch):
    monkeypatch.setattr(services, "CHUNK_SIZE", 2)
    monkeypatch.setattr(services, "PG_CHUNK_SIZE", 2)
    long_ago = timezone.now() - dt.timedelta(days=1)
    seen = []
    original = services.upsert_chunk

    def spy(ctx, chunk, **kwargs):
        job = ImportJob.objects.get(pk=ctx.job_id)
        seen.append((job.processed_rows, job.progress_at > long_ago))
        ImportJob.objects.filter(pk=ctx.job_id).update(progress_at=long_ago)
        return original(ctx, chunk, **kwargs)

    monkeypatch.setattr(services, "upsert_chunk", spy)
    job = upload_job(cast.supervisor_x, [row(f"A{i}") for i in range(5)])
    job = import_job_run(job_id=job.pk)

    assert seen == [(0, True), (2, True), (4, True)]
    assert job.status == ImportJob.Status.DONE and job.progress_at > long_ago


def test_stalled_job_is_taken_back_and_ends_like_one_clean_import(
    cast, case_a, monkeypatch, tmp_path, django_capture_on_commit_callbacks
):
    monkeypatch.setattr(services, "CHUNK_SIZE", 2)
    monkeypatch.setattr(services, "PG_CHUNK_SIZE", 2)
    rows = mixed_file(case_a.account.account_no)
    path = tmp_path / "clean.csv"
    path.write_bytes(csv_bytes(rows))
    with contextlib.suppress(_Rollback), transaction.atomic():
        assert import_file(path=path, actor=cast.supervisor_x).status == ImportJob.Status.DONE
        clean = portfolio()
        raise _Rollback
    assert DelinquentAccount.objects.count() == 1  # back to case A's account only

    job = upload_job(cast.supervisor_x, rows)
    original_upsert, original_refresh = services.upsert_chunk, services.refresh_screening_since
    calls = []

    def killed_on_third_chunk(ctx, chunk, **kwargs):
        calls.append(len(chunk))
        if len(calls) == 3:
            raise WorkerKilled
        return original_upsert(ctx, chunk, **kwargs)

    monkeypatch.setattr(services, "upsert_chunk", killed_on_third_chunk)
    # A killed process runs no ``finally``: the stopped run refreshes no screening keys either.
    monkeypatch.setattr(services, "refresh_screening_since", lambda since: None)
    with pytest.raises(WorkerKilled):
        import_job_run(job_id=job.pk)
    monkeypatch.setattr(services, "upsert_chunk", original_upsert)
    monkeypatch.setattr(services, "refresh_screening_since", original_refresh)

    job.refresh_from_db()
    assert (job.status, job.attempts, job.processed_rows) == (ImportJob.Status.RUNNING, 1, 4)
    assert set(DelinquentAccount.objects.values_list("account_no", flat=True)) >= {"A1", "A2"}
    assert not DelinquentAccount.objects.filter(account_no="A3").exists()
    assert import_jobs_take_back_stalled() == 0  # the heartbeat is still fresh

    age_heartbeat(job)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        assert take_back_stalled_imports() == 1
    job.refresh_from_db()
    assert (job.status, job.attempts, len(callbacks)) == (ImportJob.Status.QUEUED, 1, 1)

    run_import(job.pk)  # the worker's side of the re-enqueued message

    job.refresh_from_db()
    assert (job.status, job.attempts, job.processed_rows, job.total_rows) == (ImportJob.Status.DONE, 2, 8, 8)
    # The counts are the second run's: case A's account, which the first run updated, comes out unchanged;
    # A1 and A2 count as updated as row 2 renames their shared borrower back before row 4 renames it again.
    assert (job.created_count, job.updated_count, job.unchanged_count, job.error_count) == (3, 2, 1, 2)
    assert portfolio() == clean


def test_running_job_with_a_fresh_heartbeat_is_left_alone(cast, django_capture_on_commit_callbacks):
    job = upload_job(cast.supervisor_x, [row("A1")])
    import_job_claim(job.pk)
    age_heartbeat(job, by=dt.timedelta(minutes=14))

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        assert take_back_stalled_imports() == 0

    job.refresh_from_db()
    assert (job.status, job.attempts, callbacks) == (ImportJob.Status.RUNNING, 1, [])
    assert not AuditLog.objects.filter(action="import.take_back").exists()


def test_stall_limit_is_the_setting(cast, settings):
    settings.IMPORT_STALL_MINUTES = 5
    job = upload_job(cast.supervisor_x, [row("A1")])
    import_job_claim(job.pk)
    age_heartbeat(job, by=dt.timedelta(minutes=6))
    assert import_jobs_take_back_stalled() == 1


def test_after_the_last_attempt_the_job_fails_with_a_message(cast, client, django_capture_on_commit_callbacks):
    job = upload_job(cast.supervisor_x, [row("A1")])
    client.force_login(cast.supervisor_x)
    progress = reverse("import-progress", args=[job.pk])
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        for attempt in range(1, MAX_ATTEMPTS + 1):
            assert import_job_claim(job.pk) == attempt
            if attempt == 2:
                assert "attempt 2 of 3" in client.get(progress).content.decode()
            age_heartbeat(job)
            assert take_back_stalled_imports() == 1
            if attempt == 1:
                fragment = client.get(progress).content.decode()
                assert "starts again from the beginning" in fragment and "attempt 2 of 3" in fragment

    job.refresh_from_db()
    assert (job.status, job.attempts, len(callbacks)) == (ImportJob.Status.FAILED, 3, 2)
    assert "stopped during this import 3 times" in job.message
    assert "upload the file again" in job.message
    assert job.finished_at is not None
    assert import_job_claim(job.pk) is None  # a late delivery of the task does not revive it
    fragment = client.get(progress).content.decode()
    assert job.message in fragment and "every 2s" not in fragment and "attempt" not in fragment
    assert [log.changes["status"] for log in AuditLog.objects.filter(action="import.take_back").order_by("id")] == [
        ["running", "queued"],
        ["running", "queued"],
        ["running", "failed"],
    ]


def test_two_sweeps_take_a_stalled_job_back_once(cast, django_capture_on_commit_callbacks):
    job = upload_job(cast.supervisor_x, [row("A1")])
    import_job_claim(job.pk)
    age_heartbeat(job)
    job.refresh_from_db()
    # Both sweeps read the same stalled row before either wrote.
    seen = {"job_id": job.pk, "attempts": job.attempts, "seen_progress_at": job.progress_at}

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        assert import_job_take_back(**seen) == ImportJob.Status.QUEUED
        assert import_job_take_back(**seen) is None
        assert take_back_stalled_imports() == 0

    assert len(callbacks) == 1
    log = AuditLog.objects.get(action="import.take_back")
    assert (log.object_id, log.actor, log.changes["attempts"]) == (str(job.pk), None, 1)
    assert log.changes["status"] == ["running", "queued"]


def test_a_run_that_beat_after_the_sweep_read_keeps_its_job(cast):
    job = upload_job(cast.supervisor_x, [row("A1")])
    import_job_claim(job.pk)
    age_heartbeat(job)
    job.refresh_from_db()
    ImportJob.objects.filter(pk=job.pk).update(progress_at=timezone.now())  # the run's next chunk

    assert import_job_take_back(job_id=job.pk, attempts=1, seen_progress_at=job.progress_at) is None

    job.refresh_from_db()
    assert job.status == ImportJob.Status.RUNNING
    assert not AuditLog.objects.filter(action="import.take_back").exists()


def test_a_run_whose_job_was_taken_back_rolls_back_its_chunk_and_stops(cast, monkeypatch):
    monkeypatch.setattr(services, "CHUNK_SIZE", 2)
    monkeypatch.setattr(services, "PG_CHUNK_SIZE", 2)
    job = upload_job(cast.supervisor_x, [row(f"A{i}") for i in range(5)])
    original = services.R.validate_row
    taken = []

    def validate(number, cells, **kwargs):
        if number == 4 and not taken:  # rows 2 and 3 are committed; the run stalls, the sweep takes the job
            age_heartbeat(job)
            taken.append(import_jobs_take_back_stalled())
        return original(number, cells, **kwargs)

    monkeypatch.setattr(services.R, "validate_row", validate)

    assert import_job_run(job_id=job.pk) is None

    job.refresh_from_db()
    assert (taken, job.status, job.attempts, job.processed_rows) == ([1], ImportJob.Status.QUEUED, 1, 2)
    # Rows 4 and 5 were written, then rolled back with the heartbeat that found the job no longer this run's.
    assert sorted(DelinquentAccount.objects.values_list("account_no", flat=True)) == ["A0", "A1"]
    assert not job.report and not AuditLog.objects.filter(action="import.run").exists()

    job = import_job_run(job_id=job.pk)
    assert (job.status, job.attempts, job.created_count, job.unchanged_count) == (ImportJob.Status.DONE, 2, 3, 2)


def test_a_stalled_command_import_fails_at_once(cast):
    job = ImportJob.objects.create(filename="accounts.csv")  # the command's job: no stored file to run again
    import_job_claim(job.pk)
    age_heartbeat(job)

    assert import_jobs_take_back_stalled() == 1

    job.refresh_from_db()
    assert (job.status, job.attempts) == (ImportJob.Status.FAILED, 1)
    assert "run the command again" in job.message


def test_a_running_job_from_before_the_heartbeat_is_taken_back(cast):
    job = upload_job(cast.supervisor_x, [row("A1")])
    ImportJob.objects.filter(pk=job.pk).update(
        status=ImportJob.Status.RUNNING, started_at=timezone.now() - STALE, progress_at=None
    )

    assert import_jobs_take_back_stalled() == 1

    job.refresh_from_db()
    assert (job.status, job.attempts) == (ImportJob.Status.QUEUED, 0)
    assert import_job_run(job_id=job.pk).status == ImportJob.Status.DONE


def test_a_rerun_after_midnight_counts_days_past_due_from_the_first_attempts_date(cast, monkeypatch):
    monkeypatch.setattr(services, "CHUNK_SIZE", 1)
    monkeypatch.setattr(services, "PG_CHUNK_SIZE", 1)
    day_one = dt.date(2026, 3, 1)
    monkeypatch.setattr(services, "local_today", lambda: day_one)
    job = upload_job(cast.supervisor_x, [row("A1", overdue_since="", days_past_due="45"), row("A2")])
    original = services.upsert_chunk

    def killed_on_second_chunk(ctx, chunk, **kwargs):
        if chunk[0].account_no == "A2":
            raise WorkerKilled
        return original(ctx, chunk, **kwargs)

    monkeypatch.setattr(services, "upsert_chunk", killed_on_second_chunk)
    with pytest.raises(WorkerKilled):
        import_job_run(job_id=job.pk)
    monkeypatch.setattr(services, "upsert_chunk", original)
    monkeypatch.setattr(services, "local_today", lambda: day_one + dt.timedelta(days=1))
    age_heartbeat(job)
    assert import_jobs_take_back_stalled() == 1

    job = import_job_run(job_id=job.pk)

    assert (job.status, job.as_of, job.unchanged_count, job.created_count) == ("done", day_one, 1, 1)
    assert DelinquentAccount.objects.get(account_no="A1").overdue_since == day_one - dt.timedelta(days=45)
