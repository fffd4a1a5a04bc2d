"""Escalating a case to legal and building its evidence pack."""

import hashlib
import json

from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from collections_app import chain
from collections_app.exceptions import CaseRuleError, NotPermitted, TransitionNotAllowed
from collections_app.models import Case, ChainHead, CloseReason, Stage, User
from collections_app.services.audit import audit_log
from collections_app.services.authority import case_lock
from collections_app.services.cases import case_event_add, case_transition
from evidence import pdf
from evidence.models import EvidencePack
from evidence.selectors import pack_facts
from evidence.verify import file_sha256

SUMMARY_MIN = 20
PACK_EVENT = "evidence_pack"
# In the transition's payload: the language legal_escalate's form chose (other doors get the default).
PACK_LANGUAGE = "pack_language"


def _check_summary(summary: str) -> str:
    summary = summary.strip()
    if len(summary) < SUMMARY_MIN:
        raise CaseRuleError(
            _("Write a summary for legal of at least %(n)s characters: why the case goes to court.")
            % {"n": SUMMARY_MIN},
            rule="legal_summary",
        )
    return summary


def _may_build(actor: User, case: Case) -> bool:
    if actor.sees_everything:
        return True
    return actor.is_supervisor and case.team.supervisor_id == actor.pk


def legal_escalate(
    *, case: Case, actor: User, summary: str, language: str = EvidencePack.Language.ZH_HANS
) -> EvidencePack | None:
    """Close the case as escalated to legal with the required summary: the same move as the case page's
    "Close: legal", whose registered reaction (``legal_close_react``) builds the pack once the move commits.
    Returns the pack, or None while a caller's outer transaction has not committed yet."""
    summary = _check_summary(summary)
    payload = {PACK_LANGUAGE: language if language in EvidencePack.Language.values else EvidencePack.Language.ZH_HANS}
    case_transition(
        case=case, target=Stage.CLOSED, actor=actor, close_reason=CloseReason.LEGAL, note=summary, payload=payload
    )
    return case.evidence_packs.order_by("-built_at", "-id").first()


def legal_close_check(*, case: Case, actor: User | None, note: str, payload: dict) -> None:
    """Before any door closes a case as legal: the pack will need the summary (the transition's note)."""
    _check_summary(note)


def legal_close_react(*, case_id: int, actor_id: int | None, note: str, payload: dict, **_ignored) -> None:
    """After a close as legal committed, whichever door it came through: build the evidence pack."""
    case = Case.objects.select_related("team", "account").get(pk=case_id)
    actor = User.objects.get(pk=actor_id)
    language = payload.get(PACK_LANGUAGE) or EvidencePack.Language.ZH_HANS
    evidence_pack_build(case=case, actor=actor, summary=note, language=language)


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@transaction.atomic
def evidence_pack_build(*, case: Case, actor: User, summary: str, language: str) -> EvidencePack:
    """Build the PDF and its manifest from the case as it stands; the pack's own event then extends the chain."""
    if not _may_build(actor, case):
        raise NotPermitted(_("Only the case's supervisor or a manager may build an evidence pack."))
    if case.close_reason != CloseReason.LEGAL:
        raise TransitionNotAllowed(_("An evidence pack is built for a case escalated to legal."))
    summary = _check_summary(summary)
    if language not in EvidencePack.Language.values:
        language = EvidencePack.Language.ZH_HANS
    # Under the case's lock, taken first as every writer on the case takes it: no event can be added between
    # the seal and the pack's read, so the pack holds no event still waiting for the chain's beat task.
    case_lock(case, require_open=False)
    chain.seal_cases([case.pk])  # inside this transaction: the escalation's own event is in the pack
    chain.seal_audit()  # the audit head printed in the pack covers everything written before it
    report = chain.verify_case(case.pk)
    audit = ChainHead.objects.filter(key=chain.AUDIT).values_list("seq", "head_hash").first() or (0, "")
    facts = pack_facts(case.pk)
    built_at = timezone.now()
    with translation.override(language):
        data = pdf.render_pack(
            facts=facts, summary=summary, report=report, audit_head=audit, built_by=actor, built_at=built_at
        )
    name = f"evidence-case-{case.pk}.pdf"
    manifest = {
        "case": case.pk,
        "account": facts.case.account.account_no,
        "built_at": built_at.isoformat(),
        "built_by": actor.get_username(),
        "language": language,
        "files": [{"name": name, "sha256": _sha256(data), "size": len(data)}],
        "chain": {"key": report.key, "seq": report.head_seq, "head": report.head_hash, "verified": report.ok},
        "audit_chain": {"seq": audit[0], "head": audit[1]},
        "events": [{"id": e.pk, "seq": e.chain_seq, "hash": e.chain_hash} for e in facts.events],
        "photos": [
            {"id": p.pk, "visit": v.pk, "sha256": p.sha256, "file_sha256": file_sha256(p)}
            for v in facts.visits
            for p in v.photos.all()
        ],
    }
    manifest_bytes = json.dumps(manifest, ensure_ascii=False, indent=2, sort_keys=True).encode()
    pack = EvidencePack(
        case=case,
        built_by=actor,
        summary=summary,
        language=language,
        pdf_sha256=_sha256(data),
        manifest_sha256=_sha256(manifest_bytes),
        chain_seq=report.head_seq,
        chain_head=report.head_hash,
        chain_ok=report.ok,
    )
    pack.pdf.save(name, ContentFile(data), save=False)
    pack.manifest.save(f"evidence-case-{case.pk}.manifest.json", ContentFile(manifest_bytes), save=False)
    pack.save()
    digests = {"pdf_sha256": pack.pdf_sha256, "manifest_sha256": pack.manifest_sha256, "chain_head": pack.chain_head}
    case_event_add(case=case, actor=actor, kind=PACK_EVENT, payload={"pack": pack.pk, **digests})
    audit_log(actor=actor, action="evidence.pack", obj=pack, changes={"case": case.pk, **digests})
    return pack


def evidence_pack_downloaded(*, pack: EvidencePack, actor: User, part: str) -> None:
    audit_log(actor=actor, action=f"evidence.download_{part}", obj=pack, changes={"case": pack.case_id})
