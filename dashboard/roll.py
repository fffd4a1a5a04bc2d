"""Roll and cure rates between two snapshot days (README, "Dashboard").

Snapshots of past days never change, so the from/to bucket matrix of (start day, end day, branches)
is history: it is computed once with one set-based join of the two days' snapshots and kept in the
``dashboard`` cache (Redis, or files under var/), keyed by the two days and the branches the user
may see. A matrix ending on a past day lives 30 days; one ending today expires at midnight. A
back-dated snapshot run (``snapshot_buckets --date``) can add rows to a past day, so it bumps a
generation stored next to the matrices and every older matrix is recomputed on its next read.
"""

import datetime as dt
import logging
import uuid

from django.core.cache import caches
from django.db import connection
from django.utils import timezone

from collections_app.aging import AgingBucket
from collections_app.models import AccountBucketSnapshot
from dashboard.scope import Scope, day_start

logger = logging.getLogger(__name__)

CACHE_ALIAS = "dashboard"
GENERATION_KEY = "dashboard:roll:generation"
PAST_TTL = 30 * 86400
# A missed night is tolerated: the period start uses the latest snapshot at most this many days earlier.
SNAPSHOT_START_TOLERANCE_DAYS = 3

Matrix = list[tuple[str, str, int]]


def _as_date(value) -> dt.date | None:
    # A scalar subquery's date comes back as text on SQLite.
    return dt.date.fromisoformat(value) if isinstance(value, str) else value


def snapshot_days(scope: Scope) -> tuple[dt.date | None, dt.date | None]:
    """The snapshot days standing for the period's start and end, or None where history is missing.

    Two ``ORDER BY as_of DESC LIMIT 1`` scalar subqueries in one statement: each reads one entry of
    ``snapshot_day_bucket_idx`` (as_of, …), where ``MAX(…) FILTER`` would scan every snapshot row.
    """
    date_from, date_to = scope.filters.date_from, scope.filters.date_to
    days = AccountBucketSnapshot.objects.order_by("-as_of").values("as_of")
    start = days.filter(as_of__lte=date_from, as_of__gte=date_from - dt.timedelta(days=SNAPSHOT_START_TOLERANCE_DAYS))
    end = days.filter(as_of__gt=date_from, as_of__lte=date_to)
    (start_sql, start_params), (end_sql, end_params) = (qs[:1].query.sql_with_params() for qs in (start, end))
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT ({start_sql}), ({end_sql})", [*start_params, *end_params])  # nosec B608
        found = cursor.fetchone()
    return _as_date(found[0]), _as_date(found[1])


def compute_matrix(start_day: dt.date, end_day: dt.date, branch_ids: frozenset[int] | None) -> Matrix:
    """(bucket at start, bucket at end, accounts) for the accounts delinquent at the start: one join
    of the start day's rows to the end day's on the unique (account_id, as_of) index, grouped."""
    start = AccountBucketSnapshot.objects.filter(as_of=start_day).exclude(bucket=AgingBucket.CURRENT)
    if branch_ids is not None:
        start = start.filter(branch_id__in=sorted(branch_ids))
    start_sql, start_params = start.order_by().values("account_id", "bucket").query.sql_with_params()
    table = connection.ops.quote_name(AccountBucketSnapshot._meta.db_table)
    sql = (
        "SELECT s.bucket, COALESCE(e.bucket, %s), COUNT(*) "  # noqa: S608  # nosec B608 -- table from model metadata
        f"FROM ({start_sql}) AS s LEFT JOIN {table} AS e ON e.account_id = s.account_id AND e.as_of = %s "
        "GROUP BY 1, 2"
    )
    params = [str(AgingBucket.CURRENT), *start_params, connection.ops.adapt_datefield_value(end_day)]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [(str(a), str(b), int(n)) for a, b, n in cursor.fetchall()]


def _ttl(end_day: dt.date, today: dt.date) -> int:
    """Past days are history; a matrix ending today is kept until the day is over, never across days."""
    if end_day < today:
        return PAST_TTL
    midnight = day_start(today + dt.timedelta(days=1))
    return max(60, int((midnight - timezone.now()).total_seconds()))


def matrix_key(start_day: dt.date, end_day: dt.date, branch_ids: frozenset[int] | None) -> str:
    branches = "all" if branch_ids is None else ",".join(str(pk) for pk in sorted(branch_ids))
    return f"dashboard:roll:v1:{start_day.isoformat()}:{end_day.isoformat()}:{branches}"


def roll_matrix(scope: Scope, start_day: dt.date, end_day: dt.date) -> Matrix:
    """The matrix for the user's branches, from the cache when it holds the current generation."""
    branch_ids = scope.branch_ids()
    if branch_ids is not None and not branch_ids:
        return []
    cache = caches[CACHE_ALIAS]
    key = matrix_key(start_day, end_day, branch_ids)
    try:
        found = cache.get_many([GENERATION_KEY, key])
    except Exception:  # a cache outage must not take the dashboard down
        logger.warning("dashboard cache unavailable; computing the roll matrix", exc_info=True)
        return compute_matrix(start_day, end_day, branch_ids)
    generation = found.get(GENERATION_KEY, "")
    cached = found.get(key)
    if cached is not None and cached[0] == generation:
        return cached[1]
    matrix = compute_matrix(start_day, end_day, branch_ids)
    try:
        cache.set(key, (generation, matrix), _ttl(end_day, scope.today))
    except Exception:
        logger.warning("dashboard cache unavailable; roll matrix not stored", exc_info=True)
    return matrix


def forget_matrices() -> None:
    """Make every cached matrix stale (a back-dated snapshot run may have added rows to a past day)."""
    try:
        caches[CACHE_ALIAS].set(GENERATION_KEY, uuid.uuid4().hex, None)
    except Exception:
        logger.warning("dashboard cache unavailable; cached roll matrices not reset", exc_info=True)
