"""What the legal handoff adds to the case page (registered at start-up by ``EvidenceConfig.ready``)."""

from django.db.models import OuterRef
from django.utils.translation import gettext as _

from collections_app.json_rows import as_datetime, decode_rows, json_rows
from collections_app.models import CloseReason, Stage, User
from collections_app.panels import CasePanel, register_case_panel, register_event_describer
from collections_app.workflow import find_transition
from evidence import selectors
from evidence.models import EvidencePack
from evidence.services import PACK_EVENT

_PACK_FIELDS = ("id", "built_at", "language", "chain_head", "chain_ok", "pdf_sha256", "built_by_id")


def evidence_annotations(*, user) -> dict:
    """For a user who handles packs, the case's evidence packs read with the case."""
    if not selectors.may_handle_packs(user):
        return {}
    packs = selectors.packs_visible_to(user).filter(case=OuterRef("pk"))
    fields = {name: name for name in _PACK_FIELDS}
    return {"evidence_pack_rows": json_rows(packs, parent="case", **fields, built_by_username="built_by__username")}


def _packs(user, case) -> list[EvidencePack]:
    if not hasattr(case, "evidence_pack_rows"):  # not read with the case
        return selectors.case_packs(user, case)
    packs = [
        EvidencePack(
            pk=row["id"],
            case=case,
            built_at=as_datetime(row["built_at"]),
            language=row["language"],
            chain_head=row["chain_head"],
            chain_ok=bool(row["chain_ok"]),  # SQLite writes a boolean as 0 or 1
            pdf_sha256=row["pdf_sha256"],
            built_by=User(pk=row["built_by_id"], username=row["built_by_username"]),
        )
        for row in decode_rows(case.evidence_pack_rows)
    ]
    return sorted(packs, key=lambda pack: (pack.built_at, pack.pk), reverse=True)


def evidence_context(*, user, case, can_act: bool) -> dict:
    if not selectors.may_handle_packs(user):
        return {"evidence_visible": False}
    return {
        "evidence_visible": True,
        "evidence_packs": _packs(user, case),
        "evidence_can_escalate": find_transition(case, user, Stage.CLOSED, CloseReason.LEGAL) is not None,
        "evidence_escalated": case.close_reason == CloseReason.LEGAL,
    }


def describe_pack(payload: dict) -> str:
    return _("Evidence pack built · PDF SHA-256 %(digest)s…") % {"digest": str(payload.get("pdf_sha256", ""))[:16]}


def register() -> None:
    register_case_panel(
        CasePanel(
            name="evidence",
            template="evidence/_case_evidence.html",
            order=90,
            context=evidence_context,
            annotations=evidence_annotations,
        )
    )
    register_event_describer(PACK_EVENT, describe_pack)
