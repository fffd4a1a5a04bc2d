"""Champion/challenger: a new case is given a strategy as soon as it is committed."""

from django.db import transaction


def assign_new_case(sender, instance, created, **kwargs):
    if not created or kwargs.get("raw"):
        return
    from risk.strategies import strategy_assign

    case_id = instance.pk
    # robust: a failed assignment is logged and leaves the case unassigned; the case is already committed
    # and the request that opened it must not fail for it.
    transaction.on_commit(lambda: strategy_assign(case_id=case_id), robust=True)
