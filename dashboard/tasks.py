"""Dashboard tasks: the nightly bucket snapshot and the tallies (scheduled in ``CELERY_BEAT_SCHEDULE``)."""

import datetime as dt
import logging

from celery import shared_task

from collections_app.aging import local_today
from dashboard.services import bucket_snapshot_take
from dashboard.tallies import day_tally_roll, state_tally_refresh

logger = logging.getLogger(__name__)


@shared_task(name="dashboard.tasks.snapshot_buckets", acks_late=True)
def snapshot_buckets(as_of: str | None = None) -> int:
    """Snapshot every account's bucket for ``as_of`` (ISO date; default today). Idempotent per day."""
    day = dt.date.fromisoformat(as_of) if as_of else local_today()
    added = bucket_snapshot_take(as_of=day)
    logger.info("bucket snapshot %s: %s rows added", day.isoformat(), added)
    return added


@shared_task(name="dashboard.tasks.refresh_state_tally", acks_late=True)
def refresh_state_tally() -> int:
    """Retake the portfolio, open cases and active plans the dashboard reads (every few minutes)."""
    return state_tally_refresh()


@shared_task(name="dashboard.tasks.roll_day_tally", acks_late=True)
def roll_day_tally() -> dict:
    """Sum the visits, contacts, payments, stage stays, closures and plan ends recorded since the last
    roll (hourly)."""
    added = day_tally_roll()
    logger.info("day tally rolled: %s", added)
    return added
