"""The nightly bucket snapshot and the roll and cure rates computed from snapshots."""

import datetime as dt
from decimal import Decimal

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command

from collections_app.aging import local_today
from collections_app.models import AccountBucketSnapshot, DelinquentAccount
from dashboard import selectors
from dashboard.forms import Filters
from dashboard.tasks import snapshot_buckets
from tests.factories import AccountFactory

pytestmark = pytest.mark.django_db


def test_snapshot_task_is_idempotent_per_day_and_matches_python_aging(dataset):
    today = local_today()
    first = snapshot_buckets.apply().get()
    second = snapshot_buckets.apply().get()
    accounts = DelinquentAccount.objects.count()
    assert (first, second) == (accounts, 0)
    assert AccountBucketSnapshot.objects.filter(as_of=today).count() == accounts
    for snap in AccountBucketSnapshot.objects.select_related("account"):
        account = snap.account
        assert snap.dpd == account.dpd(today), account.overdue_since
        assert snap.bucket == account.aging_bucket(today)
        assert snap.overdue_amount == account.overdue_amount
        assert snap.branch_id == account.branch_id
    # The paid-up account is recorded as current; the one overdue since today has DPD 0.
    assert AccountBucketSnapshot.objects.get(account=dataset.accounts["paid_up"]).bucket == "current"
    assert AccountBucketSnapshot.objects.get(account=dataset.accounts[0]).dpd == 0
    assert AccountBucketSnapshot.objects.get(account=dataset.accounts[181]).bucket == "181+"


def test_snapshot_for_a_past_day_uses_dpd_as_of_that_day(cast):
    today = local_today()
    account = AccountFactory(branch=cast.branch_a, overdue_since=today - dt.timedelta(days=35))
    day = today - dt.timedelta(days=10)
    assert snapshot_buckets.apply(kwargs={"as_of": day.isoformat()}).get() == 1
    snap = AccountBucketSnapshot.objects.get(account=account, as_of=day)
    assert (snap.dpd, snap.bucket) == (25, "1-30")
    # Overdue since after the snapshot day: DPD 0, current.
    day = today - dt.timedelta(days=40)
    snapshot_buckets.apply(kwargs={"as_of": day.isoformat()})
    snap = AccountBucketSnapshot.objects.get(account=account, as_of=day)
    assert (snap.dpd, snap.bucket) == (0, "current")


def test_management_command(cast, capsys):
    AccountFactory(branch=cast.branch_a)
    call_command("snapshot_buckets", "--date", "2026-01-15")
    call_command("snapshot_buckets", "--date", "2026-01-15")
    assert AccountBucketSnapshot.objects.filter(as_of=dt.date(2026, 1, 15)).count() == 1
    assert "0 snapshot rows added" in capsys.readouterr().out
    with pytest.raises(CommandError):
        call_command("snapshot_buckets", "--date", "15/01/2026")


def test_snapshot_task_is_scheduled_nightly():
    entry = settings.CELERY_BEAT_SCHEDULE["dashboard-snapshot-buckets"]
    assert entry["task"] == "dashboard.tasks.snapshot_buckets"
    assert snapshot_buckets.name == entry["task"]


def test_every_scheduled_task_is_registered_with_the_worker():
    """A beat entry naming a task the worker does not know would be dropped every time it fires."""
    from config.celery import app

    app.loader.import_default_modules()
    missing = [entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values() if entry["task"] not in app.tasks]
    assert missing == []


def _snap(account, day, bucket):
    AccountBucketSnapshot.objects.create(
        account=account,
        as_of=day,
        dpd=0 if bucket == "current" else 1,
        bucket=bucket,
        overdue_amount=Decimal("1.00"),
        branch_id=account.branch_id,
    )


def test_roll_and_cure_rates_from_snapshots(cast):
    today = local_today()
    start, end = today - dt.timedelta(days=29), today
    # Start → end per account, branch A unless said otherwise:
    moves = [
        ("1-30", "31-60"),
        ("1-30", "61-90"),
        ("1-30", "1-30"),
        ("1-30", "current"),  # 1-30: 2 rolled, 1 cured
        ("31-60", "61-90"),
        ("31-60", "1-30"),  # 31-60: 1 rolled of 2
        ("61-90", None),  # gone from the end snapshot: counts as cured
        ("181+", "181+"),
        ("current", "1-30"),  # not delinquent at the start: in no denominator
    ]
    for start_bucket, end_bucket in moves:
        account = AccountFactory(branch=cast.branch_a)
        _snap(account, start, start_bucket)
        if end_bucket:
            _snap(account, end, end_bucket)
    other = AccountFactory(branch=cast.branch_b)  # branch B: supervisor X never sees it
    _snap(other, start, "1-30")
    _snap(other, end, "31-60")

    period = Filters(branch=None, team=None, date_from=start, date_to=end)
    roll = selectors.dashboard(user=cast.supervisor_x, filters=period)["roll"]
    assert roll["available"]
    assert (roll["start"], roll["end"]) == (start, end)
    rows = {row["bucket"]: row for row in roll["rows"]}
    assert (rows["1-30"]["accounts"], rows["1-30"]["rolled"], rows["1-30"]["cured"]) == (4, 2, 1)
    assert rows["1-30"]["roll_rate"] == 0.5
    assert rows["31-60"]["roll_rate"] == 0.5
    assert rows["61-90"]["cured"] == 1
    assert rows["61-90"]["roll_rate"] == 0.0
    assert rows["181+"]["roll_rate"] is None
    assert roll["delinquent_at_start"] == 8
    assert roll["cured"] == 2
    assert roll["cure_rate"] == 0.25

    manager = selectors.dashboard(user=cast.manager, filters=period)["roll"]
    assert {row["bucket"]: row["accounts"] for row in manager["rows"]}["1-30"] == 5
    assert manager["delinquent_at_start"] == 9


def test_missing_history_says_so(cast):
    today = local_today()
    account = AccountFactory(branch=cast.branch_a)
    _snap(account, today, "1-30")
    period = Filters(branch=None, team=None, date_from=today - dt.timedelta(days=29), date_to=today)
    roll = selectors.dashboard(user=cast.manager, filters=period)["roll"]
    assert roll["available"] is False
    assert roll["cure_rate"] is None
    assert roll["rows"] == []


def test_a_missed_night_at_the_start_is_tolerated(cast):
    today = local_today()
    start = today - dt.timedelta(days=29)
    account = AccountFactory(branch=cast.branch_a)
    _snap(account, start - dt.timedelta(days=2), "1-30")
    _snap(account, today, "current")
    period = Filters(branch=None, team=None, date_from=start, date_to=today)
    roll = selectors.dashboard(user=cast.manager, filters=period)["roll"]
    assert roll["available"]
    assert roll["cure_rate"] == 1.0
