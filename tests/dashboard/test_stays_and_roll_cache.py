"""The stay length recorded on transitions, its back-fill, and the cached roll matrix."""

import datetime as dt
import importlib

import pytest
from django.apps import apps
from django.core.cache import caches
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from collections_app.aging import local_today
from collections_app.models import AccountBucketSnapshot, CaseEvent, Stage
from collections_app.services.cases import case_transition
from dashboard import roll, selectors
from dashboard.forms import Filters
from dashboard.services import bucket_snapshot_take
from tests.dashboard.test_snapshots import _snap
from tests.factories import AccountFactory, visit_plan_ready

pytestmark = pytest.mark.django_db

BACKFILL = importlib.import_module("collections_app.migrations.0006_caseevent_stage_seconds").backfill


def _transitions(case):
    return list(CaseEvent.objects.filter(case=case, kind=CaseEvent.Kind.TRANSITION).order_by("created_at", "id"))


def test_a_transition_records_how_long_the_case_stayed_in_the_stage_it_leaves(case_a, cast):
    case_a.stage_changed_at = timezone.now() - dt.timedelta(days=2, hours=3)
    case_a.save(update_fields=["stage_changed_at"])
    case_transition(case=case_a, target=Stage.PREPARATION, actor=cast.collector_a)
    visit_plan_ready(case_a, cast.collector_a)
    case_transition(case=case_a, target=Stage.VISIT, actor=cast.collector_a)
    left_screening, left_preparation = _transitions(case_a)
    assert abs(left_screening.stage_seconds - (2 * 86400 + 3 * 3600)) <= 5
    assert left_screening.from_stage == Stage.SCREENING
    assert 0 <= left_preparation.stage_seconds <= 5  # preparation lasted a moment


def _walk_and_forget(case_a, cast) -> list[CaseEvent]:
    """Collector A's case walked to visit, its events placed 3 and 5 days after opening, and the
    recorded stays erased (as on rows written before the column existed)."""
    case_transition(case=case_a, target=Stage.PREPARATION, actor=cast.collector_a)
    visit_plan_ready(case_a, cast.collector_a)
    case_transition(case=case_a, target=Stage.VISIT, actor=cast.collector_a)
    opened_at = timezone.now() - dt.timedelta(days=10)
    CaseEvent.objects.filter(case=case_a, kind=CaseEvent.Kind.OPENED).update(created_at=opened_at)
    first, second = _transitions(case_a)
    CaseEvent.objects.filter(pk=first.pk).update(created_at=opened_at + dt.timedelta(days=3))
    CaseEvent.objects.filter(pk=second.pk).update(created_at=opened_at + dt.timedelta(days=5))
    CaseEvent.objects.filter(case=case_a).update(stage_seconds=None)
    return [first, second]


def _backfilled(events) -> list[int | None]:
    return [CaseEvent.objects.get(pk=e.pk).stage_seconds for e in events]


def test_the_migration_back_fills_stays_from_the_timeline(case_a, cast):
    events = _walk_and_forget(case_a, cast)

    class Editor:  # the Python path: what the migration runs on SQLite
        connection = connection

    BACKFILL(apps, Editor() if connection.vendor != "postgresql" else connection.schema_editor())
    assert _backfilled(events) == [3 * 86400, 2 * 86400]


@pytest.mark.postgres
def test_the_migration_back_fills_stays_with_one_update_on_postgresql(case_a, cast):
    events = _walk_and_forget(case_a, cast)
    with connection.schema_editor() as editor, CaptureQueriesContext(connection) as queries:
        BACKFILL(apps, editor)
    assert _backfilled(events) == [3 * 86400, 2 * 86400]
    assert len([q for q in queries.captured_queries if q["sql"].lstrip().startswith("UPDATE")]) == 1


def _history(cast, start, end):
    """Branch A: two accounts 1-30 at the start, one rolled to 31-60, one cured. Branch B: one rolled."""
    for bucket in ("31-60", "current"):
        account = AccountFactory(branch=cast.branch_a)
        _snap(account, start, "1-30")
        _snap(account, end, bucket)
    other = AccountFactory(branch=cast.branch_b)
    _snap(other, start, "1-30")
    _snap(other, end, "31-60")


