"""Cases with their timeline, visit preparations and visits (see ``bench.builders``)."""

import datetime as dt
import itertools
import uuid
from dataclasses import dataclass

from bench.builders import PATH, Ctx
from collections_app import priority
from collections_app.models import Case, CaseEvent, CloseReason, Stage
from collections_app.selectors.cases import CASE_LIST_PAGE_SIZE
from visits.models import Party, Visit, VisitPlan

OUTCOMES = [o.value for o in Visit.Outcome]
REASONS = [r.value for r in Visit.OverdueReason]
ATTITUDES = [a.value for a in Visit.Attitude]
CLOSE_REASONS = [r.value for r in CloseReason]
# The collector the pages are timed as (``bench.run``) holds more than a full first page of open cases at
# every scale (the API's page is 50 too), so 1M/10k compares the same page, not 15 rows against 50.
MEASURED_OPEN_CASES = CASE_LIST_PAGE_SIZE + 10


@dataclass
class CaseInfo:
    """What the repayment builder needs of a case."""

    id: int
    stage: str
    collector_id: int
    amount: object
    opened_at: dt.datetime


def _event(ctx: Ctx, case_id: int, when: dt.datetime, kind: str, actor_id, **extra) -> None:
    events = ctx.w(CaseEvent)
    row = {"id": events.new_id(), "case_id": case_id, "kind": kind, "actor_id": actor_id, "created_at": when}
    row.update(extra)
    events.add(row)


def build_cases(ctx: Ctx, case_stages: dict[int, str], case_accounts: dict[int, tuple]) -> list[CaseInfo]:
    """One case per chosen account, its events along the path to its stage, visits, and preparations."""
    rng, now = ctx.rng, ctx.now
    cases_w, plans_w = ctx.w(Case), ctx.w(VisitPlan)
    visit_counts = _visit_counts(ctx, case_stages)
    infos = []
    measured, measured_open = ctx.org.collectors[0][0], 0
    for idx in sorted(case_stages):
        stage = case_stages[idx]
        account_id, b, amount, dpd, broken, unreached, address_id = case_accounts[idx]
        team, supervisor = ctx.org.teams[b], ctx.org.supervisors[b]
        collector = None
        if stage != Stage.SCREENING or rng.random() < 0.5:
            collector = rng.choice(ctx.org.collectors[b])
            if b == 0 and stage != Stage.CLOSED and measured_open < MEASURED_OPEN_CASES:
                collector, measured_open = measured, measured_open + 1
        age = rng.randint(1, max(1, min(dpd, 180)))
        opened = now - dt.timedelta(days=age, hours=rng.randint(0, 8))
        parts = priority.score_parts(
            dpd=max(dpd - age, 0), overdue_amount=amount, broken_promises=broken, no_contact=unreached
        )
        case_id = cases_w.new_id()
        steps = PATH[: PATH.index(stage) + 1] if stage != Stage.CLOSED else PATH[: rng.randint(1, len(PATH))]
        if stage == Stage.CLOSED:
            steps = [*steps, Stage.CLOSED]
        step_gap = (now - opened) / (len(steps) + 1)
        changed = opened + step_gap * (len(steps) - 1)
        row = {
            "id": case_id,
            "account_id": account_id,
            "team_id": team.pk,
            "stage": stage,
            "assigned_collector_id": collector.pk if collector else None,
            "priority_score": priority.score_total(parts),
            "priority_parts": {k: str(v) for k, v in parts.items()},
            "overdue_amount_at_open": amount,
            "opened_at": opened,
            "opened_by_id": supervisor.pk,
            "stage_changed_at": changed,
        }
        if stage == Stage.CLOSED:
            row.update(closed_at=changed, close_reason=rng.choice(CLOSE_REASONS))
        elif rng.random() < 0.85:
            row.update(
                next_action=str(Stage(stage).label),
                next_action_due=now + dt.timedelta(hours=rng.randint(-72, 24 * 14)),
            )
        cases_w.add(row)
        _event(
            ctx, case_id, opened, CaseEvent.Kind.OPENED, supervisor.pk, payload={"priority": str(row["priority_score"])}
        )
        if collector:
            _event(
                ctx, case_id, opened, CaseEvent.Kind.ASSIGNED, supervisor.pk, payload={"collector": collector.username}
            )
        for n, (source, target) in enumerate(itertools.pairwise(steps)):
            _event(
                ctx, case_id, opened + step_gap * (n + 1), CaseEvent.Kind.TRANSITION,
                collector.pk if collector else None, from_stage=source, to_stage=target, payload={},
                stage_seconds=int(step_gap.total_seconds()),  # each stay lasts one step (as case_transition records)
            )  # fmt: skip
        if stage in (Stage.PREPARATION, Stage.VISIT):
            plans_w.add(
                {
                    "id": plans_w.new_id(),
                    "case_id": case_id,
                    "contact_verified": True,
                    "history_reviewed": stage == Stage.VISIT,
                    "overdue_reason": "收入下降" if stage == Stage.VISIT else "",
                    "talking_points": "确认还款意愿" if stage == Stage.VISIT else "",
                    "planned_at": row.get("next_action_due"),
                    "address_id": address_id,
                    "updated_by_id": collector.pk,
                    "updated_at": changed,
                }
            )
        for _ in range(visit_counts.get(idx, 0)):
            _visit(ctx, case_id, collector.pk, opened, address_id)
        infos.append(CaseInfo(case_id, stage, collector.pk if collector else None, amount, opened))
    ctx.counts.update(cases=len(infos), events=ctx.w(CaseEvent).count, visits=ctx.w(Visit).count)
    return infos


