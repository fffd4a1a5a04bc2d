"""Repayment plans: propose (with the schedule), submit, approve/reject (maker-checker), cancel."""

import datetime as dt
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from collections_app.exceptions import CaseRuleError, DoorstepError, NotPermitted, TransitionNotAllowed
from collections_app.models import Case, CaseEvent, Notification, User
from collections_app.services.audit import audit_log
from collections_app.services.authority import case_lock, require_open_case
from collections_app.services.cases import case_event_add
from collections_app.workflow import SUPERVISOR, actor_role
from repayment import conf
from repayment.models import FollowUpCheck, Instalment, RepaymentPlan
from repayment.schedule import build_schedule, term_months
from repayment.selectors import plan_fit
from repayment.services.common import (
    PLAN_APPROVAL_TEXT,
    cancel_checks,
    deadline_at,
    message_params,
    move_to_follow_up,
    notify,
    reminder_at,
    require_field_actor,
    require_negotiable,
    schedule_check,
)
from repayment.services.payments import apply_held_credit
from repayment.services.statuses import instalment_status_move, plan_status_move

Kind, Status = RepaymentPlan.Kind, RepaymentPlan.Status
MAX_FIRST_DUE_DAYS = 366


class PlanRefused(DoorstepError):
    pass


def approval_reasons(*, base_amount: Decimal, waiver_amount: Decimal, term: int) -> list[str]:
    """Why a plan needs a supervisor: a waiver or a term beyond the configured thresholds."""
    reasons = []
    if base_amount > 0 and waiver_amount * 100 / base_amount > conf.waiver_approval_percent():
        reasons.append("waiver")
    if term > conf.term_approval_months():
        reasons.append("term")
    return reasons


def _validate(*, case: Case, kind: str, base_amount, waiver_amount, count: int, deferral: int, first_due) -> None:
    today = timezone.localdate()
    if kind not in Kind.values:
        raise PlanRefused(_("Unknown plan kind."))
    if base_amount <= 0:
        raise PlanRefused(_("The plan must cover an amount above zero."))
    if base_amount > case.account.outstanding_balance:
        raise PlanRefused(
            _("The plan covers more than the outstanding balance of %(balance)s.")
            % {"balance": case.account.outstanding_balance}
        )
    if waiver_amount < 0 or waiver_amount >= base_amount:
        raise PlanRefused(_("The waiver must be at least zero and less than the amount covered."))
    if waiver_amount > 0 and kind != Kind.SETTLEMENT:
        raise PlanRefused(_("Only a settlement has a waiver."))
    if kind == Kind.DEFERRAL and deferral < 1:
        raise PlanRefused(_("A deferral postpones the first payment by at least one month."))
    if kind != Kind.DEFERRAL and deferral:
        raise PlanRefused(_("Only a deferral plan postpones the schedule."))
    if first_due < today or first_due > today + dt.timedelta(days=MAX_FIRST_DUE_DAYS):
        raise PlanRefused(_("The first due date must be between today and one year from now."))


def plan_propose(**values) -> RepaymentPlan:
    """Create a plan (``plan_propose_once``) and return it. Takes the keywords of ``plan_propose_once``."""
    return plan_propose_once(**values)[0]


