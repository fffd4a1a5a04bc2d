"""Declared vs verified finances: record a declaration, attach evidence to a figure, mark a figure verified
or unverified. Every write is atomic, under the case lock, audited and on the case's timeline."""

from collections.abc import Iterable
from decimal import Decimal

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from collections_app.exceptions import DoorstepError
from collections_app.models import Case, User
from collections_app.services.audit import audit_log
from collections_app.services.authority import case_lock, require_open_case
from collections_app.services.cases import case_event_add
from collections_app.services.uploads import Staging, staged
from repayment.models import KIND_CATEGORY, DeclaredFigure, FinanceEvidence, FinancialDeclaration
from repayment.services.common import require_field_actor, require_negotiable
from visits import photos as photo_rules
from visits.models import Visit

EVENT_FINANCES = "finances"
MAX_FIGURES = 30
MAX_AMOUNT = Decimal("99999999999999.99")


class FinancesRefused(DoorstepError):
    pass


def _check_figures(figures: list[dict]) -> list[dict]:
    if not figures:
        raise FinancesRefused(_("Declare at least one monthly figure (income, an expense or a debt)."))
    if len(figures) > MAX_FIGURES:
        raise FinancesRefused(_("At most %(n)s figures in one declaration.") % {"n": MAX_FIGURES})
    clean = []
    for row in figures:
        kind, amount = row.get("kind"), row.get("amount")
        if kind not in KIND_CATEGORY:
            raise FinancesRefused(_("Unknown kind of figure: %(kind)s.") % {"kind": kind})
        if not isinstance(amount, Decimal) or not amount.is_finite() or amount < 0 or amount > MAX_AMOUNT:
            raise FinancesRefused(_("A monthly figure is an amount of zero or more."))
        employer = (row.get("employer") or "").strip()
        if employer and kind != DeclaredFigure.Kind.SALARY:
            raise FinancesRefused(_("An employer is named for a salary only."))
        clean.append({"kind": kind, "amount": amount.quantize(Decimal("0.01")), "employer": employer[:200]})
    return clean


@transaction.atomic
def declaration_record(
    *,
    case: Case,
    actor: User,
    source: str,
    figures: Iterable[dict],
    visit: Visit | None = None,
    assets_seen: Iterable[str] = (),
    note: str = "",
    idempotency_key: str | None = None,
) -> tuple[FinancialDeclaration, bool]:
    """Record what the borrower declares a month: ``figures`` are ``{"kind", "amount", "employer"}``.
    Returns ``(declaration, created)``; a replay of ``idempotency_key`` returns the first one."""
    case_lock(case, require_open=False)
    if idempotency_key:
        existing = FinancialDeclaration.objects.filter(idempotency_key=idempotency_key, case=case).first()
        if existing:
            return existing, False
        if FinancialDeclaration.objects.filter(idempotency_key=idempotency_key).exists():
            raise FinancesRefused(_("This form was already used for another case; reload the page."))
    require_open_case(case)
    require_field_actor(case, actor)
    require_negotiable(case)
    if source not in FinancialDeclaration.Source.values:
        raise FinancesRefused(_("Say where the figures were declared: at the visit or in negotiation."))
    if visit is not None and visit.case_id != case.pk:
        raise FinancesRefused(_("That visit is not one of this case's."))
    assets = sorted(set(assets_seen))
    if any(asset not in FinancialDeclaration.Asset.values for asset in assets):
        raise FinancesRefused(_("Unknown kind of asset."))
    rows = _check_figures(list(figures))
    declaration = FinancialDeclaration.objects.create(
        case=case,
        source=source,
        visit=visit,
        assets_seen=assets,
        note=note.strip()[:500],
        recorded_by=actor,
        idempotency_key=idempotency_key or None,
    )
    DeclaredFigure.objects.bulk_create(
        DeclaredFigure(declaration=declaration, category=KIND_CATEGORY[row["kind"]], **row) for row in rows
    )
    summary = [{"kind": row["kind"], "amount": row["amount"]} for row in rows]
    case_event_add(
        case=case,
        actor=actor,
        kind=EVENT_FINANCES,
        payload={"action": "declare", "declaration": declaration.pk, "figures": len(rows)},
    )
    audit_log(
        actor=actor,
        action="finances.declare",
        obj=declaration,
        changes={"case": case.pk, "source": source, "visit": visit.pk if visit else None, "figures": summary,
                 "assets_seen": assets},
    )  # fmt: skip
    return declaration, True


def _figure_locked(figure: DeclaredFigure) -> DeclaredFigure:
    case = figure.declaration.case
    case_lock(case)
    fresh = DeclaredFigure.objects.select_for_update().get(pk=figure.pk)
    fresh.declaration = figure.declaration
    return fresh


