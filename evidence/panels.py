"""What the legal handoff adds to the case page (registered at start-up by ``EvidenceConfig.ready``)."""

from django.utils.translation import gettext as _

from collections_app.models import CloseReason, Stage
from collections_app.panels import CasePanel, register_case_panel, register_event_describer
from collections_app.workflow import find_transition
from evidence import selectors
from evidence.services import PACK_EVENT


def evidence_context(*, user, case, can_act: bool) -> dict:
    if not selectors.may_handle_packs(user):
        return {"evidence_visible": False}
    return {
        "evidence_visible": True,
        "evidence_packs": selectors.case_packs(user, case),
        "evidence_can_escalate": find_transition(case, user, Stage.CLOSED, CloseReason.LEGAL) is not None,
        "evidence_escalated": case.close_reason == CloseReason.LEGAL,
    }


def describe_pack(payload: dict) -> str:
    return _("Evidence pack built · PDF SHA-256 %(digest)s…") % {"digest": str(payload.get("pdf_sha256", ""))[:16]}


def register() -> None:
    register_case_panel(
        CasePanel(name="evidence", template="evidence/_case_evidence.html", order=90, context=evidence_context)
    )
    register_event_describer(PACK_EVENT, describe_pack)