@transaction.atomic
def plan_propose_once(
    *,
    case: Case,
    actor: User,
    kind: str,
    base_amount: Decimal,
    first_due_date: dt.date,
    instalment_count: int = 1,
    deferral_months: int = 0,
    waiver_amount: Decimal = Decimal("0.00"),
    grace_days: int | None = None,
    note: str = "",
    submit: bool = True,
    idempotency_key: str | None = None,
) -> tuple[RepaymentPlan, bool]:
    """Create a plan with its schedule; ``submit`` sends it for approval or activates it.
    Returns ``(plan, created)``; a replay of ``idempotency_key`` returns the first plan."""
    case_lock(case, require_open=False)
    if idempotency_key:
        existing = RepaymentPlan.objects.filter(idempotency_key=idempotency_key, case=case).first()
        if existing:
            return existing, False
    require_open_case(case)
    require_field_actor(case, actor)
    require_negotiable(case)
    _validate(
        case=case,
        kind=kind,
        base_amount=base_amount,
        waiver_amount=waiver_amount,
        count=instalment_count,
        deferral=deferral_months,
        first_due=first_due_date,
    )
    amount = base_amount - waiver_amount
    schedule = build_schedule(
        amount=amount, count=instalment_count, first_due=first_due_date, deferral_months=deferral_months
    )
    reasons = approval_reasons(
        base_amount=base_amount,
        waiver_amount=waiver_amount,
        term=term_months(count=instalment_count, deferral_months=deferral_months),
    )
    try:
        with transaction.atomic():
            plan = RepaymentPlan.objects.create(
                case=case,
                kind=kind,
                base_amount=base_amount,
                waiver_amount=waiver_amount,
                amount=amount,
                instalment_count=instalment_count,
                deferral_months=deferral_months,
                first_due_date=first_due_date,
                grace_days=conf.grace_days() if grace_days is None else grace_days,
                requires_approval=bool(reasons),
                approval_reasons=reasons,
                note=note.strip(),
                created_by=actor,
                idempotency_key=idempotency_key or None,
            )
    except IntegrityError as exc:
        if idempotency_key and RepaymentPlan.objects.filter(idempotency_key=idempotency_key).exists():
            raise CaseRuleError(
                _("This idempotency key was already used for another plan."), rule="idempotency_key", conflict=True
            ) from exc
        raise PlanRefused(
            _("This case already has a plan in draft, awaiting approval or active; cancel it first.")
        ) from exc
    Instalment.objects.bulk_create(
        Instalment(plan=plan, seq=row.seq, due_date=row.due_date, amount=row.amount) for row in schedule
    )
    payload = {"plan": plan.pk, "kind": kind, "amount": str(amount), "waiver": str(waiver_amount), "status": "draft"}
    case_event_add(case=case, actor=actor, kind=CaseEvent.Kind.PLAN, payload=payload)
    audit_log(actor=actor, action="plan.propose", obj=plan, changes={**payload, "approval": reasons})
    if submit:
        plan = plan_submit(plan=plan, actor=actor)
    return plan, True


def _set_status(plan: RepaymentPlan, source: str, target: str, **changes) -> None:
    """Compare-and-set on the status: of two concurrent decisions the stale one is refused."""
    if not plan_status_move(rows=[plan.pk], source=source, target=target, **changes):
        raise TransitionNotAllowed(_("The plan changed meanwhile; reload the page."))
    for field, value in {"status": target, **changes}.items():
        setattr(plan, field, value)


def _cancel_pending_instalments(plan: RepaymentPlan) -> None:
    instalment_status_move(
        rows=plan.instalments.all(), source=Instalment.Status.PENDING, target=Instalment.Status.CANCELLED
    )


def _plan_event(plan: RepaymentPlan, actor, action: str, **extra) -> None:
    payload = {"plan": plan.pk, "status": plan.status, **extra}
    case_event_add(case=plan.case, actor=actor, kind=CaseEvent.Kind.PLAN, payload=payload)
    audit_log(actor=actor, action=f"plan.{action}", obj=plan, changes=payload)


@transaction.atomic
def plan_submit(*, plan: RepaymentPlan, actor: User) -> RepaymentPlan:
    case_lock(plan.case)
    require_field_actor(plan.case, actor)
    if plan.status != Status.DRAFT:
        raise TransitionNotAllowed(_("Only a draft plan can be submitted."))
    if plan.requires_approval:
        _set_status(plan, Status.DRAFT, Status.PENDING_APPROVAL)
        _plan_event(plan, actor, "submit", reasons=plan.approval_reasons)
        supervisor = plan.case.team.supervisor
        if supervisor is not None and supervisor.pk != plan.created_by_id:
            values = {"case": plan.case_id, "kind": plan.get_kind_display(), "amount": plan.amount}
            params = message_params(values, plan.case.account.currency)
            params["kind"] = Notification.choice_value(RepaymentPlan, "kind", plan.kind)
            notify(
                recipient=supervisor,
                case=plan.case,
                kind="plan_approval",
                message=_(PLAN_APPROVAL_TEXT) % values,
                template=PLAN_APPROVAL_TEXT,
                params=params,
                dedupe_key=f"plan-approval:{plan.pk}",
            )
        return plan
    return _activate(plan, actor, source=Status.DRAFT)


