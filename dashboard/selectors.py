"""Dashboard reads. Every block folds a handful of grouped rows computed in the database, scoped through
``DelinquentAccount.objects.visible_to`` / ``Case.objects.visible_to`` (or, for the tallies, the same
scope's teams and branches): the current state from the state tally, the period's facts from the day
tally plus what was recorded since (``dashboard.tallies``). See README, "Dashboard"."""

import datetime as dt
from decimal import Decimal

from django.db.models import CharField, Count, DecimalField, IntegerField, Q, Value
from django.db.models.fields.json import KT

from collections_app.aging import BUCKET_RANGES, CLASS_RANGES, AgingBucket, local_today
from collections_app.models import CaseEvent, Stage, User
from collections_app.rules import ATTEMPT_CAP, QUIET_HOURS, THIRD_PARTY
from dashboard import compare, live, recovery, roll, satisfaction, tallies
from dashboard.forms import Filters
from dashboard.models import DayTally, StateTally, TallyMark
from dashboard.scope import Scope, cents, rate
from repayment.models import RepaymentPlan

ZERO = Decimal("0.00")
BUCKETS: tuple[str, ...] = tuple(str(bucket) for _low, _high, bucket in BUCKET_RANGES)
CLASSES: tuple[str, ...] = tuple(str(loan_class) for _low, _high, loan_class in CLASS_RANGES)
COMPLIANCE_RULES: tuple[str, ...] = (QUIET_HOURS, ATTEMPT_CAP, THIRD_PARTY)
MARK_ROW = "mark"  # the day tally's watermark, riding along with the state tally rows


def _tally_rows(scope: Scope) -> tuple[list[tuple], dt.datetime | None]:
    """The scope's state tally rows (portfolio cut by branch, the rest by team) and the day tally's
    watermark, in one statement (the watermark as one more row); nothing when the scope does not read
    tallies."""
    if not scope.reads_tallies:
        return [], None
    branches, teams = scope.branches(), scope.teams()
    portfolio = Q(kind=StateTally.Kind.PORTFOLIO)
    if branches is not None:
        portfolio &= Q(branch_id__in=branches.values("pk"))
    by_team = Q(kind__in=[StateTally.Kind.OPEN_CASES, StateTally.Kind.ACTIVE_PLANS])
    if teams is not None:
        by_team &= Q(team_id__in=teams.values("pk"))
    fields = ("taken_at", "kind", "branch_id", "team_id", "collector_id", "key", "key2", "n", "amount", "amount2")
    state = StateTally.objects.filter(portfolio | by_team).values_list(*fields).order_by()
    zero, blank = Value(0, output_field=IntegerField()), Value("", output_field=CharField())
    money = Value(ZERO, output_field=DecimalField(max_digits=20, decimal_places=2))
    mark = (
        TallyMark.objects.filter(name=tallies.DAY_MARK)
        .annotate(m_kind=Value(MARK_ROW), m_0=zero, m_1=zero, m_2=zero, m_3=blank, m_4=blank, m_5=zero)
        .annotate(m_6=money, m_7=money)
        .values_list("upto", "m_kind", "m_0", "m_1", "m_2", "m_3", "m_4", "m_5", "m_6", "m_7")
    )
    rows = list(state.union(mark, all=True))
    upto = next((row[0] for row in rows if row[1] == MARK_ROW), None)
    return [row for row in rows if row[1] != MARK_ROW], upto


