"""Dashboard blocks over the field work: recovery, promises, plans and the collector scorecard.

Each block folds the period's facts or the state rows (``dashboard.tallies``) or is one
grouped query over the scoped cases; see README, "Dashboard"."""

import logging
from decimal import Decimal

from django.core.cache import caches
from django.db import connection
from django.db.models import Count, DecimalField, Q, Sum

from collections_app.models import Role, User
from dashboard.models import DayTally
from dashboard.roll import CACHE_ALIAS
from dashboard.scope import Scope, cents, rate
from quality.selectors import collector_score_annotations, rounded_score, score_trend
from repayment.models import Payment, PromiseToPay

logger = logging.getLogger(__name__)

ZERO = Decimal("0.00")
# The previous period is past, so its recovery base only moves when a payment is back-dated into it: the
# figure is kept this long in the dashboard cache (its query is most of the page's time at 1M accounts).
PREVIOUS_BASE_TTL = 600
# Who may see which cases moves with a user's role or team and with a team's supervisor: each such change
# starts a new generation of kept figures (``scope_changed``, connected in ``DashboardConfig.ready``), so a
# supervisor who hands a team over never reads a figure that still counts its cases.
SCOPE_GENERATION_KEY = "dashboard:scope-generation"
SCOPE_FIELDS = frozenset({"role", "team", "is_superuser", "supervisor", "branch"})
MONEY = DecimalField(max_digits=18, decimal_places=2)
RESOLVED_PROMISES = (
    PromiseToPay.Status.KEPT,
    PromiseToPay.Status.PARTIALLY_KEPT,
    PromiseToPay.Status.BROKEN,
)


def _in_period_dates(scope: Scope, field: str) -> Q:
    return Q(**{f"{field}__gte": scope.filters.date_from, f"{field}__lte": scope.filters.date_to})


def _in_period_times(scope: Scope, field: str) -> Q:
    return Q(**{f"{field}__gte": scope.starts, f"{field}__lt": scope.ends})


def recovery_base(scope: Scope) -> tuple[Decimal, Decimal]:
    """The overdue amount at opening of the scoped cases paid into during the period, and the same for the
    previous period, in one query. A period ending today (every preset) reads ``Case.last_paid_on``
    (payments are never dated in the future), a range of ``case_last_paid_idx``; an older custom period, and
    the previous period, take the cases with a payment in it among those paid into since the period began
    (``last_paid_on`` never moves back, so it bounds them). The previous period's figure is then kept for
    ``PREVIOUS_BASE_TTL`` seconds, per user and filters, until a user's or team's scope changes
    (``scope_changed``): the next pages read only the current one."""
    previous = scope.previous().filters
    if scope.filters.date_to >= scope.today:
        current = Q(last_paid_on__gte=scope.filters.date_from)
    else:
        current = Q(pk__in=Payment.objects.filter(_in_period_dates(scope, "paid_on")).values("case_id"))
    key = _cache_call(_previous_base_key, scope, previous)
    kept = None if key is None else _cache_call(caches[CACHE_ALIAS].get, key)
    if kept is not None:
        total = (
            scope.cases()
            .filter(last_paid_on__gte=scope.filters.date_from)
            .aggregate(total=Sum("overdue_amount_at_open", filter=current))["total"]
        )
        return cents(total), kept
    paid_before = Payment.objects.filter(paid_on__gte=previous.date_from, paid_on__lte=previous.date_to)
    # ``IN`` an uncorrelated subquery: PostgreSQL reads the period's payments once into a hash (an EXISTS per
    # case probed the payments once per case paid into since: 0.64 s instead of 0.13 s at 1M accounts).
    totals = (
        scope.cases()
        .filter(last_paid_on__gte=previous.date_from)
        .aggregate(
            total=Sum("overdue_amount_at_open", filter=current),
            previous=Sum("overdue_amount_at_open", filter=Q(pk__in=paid_before.values("case_id"))),
        )
    )
    if key is not None:
        _cache_call(caches[CACHE_ALIAS].set, key, cents(totals["previous"]), PREVIOUS_BASE_TTL)
    return cents(totals["total"]), cents(totals["previous"])


def scope_changed(*, update_fields=None, **_kwargs) -> None:
    """A user or team was saved or deleted: kept figures of the generation before no longer apply. A save
    naming only other fields (a login's ``last_login``) changes no one's scope."""
    if update_fields is not None and not SCOPE_FIELDS.intersection(update_fields):
        return
    cache = caches[CACHE_ALIAS]
    try:
        cache.add(SCOPE_GENERATION_KEY, 0, None)
        cache.incr(SCOPE_GENERATION_KEY)
    except Exception:  # the kept figures then simply expire after PREVIOUS_BASE_TTL
        logger.warning("dashboard cache unavailable; kept recovery bases not renewed", exc_info=True)


def _previous_base_key(scope: Scope, previous) -> str:
    parts = (
        caches[CACHE_ALIAS].get(SCOPE_GENERATION_KEY, 0),
        connection.settings_dict["NAME"],
        scope.user.pk,
        getattr(scope.filters.branch, "pk", ""),
        getattr(scope.filters.team, "pk", ""),
        previous.date_from.isoformat(),
        previous.date_to.isoformat(),
    )
    return "dashboard:recovery-previous:v1:" + ":".join(str(part) for part in parts)


