# ruff: noqa: RUF001 — the demo data is Chinese text with its own punctuation.
"""Demo field work for seed_demo: preparation, contact attempts and visits fitting each case's stage.

The demo walks cases to their stage first, so this writes the history rows directly (as an import
would) rather than through the services that would move the stage again. Deterministic for a given
``rng``; times are daytime in the branch's time zone so nothing sits in the quiet hours.
"""

import datetime as dt
import random
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.conf import settings
from django.utils import timezone

from collections_app.models import Case, CaseEvent, DelinquentAccount, Stage, User
from collections_app.workflow import NEXT_STEPS
from visits.models import ContactAttempt, Party, Visit, VisitPlan

REASONS = [
    ("income_loss", "工厂裁员，收入中断"),
    ("business", "店铺生意下滑，周转困难"),
    ("illness", "家人住院，医疗支出增加"),
    ("other_debts", "多头借贷，还款压力大"),
    ("family", "家庭变故"),
]
TALKING_POINTS = "核实近况与收入；说明逾期影响；了解还款意愿；提出分期或延期方案。"


def _at(tz: ZoneInfo, days: int, rng: random.Random) -> dt.datetime:
    """A daytime moment ``days`` from today (negative: past) in the borrower's time zone."""
    day = timezone.localdate(timezone=tz) + dt.timedelta(days=days)
    return dt.datetime.combine(day, dt.time(rng.randint(9, 17), rng.choice((0, 15, 30, 45))), tzinfo=tz)


def _event(case: Case, actor: User, kind: str, when: dt.datetime, payload: dict) -> None:
    event = CaseEvent.objects.create(case=case, actor=actor, kind=kind, payload=payload)
    CaseEvent.objects.filter(pk=event.pk).update(created_at=when)


def _attempts(case: Case, collector: User, tz: ZoneInfo, rng: random.Random, phone: str) -> None:
    results = [ContactAttempt.Result.NO_ANSWER, ContactAttempt.Result.BUSY, ContactAttempt.Result.ANSWERED]
    for offset in sorted(rng.sample(range(2, 12), rng.randint(1, 3)), reverse=True):
        when = _at(tz, -offset, rng)
        result = rng.choice(results)
        attempt = ContactAttempt.objects.create(
            case=case,
            actor=collector,
            channel=ContactAttempt.Channel.CALL,
            party=Party.BORROWER,
            phone_number=phone,
            result=result,
            attempted_at=when,
        )
        payload = {"attempt": attempt.pk, "channel": "call", "party": "borrower", "result": result}
        _event(case, collector, CaseEvent.Kind.CONTACT_ATTEMPT, when, payload)
        if attempt.is_successful:
            DelinquentAccount.objects.filter(pk=case.account_id).update(last_contact_at=when)


def _plan(case: Case, collector: User, tz: ZoneInfo, rng: random.Random, complete: bool) -> VisitPlan:
    reason = rng.choice(REASONS)[1]
    planned_at = _at(tz, rng.randint(0, 3), rng) if complete or rng.random() < 0.5 else None
    plan = VisitPlan.objects.create(
        case=case,
        contact_verified=True,
        overdue_reason=reason,
        history_reviewed=complete or rng.random() < 0.5,
        talking_points=TALKING_POINTS if complete else "",
        planned_at=planned_at,
        address=case.account.borrower.addresses.first(),
        updated_by=collector,
    )
    _event(case, collector, CaseEvent.Kind.PREPARATION, _at(tz, -1, rng), {"checklist_complete": plan.ready})
    return plan


def _visit(case: Case, collector: User, tz: ZoneInfo, rng: random.Random, outcome: str, key: str) -> Visit:
    checked_in = _at(tz, -rng.randint(1, 4), rng)
    address = case.account.borrower.addresses.first()
    income = Decimal(rng.randrange(3000, 20000, 100))
    code, text = rng.choice(REASONS)
    visit = Visit.objects.create(
        case=case,
        collector=collector,
        idempotency_key=key,
        checked_in_at=checked_in,
        checked_out_at=checked_in + dt.timedelta(minutes=rng.randint(20, 70)),
        lat=address.lat if address else None,
        lng=address.lng if address else None,
        accuracy_m=Decimal(rng.randint(5, 40)) if address and address.has_position else None,
        geo_status=Visit.GeoStatus.OK if address and address.has_position else Visit.GeoStatus.UNAVAILABLE,
        identity_confirmed=True,
        met=Party.BORROWER,
        monthly_income=income,
        monthly_expenses=(income * Decimal(rng.uniform(0.4, 0.7))).quantize(Decimal("0.01")),
        other_debt_payments=Decimal(rng.randrange(0, 3000, 100)),
        overdue_reason=code,
        overdue_reason_text=text,
        attitude=rng.choice(["cooperative", "cooperative", "hesitant", "resistant"]),
        outcome=outcome,
        notes="本人在家，已说明来意。",
    )
    _event(
        case, collector, CaseEvent.Kind.VISIT, checked_in, {"visit": visit.pk, "outcome": outcome, "met": "borrower"}
    )
    DelinquentAccount.objects.filter(pk=case.account_id).update(last_contact_at=checked_in)
    return visit


def prepare(*, case: Case, collector: User, rng: random.Random, complete: bool) -> VisitPlan:
    """The calls before a visit and the visit preparation, done while the case is in preparation;
    ``complete`` makes the plan ready, as the move to visit requires."""
    tz = ZoneInfo(case.account.branch.timezone or settings.TIME_ZONE)
    phone = case.account.borrower.phones.values_list("number", flat=True).first() or ""
    _attempts(case, collector, tz, rng, phone)
    return _plan(case, collector, tz, rng, complete=complete)


def enrich(*, case: Case, collector: User, rng: random.Random) -> None:
    """Give a walked demo case (prepared with ``prepare``) the visit and next action its stage implies."""
    plan = VisitPlan.objects.filter(case=case).first()
    if case.stage == Stage.SCREENING or plan is None:
        return
    tz = ZoneInfo(case.account.branch.timezone or settings.TIME_ZONE)
    next_action, due = "", None
    if case.stage in (Stage.PREPARATION, Stage.VISIT):
        next_action = NEXT_STEPS[Stage.VISIT] if plan.planned_at else NEXT_STEPS[Stage.PREPARATION]
        due = plan.planned_at or _at(tz, rng.randint(0, 2), rng)
    elif case.stage in (Stage.NEGOTIATION, Stage.FOLLOW_UP, Stage.CLOSED):
        outcome = rng.choice([Visit.Outcome.AGREED_PLAN, Visit.Outcome.PROMISED])
        key = f"{rng.getrandbits(128):032x}"
        _visit(case, collector, tz, rng, outcome, key)
        VisitPlan.objects.filter(pk=plan.pk).update(planned_at=None)
        if case.stage == Stage.NEGOTIATION:
            next_action, due = NEXT_STEPS[Stage.NEGOTIATION], _at(tz, rng.randint(0, 2), rng)
        elif case.stage == Stage.FOLLOW_UP:
            next_action, due = NEXT_STEPS[Stage.FOLLOW_UP], _at(tz, rng.randint(1, 10), rng)
    Case.objects.filter(pk=case.pk).update(next_action=next_action, next_action_due=due)
    case.next_action, case.next_action_due = next_action, due
