"""A real Celery worker (and beat) against real Redis and PostgreSQL: no manual call marks a broken promise,
and a worker killed mid-evaluation leaves nothing half done or done twice."""

import datetime as dt
import os
import signal
import subprocess
import sys
import time
import uuid
from decimal import Decimal
from pathlib import Path

import psycopg2
import pytest
import time_machine
from django.conf import settings
from django.db import connection
from django.utils import timezone

from collections_app.models import CaseEvent, DelinquentAccount, Notification, Stage
from repayment.models import FollowUpCheck, PromiseToPay
from repayment.services import promise_create

pytestmark = [pytest.mark.redis, pytest.mark.postgres, pytest.mark.django_db(transaction=True)]
BASE_DIR = Path(settings.BASE_DIR)
POLL_LIMIT_SECONDS = 60


def _database_url() -> str:
    db = connection.settings_dict
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    return f"postgres://{db['USER']}{password}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def _start_worker(tmp_path: Path, *, beat: bool = False, **env_extra) -> subprocess.Popen:
    env = {
        **os.environ,
        "DEBUG": "true",
        "DATABASE_URL": _database_url(),
        "REDIS_URL": settings.REDIS_URL,
        "DOORSTEP_VAR_DIR": str(tmp_path),
        "CELERY_TASK_ALWAYS_EAGER": "false",
        **{key: str(value) for key, value in env_extra.items()},
    }
    name = f"repayment-test-{uuid.uuid4().hex[:8]}@%h"
    cmd = [sys.executable, "-m", "celery", "-A", "config", "worker", "-n", name, "--concurrency=1"]
    cmd += ["--loglevel=INFO", "--without-gossip", "--without-mingle", *(["--beat"] if beat else [])]
    log = (tmp_path / f"{name.split('@')[0]}.log").open("w")
    # Its own process group, so the test can kill the worker and its pool child together.
    return subprocess.Popen(cmd, cwd=BASE_DIR, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)


def _stop(process: subprocess.Popen, sig=signal.SIGTERM) -> None:
    if process.poll() is None:
        os.killpg(process.pid, sig)
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(5)


def _poll(predicate, seconds: float = POLL_LIMIT_SECONDS, what: str = "condition") -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.5)
    pytest.fail(f"timed out after {seconds} s waiting for {what}")


def _purge_queue() -> None:
    from config.celery import app

    with app.connection_for_write(url=settings.REDIS_URL) as conn:
        conn.default_channel.queue_purge(app.conf.task_default_queue)


def _send_sweep() -> None:
    from config.celery import app

    with app.connection_for_write(url=settings.REDIS_URL) as conn:
        app.send_task("repayment.tasks.sweep_followups", connection=conn)


@pytest.fixture
def promise_due_yesterday(negotiation_case, cast):
    """A promise made two days ago, due yesterday with no grace: its check is due now."""
    yesterday = timezone.localdate() - dt.timedelta(days=1)
    with time_machine.travel(timezone.now() - dt.timedelta(days=2)):
        promise = promise_create(
            case=negotiation_case, actor=cast.collector_a, amount=Decimal("100.00"), due_date=yesterday, grace_days=0
        )
    assert FollowUpCheck.objects.filter(promise=promise, due_at__lte=timezone.now()).exists()
    return promise


def _broken_and_back_in_visit(promise, case):
    promise.refresh_from_db()
    case.refresh_from_db()
    return promise.status == PromiseToPay.Status.BROKEN and case.stage == Stage.VISIT


def test_beat_and_worker_break_a_promise_due_yesterday_with_no_manual_call(
    promise_due_yesterday, negotiation_case, cast, tmp_path
):
    _purge_queue()
    worker = _start_worker(tmp_path, beat=True, REPAYMENT_SWEEP_SECONDS=2)
    try:
        _poll(lambda: _broken_and_back_in_visit(promise_due_yesterday, negotiation_case), what="the promise broken")
    finally:
        _stop(worker)
    assert negotiation_case.next_action
    assert Notification.objects.filter(recipient=cast.collector_a, kind="revisit").count() == 1
    assert DelinquentAccount.objects.get(pk=negotiation_case.account_id).broken_promises == 1


def _backend_waiting_to_update(table: str) -> int | None:
    """The server process of a transaction waiting for a row lock to UPDATE ``table``, if one is."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock' "
            "AND query LIKE %s",
            [f'UPDATE "{table}"%'],
        )
        row = cursor.fetchone()
    return row[0] if row else None


def _backend_gone(pid: int) -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE pid = %s", [pid])
        return cursor.fetchone()[0] == 0


def test_worker_killed_mid_evaluation_leaves_the_check_to_be_evaluated_exactly_once(
    promise_due_yesterday, negotiation_case, cast, tmp_path
):
    """The test holds the account's row lock, so the worker's batch stops at the broken-promise count, after it
    has written the check, the promise and the follow-up event, and is killed there."""
    _purge_queue()
    check = FollowUpCheck.objects.get(promise=promise_due_yesterday, kind=FollowUpCheck.Kind.PROMISE_DUE)
    accounts = DelinquentAccount._meta.db_table
    holder = psycopg2.connect(_database_url())
    try:
        with holder.cursor() as cursor:
            cursor.execute(f'SELECT 1 FROM "{accounts}" WHERE id = %s FOR UPDATE', [negotiation_case.account_id])  # noqa: S608
        first = _start_worker(tmp_path)
        try:
            _send_sweep()
            _poll(lambda: _backend_waiting_to_update(accounts), what="the worker to wait mid-batch")
            waiting = _backend_waiting_to_update(accounts)
            # Its writes so far are uncommitted: nobody else sees them.
            promise_due_yesterday.refresh_from_db()
            assert promise_due_yesterday.status == PromiseToPay.Status.PENDING
        finally:
            _stop(first, signal.SIGKILL)
    finally:
        holder.rollback()
        holder.close()
    # The killed worker's server process finds its client gone once the lock lets it go on, and rolls back.
    _poll(lambda: _backend_gone(waiting), what="the killed worker's transaction to end")
    check.refresh_from_db()
    assert (check.status, check.attempts) == (FollowUpCheck.Status.PENDING, 0)
    assert not Notification.objects.filter(kind="revisit").exists()
    assert not negotiation_case.events.filter(kind=CaseEvent.Kind.FOLLOW_UP).exists()

    second = _start_worker(tmp_path)
    try:
        _send_sweep()
        _poll(lambda: _broken_and_back_in_visit(promise_due_yesterday, negotiation_case), what="the re-evaluation")
        _send_sweep()  # a redelivered or repeated sweep changes nothing
        time.sleep(2)
    finally:
        _stop(second)
    check.refresh_from_db()
    assert (check.status, check.attempts, check.result) == (FollowUpCheck.Status.DONE, 1, "broken")
    assert DelinquentAccount.objects.get(pk=negotiation_case.account_id).broken_promises == 1
    assert Notification.objects.filter(recipient=cast.collector_a, kind="revisit").count() == 1
    follow_up_events = negotiation_case.events.filter(kind=CaseEvent.Kind.FOLLOW_UP, payload__check=check.pk)
    assert follow_up_events.count() == 1
    revisits = negotiation_case.events.filter(
        kind=CaseEvent.Kind.TRANSITION, from_stage=Stage.FOLLOW_UP, to_stage=Stage.VISIT
    )
    assert revisits.count() == 1
