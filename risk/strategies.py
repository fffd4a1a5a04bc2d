"""Champion/challenger: strategies for new cases, seeded random assignment, and the comparison of outcomes.

A case's strategy is drawn from a uniform number made of the seed and the case id (SHA-256), so the
assignment is random with respect to the case yet reproducible and recorded. A holdout strategy keeps
the usual handling; the others set the case's first due step.
"""

import datetime as dt
import hashlib
import math
from dataclasses import dataclass, field
from decimal import Decimal

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Count, Q, Sum
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from collections_app.exceptions import NotPermitted
from collections_app.models import Case, CaseEvent, CloseReason, User
from collections_app.services.audit import audit_log
from collections_app.services.cases import case_event_add
from risk.models import Strategy, StrategyAssignment

Z95 = 1.959963984540054
MIN_CASES_PER_ARM = 30


def may_define_strategies(user) -> bool:
    return user.is_authenticated and (user.is_supervisor or user.sees_everything)


def draw(seed: str, case_id: int) -> float:
    digest = hashlib.sha256(f"{seed}:{case_id}".encode()).hexdigest()
    return int(digest[:13], 16) / 16**13


def pick(strategies: list[Strategy], u: float) -> Strategy:
    total = sum(s.weight for s in strategies)
    edge = 0.0
    for strategy in strategies:
        edge += strategy.weight / total
        if u < edge:
            return strategy
    return strategies[-1]


@transaction.atomic
def strategy_create(*, actor: User, **fields) -> Strategy:
    if not may_define_strategies(actor):
        raise NotPermitted(_("Only supervisors and managers can define strategies."))
    strategy = Strategy.objects.create(created_by=actor, **fields)
    audit_log(actor=actor, action="strategy.create", obj=strategy, changes={k: str(v) for k, v in fields.items()})
    return strategy


@transaction.atomic
def strategy_set_active(*, strategy: Strategy, actor: User, active: bool) -> Strategy:
    if not may_define_strategies(actor):
        raise NotPermitted(_("Only supervisors and managers can define strategies."))
    Strategy.objects.filter(pk=strategy.pk).update(is_active=active)
    strategy.is_active = active
    audit_log(actor=actor, action="strategy.active", obj=strategy, changes={"is_active": active})
    return strategy


@transaction.atomic
def strategy_assign(*, case_id: int, seed: str | None = None) -> StrategyAssignment | None:
    """Give a new case its strategy (once); None when no strategy is active."""
    strategies = list(Strategy.objects.filter(is_active=True).order_by("id"))
    if not strategies:
        return None
    seed = seed or settings.RISK_STRATEGY_SEED
    u = draw(seed, case_id)
    strategy = pick(strategies, u)
    try:
        with transaction.atomic():
            assignment = StrategyAssignment.objects.create(case_id=case_id, strategy=strategy, draw=u, seed=seed)
    except IntegrityError:
        return StrategyAssignment.objects.get(case_id=case_id)
    case = Case.objects.get(pk=case_id)
    payload = {"strategy": strategy.name, "holdout": strategy.is_holdout}
    if not strategy.is_holdout:
        with translation.override(settings.LANGUAGE_CODE):
            step = _("%(step)s (strategy %(name)s)") % {
                "step": strategy.get_first_step_display(),
                "name": strategy.name,
            }
        due = timezone.now() + dt.timedelta(days=strategy.first_due_days)
        Case.objects.filter(pk=case_id).update(next_action=step[:200], next_action_due=due)
        payload["next_action_due"] = due.isoformat()
    case_event_add(case=case, actor=None, kind=CaseEvent.Kind.NOTE, payload=payload)
    audit_log(actor=None, action="strategy.assign", obj=case, changes={"strategy": strategy.pk, "draw": u})
    return assignment


# -- statistics ---------------------------------------------------------------


def wilson(successes: int, n: int, z: float = Z95) -> tuple[float, float] | None:
    if n == 0:
        return None
    p = successes / n
    denominator = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denominator
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denominator
    return max(0.0, centre - half), min(1.0, centre + half)


def two_proportion_p(s1: int, n1: int, s2: int, n2: int) -> float | None:
    """Two-sided p-value of the pooled two-proportion z-test."""
    if not n1 or not n2:
        return None
    pooled = (s1 + s2) / (n1 + n2)
    se = math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
    if se == 0:
        return 1.0
    z = (s1 / n1 - s2 / n2) / se
    return math.erfc(abs(z) / math.sqrt(2))


def ratio_interval(paid: list[float], base: list[float], z: float = Z95) -> tuple[float, tuple[float, float] | None]:
    """Σpaid / Σbase with a delta-method 95 % interval (cases as clusters)."""
    n, total = len(base), sum(base)
    if not n or total <= 0:
        return 0.0, None
    ratio = sum(paid) / total
    if n < 2:
        return ratio, None
    mean_base = total / n
    residual = sum((y - ratio * x) ** 2 for y, x in zip(paid, base, strict=True))
    se = math.sqrt(residual / (n * (n - 1))) / mean_base
    return ratio, (max(0.0, ratio - z * se), ratio + z * se)


