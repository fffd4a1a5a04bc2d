"""The PII reveal action: the full national ID or phone number, on request, audited."""

from django.shortcuts import render
from django.views.decorators.http import require_POST

from collections_app.models import BorrowerPhone
from collections_app.security import pii_reveal


@require_POST
def reveal(request, borrower_id: int, field: str):
    value = pii_reveal(actor=request.user, borrower_id=borrower_id, field=field)
    # A revealed phone number can be dialled straight away (the route's Call button reveals it), unless it
    # was marked wrong: a wrong number is never dialled.
    dial = (
        field.startswith("phone:")
        and not BorrowerPhone.objects.filter(pk=int(field[6:]), status__in=BorrowerPhone.DEAD).exists()
    )
    return render(request, "security/pii_revealed.html", {"value": value, "dial": dial})
