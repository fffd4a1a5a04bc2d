"""The follow-up engine: evaluate due ``FollowUpCheck`` rows, exactly once each.

One path: a batch of due checks is claimed, its facts read under row locks, decided by pure functions
(``followups_decisions``) and written by one set-based writer (``followups_bulk``), all in one transaction.
Evaluating a single check (``followup_evaluate``) is a batch of one through the same path. A worker killed
mid-batch rolls the whole batch back, so its checks stay pending and the next sweep evaluates them: no effect is
ever applied twice. A batch that fails as a whole is evaluated again as batches of one, so one bad row never
blocks the rest; a check that fails alone is retried with backoff and marked failed after ``MAX_ATTEMPTS``.
"""

import datetime as dt
import logging
import time
from collections import Counter

from django.db import transaction
from django.utils import timezone

from repayment import conf
from repayment.models import FollowUpCheck
from repayment.services.followups_bulk import LostRace, claim, read_facts, write
from repayment.services.followups_decisions import decide_batch

logger = logging.getLogger(__name__)
MAX_ATTEMPTS = 5
CheckStatus = FollowUpCheck.Status


def _settle(checks: list, now: dt.datetime) -> dict[int, str]:
    """Read, decide and write claimed checks in the caller's transaction; return the results by check id."""
    if not checks:
        return {}
    facts = read_facts(checks)
    # A check whose case a user's write holds right now waits for the next sweep (see ``read_facts``).
    checks = [check for check in checks if check.case_id in facts.cases]
    if not checks:
        return {}
    return write(decide_batch(checks, facts, now), facts, now)


def followup_evaluate(*, check_id: int, now: dt.datetime | None = None) -> str | None:
    """Evaluate one due check, as a batch of one; ``None`` when it is not due, already done, or held by another
    worker, ``"error"`` when it failed (it is retried with backoff)."""
    now = now or timezone.now()
    try:
        with transaction.atomic():
            results = _settle(claim(now, 1, check_id), now)
    except LostRace:
        return None
    except Exception as exc:  # one bad row must not stop the sweep; it is retried with backoff
        logger.exception("follow-up check %s failed", check_id)
        _record_failure(check_id, now, exc)
        return "error"
    return results.get(check_id)


def _record_failure(check_id: int, now: dt.datetime, exc: Exception) -> None:
    check = FollowUpCheck.objects.filter(pk=check_id).first()
    if check is None:
        return
    attempts = check.attempts + 1
    changes = {"attempts": attempts, "claimed_at": now, "last_error": f"{exc.__class__.__name__}: {exc}"[:500]}
    if attempts >= MAX_ATTEMPTS:
        changes["status"] = CheckStatus.FAILED
    else:
        changes["due_at"] = now + dt.timedelta(minutes=2**attempts)
    FollowUpCheck.objects.filter(pk=check_id, status=CheckStatus.PENDING).update(**changes)


def followups_sweep_batch(*, now: dt.datetime, size: int) -> dict[str, int]:
    """Claim up to ``size`` due checks and settle them in one transaction; ``{}`` when none is due."""
    claimed: list[int] = []
    try:
        with transaction.atomic():
            checks = claim(now, size)
            claimed = [check.pk for check in checks]
            return dict(Counter(_settle(checks, now).values()))
    except Exception:
        if not claimed:
            raise
        # The batch rolled back as a whole (another worker won a race, or one row's data broke a statement):
        # evaluate its checks as batches of one, each with its own retry and backoff.
        logger.warning("follow-up batch of %s checks failed; evaluating them one by one", len(claimed), exc_info=True)
        outcomes: Counter = Counter()
        for check_id in claimed:
            outcomes[followup_evaluate(check_id=check_id, now=now) or "skipped"] += 1
        return dict(outcomes)


def followups_sweep(*, now: dt.datetime | None = None, limit: int | None = None) -> dict[str, int]:
    """Evaluate one batch of due pending checks (oldest first; ``limit`` or ``REPAYMENT_SWEEP_BATCH``) in one
    transaction; ``{}`` when none is due. Safe to run concurrently and repeatedly."""
    return followups_sweep_batch(now=now or timezone.now(), size=limit or conf.sweep_batch())


def followups_sweep_all(
    *, now: dt.datetime | None = None, limit: int | None = None, max_seconds: float | None = None
) -> dict[str, int]:
    """Sweep batch after batch until nothing is due, ``limit`` checks are done or ``max_seconds`` have passed
    (the beat's next run picks up the rest)."""
    now = now or timezone.now()
    size, started = conf.sweep_batch(), time.monotonic()
    outcomes: Counter = Counter()
    while limit is None or outcomes.total() < limit:
        batch = followups_sweep_batch(now=now, size=size if limit is None else min(size, limit - outcomes.total()))
        outcomes.update(batch)
        if not batch or set(batch) == {"skipped"}:  # nothing due, or only rows another worker holds
            break
        if max_seconds is not None and time.monotonic() - started >= max_seconds:
            break
    return dict(outcomes)