def state_rows(scope: Scope) -> dict:
    """The current state the blocks fold (portfolio rows, open-case rows, active plans). From the state
    tally while it is fresh (one query); otherwise live (three: the tally read, the portfolio, and the
    open cases and active plans in one ``UNION ALL``). ``taken_at`` says which (None: live)."""
    rows, upto = _tally_rows(scope)
    taken_at = rows[0][0] if rows else None
    if tallies.state_is_fresh(taken_at, scope.today):
        state = {"taken_at": taken_at, "upto": upto, "portfolio": [], "open_cases": [], "active_plans": 0}
        for _taken, kind, branch, team, collector, key, key2, n, amount, amount2 in rows:
            if kind == StateTally.Kind.PORTFOLIO:
                state["portfolio"].append((branch, key, key2, n, amount, amount2))
            elif kind == StateTally.Kind.OPEN_CASES:
                state["open_cases"].append((team, key, collector or None, n))
            else:
                state["active_plans"] += n
        return state
    rows = list(live.open_case_rows(scope).union(live.active_plan_rows(scope), all=True))
    return {
        "taken_at": None,
        "upto": upto,
        "portfolio": list(live.portfolio_rows(scope, scope.today)),
        "open_cases": [row for row in rows if row[1] != live.ACTIVE_PLANS],
        "active_plans": sum(row[3] for row in rows if row[1] == live.ACTIVE_PLANS),
    }


def portfolio_blocks(state: dict) -> tuple[dict, list[dict], list[dict]]:
    """Portfolio totals, aging buckets and classes of the delinquent accounts (overdue amount > 0)
    as of today, folded from the (branch, bucket, class) rows."""
    portfolio = {"accounts": 0, "outstanding_balance": ZERO, "overdue_amount": ZERO}
    aging = {bucket: {"bucket": bucket, "accounts": 0, "overdue_amount": ZERO} for bucket in BUCKETS}
    classes = {name: {"class": name, "accounts": 0, "overdue_amount": ZERO} for name in CLASSES}
    for _branch, bucket, loan_class, n, overdue, outstanding in state["portfolio"]:
        portfolio["accounts"] += n
        portfolio["overdue_amount"] += overdue or ZERO
        portfolio["outstanding_balance"] += outstanding or ZERO
        for block, key in ((aging, bucket), (classes, loan_class)):
            if key in block:
                block[key]["accounts"] += n
                block[key]["overdue_amount"] += overdue or ZERO
    for entry in (portfolio, *aging.values(), *classes.values()):
        for key in ("overdue_amount", "outstanding_balance"):
            if key in entry:
                entry[key] = cents(entry[key])
    return portfolio, list(aging.values()), list(classes.values())


def case_blocks(state: dict, facts: dict) -> tuple[dict[str, int], dict[int, int]]:
    """Open cases per stage now and per assigned collector, folded from the state rows, and ``closed``:
    the closures during the period, from its facts."""
    stages = dict.fromkeys(Stage.values, 0)
    open_cases: dict[int, int] = {}
    for _team, stage, collector_id, n in state["open_cases"]:
        if stage in stages:
            stages[stage] += n
        if collector_id is not None:
            open_cases[collector_id] = open_cases.get(collector_id, 0) + n
    stages[Stage.CLOSED] = facts[DayTally.Metric.CLOSURE]["total"][0]
    return stages, open_cases


def stage_days_block(facts: dict) -> dict[str, float | None]:
    """Average days in a stage over the stays that ended during the period, i.e. the transitions leaving
    it, each carrying the stay's length (``CaseEvent.stage_seconds``, written by ``case_transition``)."""
    stays = facts[DayTally.Metric.STAY]["key"]
    stage_days: dict[str, float | None] = {}
    for stage in Stage.values:
        if stage == Stage.CLOSED:
            continue
        timed, seconds = stays.get(stage, (0, ZERO))
        stage_days[stage] = round(float(seconds) / timed / 86400, 1) if timed else None
    return stage_days


def compliance_block(scope: Scope) -> list[dict]:
    """Refused actions per actor and rule in the period (``refused`` events on ``event_kind_time_idx``)."""
    refusals = (
        CaseEvent.objects.filter(
            scope.in_cases(), kind=CaseEvent.Kind.REFUSED, created_at__gte=scope.starts, created_at__lt=scope.ends
        )
        .annotate(rule=KT("payload__rule"))
        .values_list("actor__username", "rule")
        .annotate(n=Count("id"))
        .order_by()
    )
    per_actor: dict[str, dict] = {}
    for name, rule, n in refusals:
        username = name or ""
        entry = per_actor.setdefault(
            username, {"username": username, **dict.fromkeys(COMPLIANCE_RULES, 0), "other": 0, "total": 0}
        )
        entry[rule if rule in COMPLIANCE_RULES else "other"] += n
        entry["total"] += n
    return sorted(per_actor.values(), key=lambda entry: (-entry["total"], entry["username"]))