@dataclass
class Arm:
    strategy: Strategy
    cases: int = 0
    cure: dict = field(default_factory=dict)  # days → {"n", "cured", "rate", "ci"}
    recovered: float = 0.0
    recovered_ci: tuple | None = None
    promises: int = 0
    broken: int = 0
    broken_rate: float | None = None
    broken_ci: tuple | None = None


def strategy_results(*, now=None) -> dict:
    """Per strategy: cure within 30/60 days, recovered share, broken-promise rate, with 95 % intervals."""
    from repayment.models import Payment, PromiseToPay

    now = now or timezone.now()
    strategies = list(Strategy.objects.order_by("id"))
    arms = {s.pk: Arm(strategy=s) for s in strategies}
    rows = StrategyAssignment.objects.values_list(
        "strategy_id",
        "case_id",
        "case__opened_at",
        "case__closed_at",
        "case__close_reason",
        "case__overdue_amount_at_open",
    )
    paid = dict(
        Payment.objects.filter(case__strategy_assignment__isnull=False)
        .values("case_id")
        .annotate(total=Sum("amount"))
        .values_list("case_id", "total")
    )
    per_arm = {pk: {"paid": [], "base": [], 30: [0, 0], 60: [0, 0]} for pk in arms}
    for strategy_id, case_id, opened, closed, reason, base in rows:
        arm, acc = arms[strategy_id], per_arm[strategy_id]
        arm.cases += 1
        acc["paid"].append(float(paid.get(case_id) or Decimal(0)))
        acc["base"].append(float(base))
        for days in (30, 60):
            if opened <= now - dt.timedelta(days=days):
                acc[days][0] += 1
                if reason == CloseReason.CURED and closed and closed - opened <= dt.timedelta(days=days):
                    acc[days][1] += 1
    promises = (
        PromiseToPay.objects.filter(case__strategy_assignment__isnull=False)
        .exclude(status__in=[PromiseToPay.Status.PENDING, PromiseToPay.Status.CANCELLED])
        .values("case__strategy_assignment__strategy_id")
        .annotate(n=Count("id"), broken=Count("id", filter=Q(status=PromiseToPay.Status.BROKEN)))
    )
    for row in promises:
        arm = arms[row["case__strategy_assignment__strategy_id"]]
        arm.promises, arm.broken = row["n"], row["broken"]
        arm.broken_rate = arm.broken / arm.promises if arm.promises else None
        arm.broken_ci = wilson(arm.broken, arm.promises)
    for pk, arm in arms.items():
        acc = per_arm[pk]
        for days in (30, 60):
            n, cured = acc[days]
            arm.cure[days] = {"n": n, "cured": cured, "rate": cured / n if n else None, "ci": wilson(cured, n)}
        arm.recovered, arm.recovered_ci = ratio_interval(acc["paid"], acc["base"])
    return {"arms": list(arms.values()), "verdict": verdict(list(arms.values()))}


def verdict(arms: list[Arm]) -> dict:
    """Compare every strategy with the reference (the holdout, else the first) on cure within 30 days."""
    if len(arms) < 2:
        return {"enough": False, "text": _("Define at least two strategies to compare them.")}
    reference = next((a for a in arms if a.strategy.is_holdout), arms[0])
    small = [a for a in arms if a.cure[30]["n"] < MIN_CASES_PER_ARM]
    if small:
        return {
            "enough": False,
            "text": _(
                "Not enough data yet to call a winner: every strategy needs at least %(min)s cases opened 30 or "
                "more days ago (the smallest has %(n)s)."
            )
            % {"min": MIN_CASES_PER_ARM, "n": min(a.cure[30]["n"] for a in small)},
        }
    lines, comparisons = [], []
    for arm in arms:
        if arm is reference:
            continue
        c, r = arm.cure[30], reference.cure[30]
        p = two_proportion_p(c["cured"], c["n"], r["cured"], r["n"])
        comparisons.append({"strategy": arm.strategy.name, "p": p})
        params = {"a": arm.strategy.name, "b": reference.strategy.name, "p": f"{p:.3f}"}
        if p is not None and p < 0.05:
            better = c["rate"] > r["rate"]
            lines.append(
                (
                    _("%(a)s cures more cases within 30 days than %(b)s (p = %(p)s).")
                    if better
                    else _("%(a)s cures fewer cases within 30 days than %(b)s (p = %(p)s).")
                )
                % params
            )
        else:
            lines.append(
                _("No significant difference in 30-day cure between %(a)s and %(b)s yet (p = %(p)s).") % params
            )
    return {"enough": True, "text": " ".join(lines), "comparisons": comparisons}