def _visit_counts(ctx: Ctx, case_stages: dict[int, str]) -> dict[int, int]:
    """Spread the visits exactly over the cases that have been visited (or are up for a revisit)."""
    visited = [i for i, s in sorted(case_stages.items()) if s not in (Stage.SCREENING, Stage.PREPARATION)]
    if not visited:
        return {}
    each, extra = divmod(ctx.sizes.visits, len(visited))
    counts = dict.fromkeys(visited, each)
    for idx in ctx.rng.sample(visited, extra):
        counts[idx] += 1
    return counts


def _visit(ctx: Ctx, case_id: int, collector_id: int, opened: dt.datetime, address_id: int) -> None:
    rng, visits = ctx.rng, ctx.w(Visit)
    checked_in = opened + (ctx.now - opened) * rng.random()
    outcome = rng.choice(OUTCOMES)
    met = rng.choice((Party.BORROWER, Party.BORROWER, Party.FAMILY, Party.THIRD_PARTY))
    talked = met != Party.THIRD_PARTY and outcome not in ("not_home", "moved", "wrong_address")
    visits.add(
        {
            "id": visits.new_id(),
            "case_id": case_id,
            "collector_id": collector_id,
            "idempotency_key": uuid.UUID(int=rng.getrandbits(128), version=4),
            "checked_in_at": checked_in,
            "checked_out_at": checked_in + dt.timedelta(minutes=rng.randint(10, 90)),
            "geo_status": Visit.GeoStatus.UNAVAILABLE,
            "lat": None,
            "lng": None,
            "identity_confirmed": True,
            "met": met if talked else "",
            "monthly_income": rng.randint(20, 200) * 100 if talked else None,
            "monthly_expenses": rng.randint(10, 100) * 100 if talked else None,
            "overdue_reason": rng.choice(REASONS) if talked else "",
            "attitude": rng.choice(ATTITUDES) if talked else "",
            "outcome": outcome,
            "notes": "",
            "created_at": checked_in,
        }
    )
    _event(
        ctx, case_id, checked_in, CaseEvent.Kind.VISIT, collector_id,
        payload={"outcome": outcome, "met": met if talked else "", "photos": 0},
    )  # fmt: skip