def evidence_attach(*, figure: DeclaredFigure, actor: User, kind: str, upload) -> FinanceEvidence:
    """Attach a photo of a document to a figure (JPEG, PNG or WebP under the visit photo cap); its
    SHA-256 goes into the case's hash chain. The file is staged until the row commits."""
    if kind not in FinanceEvidence.Kind.values:
        raise FinancesRefused(_("Say what the document is: payslip, bank statement, benefit letter or other."))
    info = photo_rules.inspect_photo(upload)
    with staged() as staging:
        return _evidence_create(figure=figure, actor=actor, kind=kind, upload=upload, info=info, staging=staging)


@transaction.atomic
def _evidence_create(*, figure, actor, kind, upload, info, staging: Staging) -> FinanceEvidence:
    figure = _figure_locked(figure)
    case = figure.declaration.case
    require_field_actor(case, actor)
    evidence = FinanceEvidence(
        figure=figure,
        kind=kind,
        content_type=info.content_type,
        size=upload.size,
        width=info.width,
        height=info.height,
        sha256=photo_rules.sha256_of(upload),
        uploaded_by=actor,
    )
    staging.put(evidence.file, f"evidence.{info.extension}", upload)
    evidence.save()
    payload = {"action": "evidence", "figure": figure.pk, "kind": kind, "sha256": evidence.sha256}
    case_event_add(case=case, actor=actor, kind=EVENT_FINANCES, payload=payload)
    audit_log(actor=actor, action="finances.evidence", obj=evidence, changes={"case": case.pk, **payload})
    return evidence


@transaction.atomic
def figure_verify(
    *,
    figure: DeclaredFigure,
    actor: User,
    evidence: FinanceEvidence,
    verified_amount: Decimal | None = None,
    note: str = "",
) -> DeclaredFigure:
    """Mark a figure verified with one of its evidence items; ``verified_amount`` is what the document
    shows a month (absent: the declared amount)."""
    figure = _figure_locked(figure)
    case = figure.declaration.case
    require_field_actor(case, actor)
    if evidence.figure_id != figure.pk:
        raise FinancesRefused(_("Verify a figure with evidence attached to that figure."))
    amount = figure.amount if verified_amount is None else verified_amount
    if not amount.is_finite() or amount < 0 or amount > MAX_AMOUNT:
        raise FinancesRefused(_("A monthly figure is an amount of zero or more."))
    before = {"status": figure.status, "verified_amount": figure.verified_amount, "evidence": figure.evidence_id}
    figure.status = DeclaredFigure.Status.VERIFIED
    figure.verified_amount = amount.quantize(Decimal("0.01"))
    figure.evidence = evidence
    figure.verified_by, figure.verified_at = actor, timezone.now()
    figure.verification_note = note.strip()[:500]
    figure.save(
        update_fields=["status", "verified_amount", "evidence", "verified_by", "verified_at", "verification_note"]
    )
    after = {"status": figure.status, "verified_amount": figure.verified_amount, "evidence": evidence.pk}
    _verification_written(figure, actor, "verify", before, after)
    return figure


@transaction.atomic
def figure_unverify(*, figure: DeclaredFigure, actor: User, note: str) -> DeclaredFigure:
    """Mark a figure unverified (the evidence does not hold, or was read wrong): say why."""
    if not note.strip():
        raise FinancesRefused(_("Say why the figure is unverified."))
    figure = _figure_locked(figure)
    case = figure.declaration.case
    require_field_actor(case, actor)
    before = {"status": figure.status, "verified_amount": figure.verified_amount, "evidence": figure.evidence_id}
    figure.status = DeclaredFigure.Status.UNVERIFIED
    figure.verified_amount, figure.evidence = None, None
    figure.verified_by, figure.verified_at = actor, timezone.now()
    figure.verification_note = note.strip()[:500]
    figure.save(
        update_fields=["status", "verified_amount", "evidence", "verified_by", "verified_at", "verification_note"]
    )
    after = {"status": figure.status, "verified_amount": None, "evidence": None}
    _verification_written(figure, actor, "unverify", before, after)
    return figure


def _verification_written(figure: DeclaredFigure, actor: User, action: str, before: dict, after: dict) -> None:
    case = figure.declaration.case
    payload = {"action": action, "figure": figure.pk, "kind": figure.kind}
    case_event_add(case=case, actor=actor, kind=EVENT_FINANCES, payload=payload)
    audit_log(
        actor=actor,
        action=f"finances.{action}",
        obj=figure,
        changes={"case": case.pk, "before": before, "after": after, "note": figure.verification_note},
    )
