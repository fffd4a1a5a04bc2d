"""What repayment adds to the case pages (registered at start-up by ``RepaymentConfig.ready``)."""

from django.db.models import Count

from collections_app.aging import local_today
from collections_app.panels import CasePanel, register_case_panel, register_case_rows
from repayment.models import PromiseToPay


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


def register() -> None:
    # The panel reads its data through the ``repayment_panel`` tag (repayment.selectors.case_panel).
    register_case_panel(CasePanel(name="repayment", template="repayment/_case_panel.html", order=10))
    register_case_rows("repayment.promises_due", promises_due)
