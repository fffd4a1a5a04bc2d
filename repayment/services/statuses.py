"""The one writer of each status: promises, instalments and plans move only along their model's ``MOVES`` table.

A writer takes the rows to move (a queryset, or ids) and the from → to pair (or several sources, each of which
must be allowed). The UPDATE filters on the from-status, so it is its own compare-and-set: a row another writer
moved meanwhile is left as it is and not counted. A move not in the table is refused before anything is
written. Each returns the number of rows moved; ``changes`` are other columns written in the same UPDATE."""

from collections.abc import Iterable

from django.db.models import Model, QuerySet
from django.utils.translation import gettext as _

from collections_app.exceptions import TransitionNotAllowed
from collections_app.services.bulk_rows import id_list
from repayment.models import Instalment, PromiseToPay, RepaymentPlan


class StatusMoveRefused(TransitionNotAllowed):
    """The from → to pair is not in the model's table of allowed moves."""


def _move(model: type[Model], rows: QuerySet | Iterable[int], source: str | Iterable[str], target: str, changes) -> int:
    sources = [source] if isinstance(source, str) else list(source)
    for one in sources:
        if target not in model.MOVES.get(one, ()):
            raise StatusMoveRefused(
                _("A %(model)s cannot move from %(source)s to %(target)s.")
                % {
                    "model": model._meta.verbose_name,
                    "source": model.Status(one).label,
                    "target": model.Status(target).label,
                }
            )
    if "status" in changes:
        raise ValueError("give the status as the target, not as a change")
    if not isinstance(rows, QuerySet):
        rows = model.objects.filter(pk__in=id_list(rows))
    rows = rows.filter(status=sources[0]) if len(sources) == 1 else rows.filter(status__in=sources)
    return rows.update(status=target, **changes)


def promise_status_move(*, rows: QuerySet | Iterable[int], source: str | Iterable[str], target: str, **changes) -> int:
    return _move(PromiseToPay, rows, source, target, changes)


def instalment_status_move(
    *, rows: QuerySet | Iterable[int], source: str | Iterable[str], target: str, **changes
) -> int:
    return _move(Instalment, rows, source, target, changes)


def plan_status_move(*, rows: QuerySet | Iterable[int], source: str | Iterable[str], target: str, **changes) -> int:
    return _move(RepaymentPlan, rows, source, target, changes)
