"""Repayment's guards on the case workflow, registered in the transition table at start-up."""

from django.utils.translation import gettext as _

from collections_app.exceptions import CaseRuleError
from collections_app.models import Case
from repayment.models import PromiseToPay, RepaymentPlan

AGREEMENT = "agreement_in_place"


def check_agreement(*, case: Case) -> None:
    """Negotiation → follow-up needs something to follow up: a pending promise to pay or an active plan."""
    promised = PromiseToPay.objects.filter(case=case, status=PromiseToPay.Status.PENDING).exists()
    if promised or RepaymentPlan.objects.filter(case=case, status=RepaymentPlan.Status.ACTIVE).exists():
        return
    raise CaseRuleError(
        _("Record a promise to pay or get a repayment plan approved before follow-up starts."), rule=AGREEMENT
    )