def _roll(user, period) -> tuple[dict, int]:
    with CaptureQueriesContext(connection) as queries:
        block = selectors.roll_block(selectors.Scope(user=user, filters=period, today=local_today()))
    return {row["bucket"]: (row["accounts"], row["rolled"], row["cured"]) for row in block["rows"]}, len(queries)


def test_the_roll_matrix_of_past_days_is_computed_once_then_read_from_the_cache(cast):
    today = local_today()
    start, end = today - dt.timedelta(days=40), today - dt.timedelta(days=10)
    _history(cast, start, end)
    period = Filters(branch=None, team=None, date_from=start, date_to=end)

    cold, cold_queries = _roll(cast.manager, period)
    assert cold["1-30"] == (3, 2, 1)
    # History does not change: a cached matrix is served even though a row was edited behind its back.
    AccountBucketSnapshot.objects.filter(as_of=end, bucket="current").update(bucket="31-60")
    warm, warm_queries = _roll(cast.manager, period)
    assert (warm, warm_queries) == (cold, cold_queries - 1)  # only the snapshot days are read
    assert caches["dashboard"].get(roll.matrix_key(start, end, None)) is not None


def test_a_supervisors_branches_are_part_of_the_cache_key(cast):
    today = local_today()
    start, end = today - dt.timedelta(days=40), today - dt.timedelta(days=10)
    _history(cast, start, end)
    period = Filters(branch=None, team=None, date_from=start, date_to=end)
    manager, _ = _roll(cast.manager, period)
    supervisor, _ = _roll(cast.supervisor_x, period)  # after the manager's matrix is cached
    assert manager["1-30"] == (3, 2, 1)
    assert supervisor["1-30"] == (2, 1, 1)  # branch A only, never the manager's numbers
    branch_b = Filters(branch=cast.branch_b, team=None, date_from=start, date_to=end)
    assert _roll(cast.supervisor_x, branch_b)[0]["1-30"] == (0, 0, 0)  # not X's branch: nothing


def test_a_back_dated_snapshot_run_makes_cached_matrices_stale(cast, django_capture_on_commit_callbacks):
    today = local_today()
    start, end = today - dt.timedelta(days=40), today - dt.timedelta(days=10)
    _history(cast, start, end)
    period = Filters(branch=None, team=None, date_from=start, date_to=end)
    assert _roll(cast.manager, period)[0]["1-30"] == (3, 2, 1)
    # An account missing from the start day is snapshotted for that day by hand (DPD 20 then: 1-30).
    AccountFactory(branch=cast.branch_a, overdue_since=start - dt.timedelta(days=20))
    with django_capture_on_commit_callbacks(execute=True):
        assert bucket_snapshot_take(as_of=start) == 1
    # Recomputed: the new account was in 1-30 at the start and is gone from the end day, so cured.
    assert _roll(cast.manager, period)[0]["1-30"] == (4, 2, 2)


def test_a_matrix_ending_today_is_never_kept_past_midnight():
    today = local_today()
    seconds_left = (roll.day_start(today + dt.timedelta(days=1)) - timezone.now()).total_seconds()
    assert roll._ttl(today, today) <= max(60, seconds_left + 1)
    assert roll._ttl(today - dt.timedelta(days=1), today) == roll.PAST_TTL


@pytest.mark.redis
def test_the_roll_matrix_is_shared_through_redis(cast, settings, redis_url):
    settings.CACHES = {
        **settings.CACHES,
        "dashboard": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": redis_url,
            "KEY_PREFIX": f"doorstep-test-{timezone.now().timestamp()}",
        },
    }
    today = local_today()
    start, end = today - dt.timedelta(days=40), today - dt.timedelta(days=10)
    _history(cast, start, end)
    period = Filters(branch=None, team=None, date_from=start, date_to=end)
    cold, cold_queries = _roll(cast.manager, period)
    warm, warm_queries = _roll(cast.manager, period)
    assert (warm, warm_queries) == (cold, cold_queries - 1)
    caches["dashboard"].delete(roll.matrix_key(start, end, None))