def _cache_call(method, *args):
    """``method(*args)`` on the dashboard cache; None when the cache is down (the figure is then computed)."""
    try:
        return method(*args)
    except Exception:  # a cache outage must not take the dashboard down
        logger.warning("dashboard cache unavailable; computing the previous recovery base", exc_info=True)
        return None


def payment_blocks(scope: Scope, facts: dict) -> tuple[dict, dict[int, Decimal], Decimal]:
    """Payments dated in the period on the scoped cases, by week (Monday) and per assigned collector
    (from the period's facts), and the recovery rate: recovered ÷ ``recovery_base``."""
    payments = facts[DayTally.Metric.PAYMENT]
    weeks = [
        {"week": week, "recovered_amount": cents(amount), "payments": n}
        for week, (n, amount) in sorted(payments["week"].items())
    ]
    per_collector = {collector: cents(amount) for collector, (_n, amount) in payments["collector"].items()}
    recovered = sum((week["recovered_amount"] for week in weeks), ZERO)
    base_total, previous_base = recovery_base(scope)
    block = {
        "recovered_amount": recovered,
        "overdue_at_open": base_total,
        "recovery_rate": rate(recovered, base_total),
        "weeks": weeks,
    }
    return block, per_collector, previous_base


def promise_blocks(scope: Scope) -> tuple[dict, dict[int, dict], dict]:
    """Promises whose due date falls in the period. ``due`` counts those with an outcome (kept, partially
    kept, broken); ``pending`` ones are still inside their grace days; cancelled ones are left out.
    With it, per creator: promises recorded in the period, and their due and kept ones; and the previous
    period's due and kept ones. One query grouped by creator."""
    created = _in_period_times(scope, "created_at")
    due = _in_period_dates(scope, "due_date")
    due_before = _in_period_dates(scope.previous(), "due_date")
    rows = (
        PromiseToPay.objects.filter(created | due | due_before, scope.in_cases())
        .values("created_by_id")
        .annotate(
            made=Count("id", filter=created),
            due=Count("id", filter=due & Q(status__in=RESOLVED_PROMISES)),
            kept=Count("id", filter=due & Q(status=PromiseToPay.Status.KEPT)),
            partially_kept=Count("id", filter=due & Q(status=PromiseToPay.Status.PARTIALLY_KEPT)),
            broken=Count("id", filter=due & Q(status=PromiseToPay.Status.BROKEN)),
            pending=Count("id", filter=due & Q(status=PromiseToPay.Status.PENDING)),
            previous_due=Count("id", filter=due_before & Q(status__in=RESOLVED_PROMISES)),
            previous_kept=Count("id", filter=due_before & Q(status=PromiseToPay.Status.KEPT)),
        )
        .order_by()
    )
    counts = dict.fromkeys(("due", "kept", "partially_kept", "broken", "pending", "previous_due", "previous_kept"), 0)
    per_creator: dict[int, dict] = {}
    for row in rows:
        for key in counts:
            counts[key] += row[key]
        if row["created_by_id"] is not None:
            per_creator[row["created_by_id"]] = row
    previous = {"due": counts.pop("previous_due"), "kept": counts.pop("previous_kept")}
    counts["kept_rate"] = rate(counts["kept"], counts["due"])
    return counts, per_creator, previous


def scope_collectors(scope: Scope):
    """The collectors of the scope's teams (``Scope.teams``): a supervisor's team members; everyone for a
    manager."""
    qs = User.objects.filter(role=Role.COLLECTOR, is_active=True)
    teams = scope.teams()
    if teams is not None:
        qs = qs.filter(team__in=teams)
    return qs.order_by("username")


def collector_block(
    scope: Scope,
    *,
    facts: dict,
    open_cases: dict[int, int],
    promises: dict[int, dict],
    recovered: dict[int, Decimal],
) -> list[dict]:
    """A balanced scorecard per collector, never recovered amount alone: open cases assigned now; visits
    checked in and contact attempts made in the period; promises recorded in the period; kept rate of
    their promises due in the period; payments dated in the period on the cases assigned to them.

    Every number comes folded from the other blocks and the period's facts: one query lists the
    collectors, with their visit quality (the average review score in the period, and per month over the
    last months up to the period's end) as subqueries of that same query."""
    visits = facts[DayTally.Metric.VISIT]["collector"]
    contacts = facts[DayTally.Metric.CONTACT]["collector"]
    last_day = scope.filters.date_to
    scores = collector_score_annotations(period=(scope.starts, scope.ends), last_day=last_day)
    rows = []
    for collector in (
        scope_collectors(scope)
        .annotate(**scores)
        .values("pk", "username", "first_name", "last_name", "team_id", *scores)
    ):
        pk = collector["pk"]
        made = promises.get(pk, {})
        rows.append(
            {
                "pk": pk,
                "team_id": collector["team_id"],
                "username": collector["username"],
                "name": " ".join(filter(None, (collector["first_name"], collector["last_name"]))),
                "cases": open_cases.get(pk, 0),
                "visits": visits.get(pk, (0, ZERO))[0],
                "contacts": contacts.get(pk, (0, ZERO))[0],
                "promises": made.get("made", 0),
                "promises_due": made.get("due", 0),
                "kept_rate": rate(made.get("kept", 0), made.get("due", 0)),
                "recovered_amount": cents(recovered.get(pk)),
                "collector_id": pk,
                "quality": rounded_score(collector["quality"]),
                "quality_trend": score_trend(collector, last_day),
            }
        )
    return rows
