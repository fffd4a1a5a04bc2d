"""The one authority for every write that touches a case: one lock order, checks on the fresh row.

Every service that writes to a case or to its account (a stage move, a payment, a visit, a contact
attempt, a promise or plan, the follow-up engine) takes its locks in this order, inside its own
transaction:

1. the case row (``case_lock``: ``SELECT … FOR UPDATE``), re-read, and the case's stage and
   ``is_open`` checked on that fresh row, never on a copy read before the transaction;
2. then the account row (``account_lock``);
3. then the case's own children (promises, instalments, plans, checks), each in id order.

Two writers on one case therefore queue on the case row instead of each holding one row the other
needs (the payment that locked the account and then updated the case, against the close that
updated the case and then the account, deadlocked). A write that finds the case closed meanwhile is
refused with ``CaseRuleError(rule="case_closed", conflict=True)``: nothing is written after
``closed_at``.
"""

from collections.abc import Iterable

from django.db import connection
from django.utils.translation import gettext as _

from collections_app.exceptions import CaseRuleError
from collections_app.models import Case, DelinquentAccount, Stage

CASE_CLOSED = "case_closed"
CASE_STAGE = "case_stage"


def case_lock(case: Case, *, require_open: bool = True) -> Case:
    """Lock ``case``'s row and refresh the caller's instance from it (its cached relations stay when the
    keys did not change); refuse when it was closed meanwhile. Call inside the write's transaction."""
    if not connection.in_atomic_block:
        raise RuntimeError("case_lock must run inside the write's transaction")
    fresh = Case.objects.select_for_update().get(pk=case.pk)
    for field in Case._meta.concrete_fields:
        value = getattr(fresh, field.attname)
        # Read the caller's value without loading a deferred field; a changed key drops its cached relation.
        if field.attname not in case.__dict__ or case.__dict__[field.attname] != value:
            setattr(case, field.attname, value)
    if require_open:
        require_open_case(case)
    return case


def cases_lock(case_ids: Iterable[int]) -> list[int]:
    """Lock many cases' rows in id order (the bulk writers' first lock); returns the ids found."""
    ids = sorted(set(case_ids))
    return list(Case.objects.select_for_update().filter(pk__in=ids).order_by("pk").values_list("pk", flat=True))


def account_lock(case: Case) -> DelinquentAccount:
    """Lock the case's account row: the second lock, always after the case's."""
    return DelinquentAccount.objects.select_for_update().get(pk=case.account_id)


def require_open_case(case: Case) -> None:
    if not case.is_open:
        raise CaseRuleError(
            _("Case #%(case)s was closed at %(closed)s; nothing more is recorded on it.")
            % {"case": case.pk, "closed": case.closed_at.isoformat(timespec="seconds") if case.closed_at else "—"},
            rule=CASE_CLOSED,
            conflict=True,
        )


def require_stage(case: Case, stages: Iterable[str], message: str) -> None:
    """The fresh row's stage must be one of ``stages``; a closed case is refused as closed (a conflict)."""
    require_open_case(case)
    if case.stage not in tuple(stages):
        raise CaseRuleError(message, rule=CASE_STAGE)


def stage_label(case: Case) -> str:
    return str(Stage(case.stage).label)