def roll_block(scope: Scope) -> dict:
    """Roll and cure rates between the period's start and end snapshots (README, "Dashboard").

    Roll rate of bucket k: accounts in k at the start that are in a worse bucket (k+1 or beyond) at the
    end ÷ accounts in k at the start. Cure rate: accounts delinquent at the start that are current
    (overdue 0) or gone from the snapshot at the end ÷ accounts delinquent at the start. The matrix
    behind them is history, cached (``dashboard.roll``).
    """
    start_day, end_day = roll.snapshot_days(scope)
    if start_day is None or end_day is None:
        return {"available": False, "start": start_day, "end": end_day, "rows": [], "cure_rate": None}
    order = {bucket: index for index, bucket in enumerate(BUCKETS)}
    per_bucket = {bucket: {"bucket": bucket, "accounts": 0, "cured": 0, "rolled": 0} for bucket in BUCKETS}
    for from_bucket, to_bucket, n in roll.roll_matrix(scope, start_day, end_day):
        entry = per_bucket.get(from_bucket)
        if entry is None:
            continue
        entry["accounts"] += n
        if to_bucket == AgingBucket.CURRENT:
            entry["cured"] += n
        elif order.get(to_bucket, -1) > order[from_bucket]:
            entry["rolled"] += n
    rows = []
    for index, entry in enumerate(per_bucket.values()):
        last = index == len(BUCKETS) - 1
        entry["to_bucket"] = None if last else BUCKETS[index + 1]
        entry["roll_rate"] = None if last else rate(entry["rolled"], entry["accounts"])
        entry["cure_rate"] = rate(entry["cured"], entry["accounts"])
        rows.append(entry)
    delinquent = sum(entry["accounts"] for entry in rows)
    cured = sum(entry["cured"] for entry in rows)
    return {
        "available": True,
        "start": start_day,
        "end": end_day,
        "rows": rows,
        "delinquent_at_start": delinquent,
        "cured": cured,
        "cure_rate": rate(cured, delinquent),
    }


def dashboard(*, user: User, filters: Filters) -> dict:
    """Every block of the dashboard, in a constant number of queries."""
    scope = Scope(user=user, filters=filters, today=local_today())
    state = state_rows(scope)
    facts = tallies.period_facts(
        scope,
        state["upto"],
        extra=[*satisfaction.period_parts(scope), *compare.previous_parts(scope, state["upto"])],
        extra_metrics=(*satisfaction.METRICS, *compare.METRICS),
    )
    portfolio, aging, classification = portfolio_blocks(state)
    stages, open_cases = case_blocks(state, facts)
    plan_ends = facts[DayTally.Metric.PLAN_END]["key"]
    promises, promises_by_creator, previous_promises = recovery.promise_blocks(scope)
    recovered, recovered_by_collector, previous_base = recovery.payment_blocks(scope, facts)
    collectors = recovery.collector_block(
        scope, facts=facts, open_cases=open_cases, promises=promises_by_creator, recovered=recovered_by_collector
    )
    return {
        "as_of": scope.today,
        "state_taken_at": state["taken_at"],
        "filters": filters,
        "portfolio": portfolio,
        "aging": aging,
        "classification": classification,
        "stages": stages,
        "stage_days": stage_days_block(facts),
        "roll": roll_block(scope),
        "compliance": compliance_block(scope),
        "recovery": recovered,
        "promises": promises,
        "plans": {
            "active": state["active_plans"],
            "completed": plan_ends[RepaymentPlan.Status.COMPLETED][0],
            "defaulted": plan_ends[RepaymentPlan.Status.DEFAULTED][0],
        },
        "collectors": collectors,
        "headline": compare.headline_block(
            scope=scope,
            facts=facts,
            promises=(promises, previous_promises),
            recovery=(recovered, previous_base),
        ),
        "satisfaction": satisfaction.satisfaction_block(facts=facts, collectors=collectors),
    }
