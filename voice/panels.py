"""What complaints add to the case page (registered at start-up by ``VoiceConfig.ready``)."""

import datetime as dt

from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from collections_app.panels import CasePanel, register_case_panel, register_event_describer
from voice import selectors
from voice.models import Complaint
from voice.services import EVENT_COMPLAINT
from voice.services_link import EVENT_LINK


def complaints_context(*, user, case, can_act: bool) -> dict:
    return {
        "complaints": selectors.case_complaints(case),
        # A link, not the form inline: the form's collector choices would cost the page a query.
        "can_log_complaint": can_act and case.is_open,
    }


def _category_label(value) -> str:
    try:
        return str(Complaint.Category(value).label)
    except ValueError:
        return str(value or "")


def describe_complaint(payload: dict) -> str:
    actions = {"logged": _("logged"), "acknowledged": _("acknowledged"), "resolved": _("resolved")}
    return _("Complaint #%(no)s %(action)s · %(category)s") % {
        "no": payload.get("complaint", ""),
        "action": actions.get(payload.get("action"), payload.get("action", "")),
        "category": _category_label(payload.get("category")),
    }


def describe_borrower_link(payload: dict) -> str:
    action = payload.get("action", "")
    if action == "visit_rated":
        line = _("The borrower rated the visit %(rating)s/5") % {"rating": payload.get("rating", "")}
        return f"{line} · {payload['comment']}" if payload.get("comment") else line
    if action in ("callback_requested", "visit_requested"):
        asked = (
            _("The borrower asked for a call")
            if action == "callback_requested"
            else _("The borrower asked for a visit")
        )
        return " · ".join(filter(None, (asked, _when(payload), payload.get("window", ""))))
    lines = {
        "created": _("Self-service link created"),
        "revoked": _("Self-service link revoked"),
        "plan_confirmed": _("The borrower confirmed the plan"),
    }
    return str(lines.get(action, action))


def register() -> None:
    register_case_panel(
        CasePanel(name="voice.complaints", template="voice/_case_complaints.html", order=60, context=complaints_context)
    )
    register_event_describer(EVENT_COMPLAINT, describe_complaint)
    register_event_describer(EVENT_LINK, describe_borrower_link)


def _when(payload: dict) -> str:
    """The day and time range the borrower chose, in the reader's time zone and format ("" when they wrote words)."""
    try:
        starts = dt.datetime.fromisoformat(payload["starts"])
        ends = dt.datetime.fromisoformat(payload["ends"])
    except (KeyError, TypeError, ValueError):
        return ""
    starts, ends = timezone.localtime(starts), timezone.localtime(ends)
    return f"{date_format(starts, 'SHORT_DATETIME_FORMAT')} - {date_format(ends, 'TIME_FORMAT')}"
