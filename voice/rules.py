"""The conduct-complaint hold: a collector named in an open conduct complaint makes no field visit on
that case until the supervisor decides (resolves the complaint). Registered with the core's visit holds
(``collections_app.rules.register_visit_hold``) so ``visits.visit_log`` refuses the visit without the
visits app knowing about complaints."""

from django.utils.translation import gettext as _

from voice.models import Complaint

CONDUCT_HOLD = "conduct_complaint_hold"


def conduct_complaint_hold(*, case, actor):
    held = Complaint.objects.filter(
        case=case, category=Complaint.Category.CONDUCT, collector_named=actor, resolved_at=None
    ).exists()
    if not held:
        return None
    return CONDUCT_HOLD, _(
        "A conduct complaint names you on this case: field visits are paused until the supervisor resolves it."
    )


def named_in_conduct_complaint(*, collector_id: int, since) -> bool:
    """Registered as a conduct source (``collections_app.rules.register_conduct_source``): quality samples the
    visits of a collector named in a conduct complaint received since ``since`` at its higher rate."""
    return Complaint.objects.filter(
        category=Complaint.Category.CONDUCT, collector_named_id=collector_id, created_at__gte=since
    ).exists()
