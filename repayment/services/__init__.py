"""Repayment writes: promises, plans, payments and the follow-up engine (every write atomic and audited)."""

from repayment.services.followups import followup_evaluate, followups_sweep
from repayment.services.payments import apply_held_credit, followups_schedule_care, payment_record, payment_record_once
from repayment.services.plans import (
    plan_approve,
    plan_cancel,
    plan_propose,
    plan_propose_once,
    plan_reject,
    plan_submit,
)
from repayment.services.promises import promise_cancel, promise_create, promise_create_once

__all__ = [
    "apply_held_credit",
    "followup_evaluate",
    "followups_schedule_care",
    "followups_sweep",
    "payment_record",
    "payment_record_once",
    "plan_approve",
    "plan_cancel",
    "plan_propose",
    "plan_propose_once",
    "plan_reject",
    "plan_submit",
    "promise_cancel",
    "promise_create",
    "promise_create_once",
]