def _activate(plan: RepaymentPlan, actor, *, source: str) -> RepaymentPlan:
    if plan.first_due_date < timezone.localdate():
        raise PlanRefused(_("The first due date has passed; propose a new plan."))
    _set_status(plan, source, Status.ACTIVE, activated_at=timezone.now())
    case = plan.case
    now = timezone.now()
    for instalment in plan.instalments.all():
        schedule_check(
            kind=FollowUpCheck.Kind.INSTALMENT_DUE,
            case=case,
            instalment=instalment,
            due_at=deadline_at(case, instalment.due_date, plan.grace_days),
            key=f"instalment_due:{instalment.pk}",
        )
        remind = reminder_at(case, instalment.due_date)
        if remind > now:
            schedule_check(
                kind=FollowUpCheck.Kind.REMINDER,
                case=case,
                instalment=instalment,
                due_at=remind,
                key=f"reminder:instalment:{instalment.pk}",
            )
    _plan_event(plan, actor, "activate")
    move_to_follow_up(case=case, actor=actor)
    apply_held_credit(case=case, actor=actor)
    plan.refresh_from_db()
    return plan


def _require_checker(plan: RepaymentPlan, actor: User) -> None:
    if actor_role(plan.case, actor) != SUPERVISOR:
        raise NotPermitted(_("Only the supervisor of the case's team can decide on a plan."))
    if plan.created_by_id == actor.pk:
        raise NotPermitted(
            _("You proposed this plan, so another supervisor must approve or reject it (maker-checker).")
        )
    if plan.status != Status.PENDING_APPROVAL:
        raise TransitionNotAllowed(_("This plan is not awaiting approval."))


@transaction.atomic
def plan_approve(*, plan: RepaymentPlan, actor: User, note: str = "") -> RepaymentPlan:
    case_lock(plan.case)
    plan.refresh_from_db(fields=["status"])
    _require_checker(plan, actor)
    fit = plan_fit(plan, with_flags=False)
    if fit.fits is False and not note.strip():
        raise PlanRefused(
            _("The instalment is above the borrower's monthly capacity: say in the note why you approve it.")
        )
    if fit.fits_verified is False and not note.strip():
        raise PlanRefused(
            _(
                "The instalment is above the borrower's verified monthly capacity (only verified income counts): "
                "say in the note why you approve it."
            )
        )
    plan.decided_by, plan.decided_at, plan.decision_note = actor, timezone.now(), note.strip()
    RepaymentPlan.objects.filter(pk=plan.pk).update(
        decided_by=actor, decided_at=plan.decided_at, decision_note=plan.decision_note
    )
    _plan_event(plan, actor, "approve", note=plan.decision_note)
    return _activate(plan, actor, source=Status.PENDING_APPROVAL)


@transaction.atomic
def plan_reject(*, plan: RepaymentPlan, actor: User, note: str) -> RepaymentPlan:
    case_lock(plan.case, require_open=False)
    plan.refresh_from_db(fields=["status"])
    _require_checker(plan, actor)
    if not note.strip():
        raise PlanRefused(_("Say why the plan is rejected."))
    now = timezone.now()
    _set_status(
        plan,
        Status.PENDING_APPROVAL,
        Status.CANCELLED,
        decided_by=actor,
        decided_at=now,
        decision_note=note.strip(),
        closed_at=now,
    )
    _cancel_pending_instalments(plan)
    _plan_event(plan, actor, "reject", note=note.strip())
    return plan


@transaction.atomic
def plan_cancel(*, plan: RepaymentPlan, actor: User, note: str = "") -> RepaymentPlan:
    case_lock(plan.case, require_open=False)
    plan.refresh_from_db(fields=["status"])
    require_field_actor(plan.case, actor)
    if plan.status not in RepaymentPlan.OPEN_STATUSES:
        raise TransitionNotAllowed(_("Only a draft, pending or active plan can be cancelled."))
    _set_status(plan, plan.status, Status.CANCELLED, closed_at=timezone.now())
    _cancel_pending_instalments(plan)
    cancel_checks(instalment__plan=plan, result="cancelled")
    _plan_event(plan, actor, "cancel", note=note.strip())
    return plan
