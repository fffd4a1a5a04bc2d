"""What repayment adds to the case pages (registered at start-up by ``RepaymentConfig.ready``)."""

from django.db.models import Count
from django.utils.translation import gettext as _

from collections_app.aging import local_today
from collections_app.panels import CasePanel, register_case_panel, register_case_rows, register_event_describer
from repayment.discrepancies import recent_payments_total
from repayment.models import DeclaredFigure, PromiseToPay
from repayment.services.finances import EVENT_FINANCES


def promises_due(cases: list) -> None:
    """Promises to pay still pending whose due date is today or earlier, per case (one query a page)."""
    counts = {}
    if cases:
        counts = dict(
            PromiseToPay.objects.filter(
                case_id__in=[case.pk for case in cases],
                status=PromiseToPay.Status.PENDING,
                due_date__lte=local_today(),
            )
            .values_list("case_id")
            .annotate(n=Count("id"))
            .order_by()
        )
    for case in cases:
        case.promises_due = counts.get(case.pk, 0)


def describe_finances(payload: dict) -> str:
    action = payload.get("action")
    if action == "declare":
        return _("Monthly figures declared (%(n)s).") % {"n": payload.get("figures", 0)}
    kind = payload.get("kind") or ""
    label = str(DeclaredFigure.Kind(kind).label) if kind in DeclaredFigure.Kind.values else kind
    if action == "evidence":
        return _("Evidence attached to %(kind)s.") % {"kind": label}
    if action == "verify":
        return _("%(kind)s verified.") % {"kind": label}
    return _("%(kind)s marked unverified.") % {"kind": label}


def register() -> None:
    # The panel reads its data through the ``repayment_panel`` tag (repayment.selectors.case_panel).
    register_case_panel(CasePanel(name="repayment", template="repayment/_case_panel.html", order=10))
    # Read through the ``finances_panel`` tag (repayment.selectors.finances_overview).
    register_case_panel(
        CasePanel(
            name="finances",
            template="repayment/_finances_panel.html",
            order=11,
            annotations=lambda *, user: {"recent_payments_total": recent_payments_total()},
        )
    )
    register_event_describer(EVENT_FINANCES, describe_finances)
    register_case_rows("repayment.promises_due", promises_due)
